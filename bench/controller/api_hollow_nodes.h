#pragma once

// Hollow nodes that speak the node protocol to the REST API
// (docs/node-protocol.md), for lb_bench_controller: each node registers with
// PUT /cluster/node/<n>/meta, follows GET /cluster/node/<n>/spec and reports
// heartbeats and pod statuses with PUT /cluster/node/<n>/status (every pod
// that appeared since its last report, in one request per node).
//
// Like a real agent each node holds the spec long-poll
// (?revision=N&timeout=25s); the 5 000 waiting requests are kept by one
// asynchronous I/O thread (one keep-alive connection per node), reports go
// through the shared blocking client from `threads` workers. With
// longPoll = false a node polls its spec every specPoll instead (the old
// mode, for comparison).

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
  bool longPoll = true;
  std::chrono::milliseconds longPollTimeout{25'000};
  std::chrono::milliseconds specPoll{1'000};  // without longPoll
  // For the long-poll connections (the blocking client is given separately).
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
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
  class Poller;
  void work(int worker);
  // A spec listing arrived for `n`: new pods become pending reports.
  bool onSpec(Node& n, const std::string& body, int64_t* revision);
  // One pass over a node: poll its spec when due, report when due.
  void step(Node& n, std::chrono::steady_clock::time_point now);
  Status report(Node& n);
  std::string statusJson() const;

  std::shared_ptr<client::Client> client_;
  ApiHollowOptions opt_;
  std::string statusJson_;  // the node status every report carries
  std::vector<std::unique_ptr<Node>> nodes_;
  std::atomic<uint32_t> nextIp_{0};
  std::atomic<int> reported_{0};
  std::atomic<size_t> known_{0};
  std::atomic<uint64_t> requests_{0}, failures_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  struct Io;
  std::unique_ptr<Io> io_;  // long-poll connections and their thread
};

}  // namespace lb::controller::testing
