#pragma once

// Hollow nodes: N simulated node agents for controller tests and the
// benchmark. Each registers (/cluster/node/<n>/info), heartbeats
// (/cluster/node/<n>/status, online, capacity, RFC 3339 time of the given
// clock), follows its pod manifests (/manifest/node/<n>/pod/...) and, a
// configurable delay after a pod appears, reports it Ready with a fake IP
// (or Error when its image is listed in failImages) by rewriting the pod's
// status with compare-and-swap — the same writes the REST API makes for
// PUT /cluster/node/<n>/status. A pod whose manifest goes is forgotten (the
// controller deletes the pod object itself).
//
// HollowCluster talks to the store directly, in process, and groups the
// reports of many nodes into one transaction (nodesPerTxn) — a shortcut a
// real agent (one HTTP request per node) does not have.
//
// Drive by hand with step() (tests, manual clock) or start() a thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/meta.h"
#include "lastbackend/types/pod.h"

namespace lb::controller::testing {

// What a hollow node reports for a pod it runs: Ready with a fake IP derived
// from ipIndex (10.128.0.0/10), or Error when one of its images is in
// failImages. Shared by the store-backed hollow nodes here and the REST API
// ones of bench/controller.
types::PodStatus hollowPodStatus(const types::Pod& pod, const std::string& node, uint32_t ipIndex,
                                 const std::set<std::string>& failImages);

struct HollowOptions {
  int nodes = 3;
  std::string prefix = "node-";
  int64_t cpu = 4000;                        // millicores
  int64_t ram = 8LL << 30;                   // bytes
  int pods = 0;                              // pod slots; 0 = unlimited
  std::function<types::Labels(int)> labels;  // labels of node i
  std::chrono::milliseconds readyDelay{0};
  std::chrono::milliseconds heartbeatInterval{1'000};
  std::set<std::string> failImages;  // pods running one of these report Error
  size_t nodesPerTxn = 256;
};

class HollowCluster {
 public:
  HollowCluster(std::shared_ptr<storage::Storage> store, const Clock& clock, HollowOptions options);
  ~HollowCluster();

  std::string nodeName(int i) const;
  // Registers every node and writes its first heartbeat; starts following
  // the manifests.
  Status registerAll();
  // One pass: read manifest changes (waiting up to `wait` for the first),
  // report due pods, heartbeat due nodes.
  Status step(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  void start();
  void stop();

  // A silent node neither heartbeats nor reports (it died).
  void setSilent(const std::string& node, bool silent);
  void setFailImages(std::set<std::string> images);

  int podsReported() const { return reported_.load(); }
  // Pods whose manifests the nodes currently hold.
  size_t podsKnown() const;
  // Pods the node currently holds manifests for.
  std::map<std::string, std::set<std::string>> podsByNode() const;

 private:
  struct PodState {
    std::chrono::steady_clock::time_point due;
    bool reported = false;
  };
  struct NodeState {
    std::map<std::string, PodState> pods;  // selflink -> state
    std::chrono::steady_clock::time_point lastBeat{};
    bool silent = false;
  };
  Status follow(std::chrono::milliseconds wait);
  std::string statusValue(const std::string& node) const;

  std::shared_ptr<storage::Storage> store_;
  const Clock& clock_;
  HollowOptions opt_;
  mutable std::mutex mu_;
  std::map<std::string, NodeState> nodes_;
  std::unique_ptr<storage::WatchStream> watch_;
  uint32_t nextIp_ = 0;
  std::atomic<int> reported_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace lb::controller::testing
