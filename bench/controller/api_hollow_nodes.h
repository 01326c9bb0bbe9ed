#pragma once

// Hollow nodes that speak the node protocol to the REST API
// (docs/node-protocol.md), for lb_bench_controller: each node registers with
// PUT /cluster/node/<n>/meta, follows GET /cluster/node/<n>/spec and reports
// heartbeats and pod statuses with PUT /cluster/node/<n>/status (every pod
// that appeared since its last report, in one request per node).
//
// Unlike a real agent a hollow node polls its spec (every specPoll, spread
// over the nodes) instead of holding the long-poll: the API gives each
// long-poll a thread and caps connections at 1 024, so 5 000 waiting nodes
// do not fit in one API process (see docs/benchmarks.md).
//
// Nodes are split over `threads` workers that share one keep-alive client.

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "lastbackend/common/status.h"

namespace lb::controller::testing {

struct ApiHollowOptions {
  int nodes = 3;
  std::string prefix = "node-";
  int64_t cpu = 4000;       // millicores
  int64_t ram = 8LL << 30;  // bytes
  std::chrono::milliseconds heartbeatInterval{5'000};
  std::chrono::milliseconds specPoll{1'000};
  int threads = 8;
  std::set<std::string> failImages;
};

class ApiHollowCluster {
 public:
  ApiHollowCluster(std::shared_ptr<client::Client> client, ApiHollowOptions options);
  ~ApiHollowCluster();

  std::string nodeName(int i) const;
  // Registers every node and sends its first report (in parallel).
  Status registerAll();
  void start();
  void stop();

  int podsReported() const { return reported_.load(); }
  size_t podsKnown() const { return known_.load(); }
  uint64_t requests() const { return requests_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  struct Node;
  void work(int worker);
  // One pass over a node: poll its spec when due, report when due.
  void step(Node& n, std::chrono::steady_clock::time_point now);
  Status report(Node& n);
  std::string statusJson() const;

  std::shared_ptr<client::Client> client_;
  ApiHollowOptions opt_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::atomic<uint32_t> nextIp_{0};
  std::atomic<int> reported_{0};
  std::atomic<size_t> known_{0};
  std::atomic<uint64_t> requests_{0}, failures_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace lb::controller::testing
