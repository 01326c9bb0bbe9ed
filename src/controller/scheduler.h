#pragma once

// The resource scheduler: picks a node for one pod.
//
// Filter: the node must be schedulable (registered, online, not cordoned,
// not left without a pod subnet), be the one named by selector.node if set,
// carry every selector label, and have the pod's request free (capacity
// minus the requests of the pods already placed on it; a capacity of 0
// means "not reported" and does not limit). Score, lowest wins: pods of the
// same deployment on the node (spread), then load (max of CPU and RAM use,
// permille), then pods on the node, then the node name — deterministic for
// equal inputs.
//
// Cost: nodes are kept in a set ordered by (load, pods, name) and indexed by
// label, and each node keeps its allocation tally, so one placement is
// O(log n + nodes skipped) — no scan of every node per pod. Only a pod that
// fits nowhere pays a full scan, to say why. Not thread-safe.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>

#include "lastbackend/types/quota.h"

namespace lb::controller {

using types::podRequest;
using types::RequestDefaults;
using types::ResourceRequest;

struct NodeCapacity {
  int64_t cpu = 0;
  int64_t ram = 0;
  int pods = 0;
};

class Scheduler {
 public:
  // Adds or updates a node. `schedulable` = online, not cordoned and not
  // left without a pod subnet.
  void upsertNode(const std::string& name, const types::Labels& labels, NodeCapacity capacity,
                  bool schedulable);
  void removeNode(const std::string& name);

  // Tallies: a pod of `deployment` holding `req` on `node` (known or not).
  void addPod(const std::string& node, const std::string& deployment, ResourceRequest req);
  void removePod(const std::string& node, const std::string& deployment, ResourceRequest req);

  struct Placement {
    std::string node;    // empty: fits nowhere
    std::string reason;  // why, when empty
  };
  Placement place(const std::string& deployment, const types::NodeSelector& selector,
                  ResourceRequest req) const;

  size_t nodeCount() const { return nodes_.size(); }
  // Pods placed on `node` (0 if unknown).
  int podsOn(const std::string& node) const;

 private:
  struct Entry {
    types::Labels labels;
    NodeCapacity capacity;
    bool schedulable = false;
    int64_t cpuUsed = 0;
    int64_t ramUsed = 0;
    int pods = 0;
  };
  using LoadKey = std::tuple<int64_t, int, std::string>;

  static int64_t load(const Entry& e);
  static bool fits(const Entry& e, ResourceRequest req);
  static bool labelsMatch(const Entry& e, const types::Labels& want);
  void index(const std::string& name, const Entry& e);
  void unindex(const std::string& name, const Entry& e);
  int depCount(const std::string& deployment, const std::string& node) const;
  std::string explain(const types::NodeSelector& selector, ResourceRequest req) const;

  std::unordered_map<std::string, Entry> nodes_;
  std::set<LoadKey> byLoad_;                                        // schedulable nodes only
  std::unordered_map<std::string, std::set<std::string>> byLabel_;  // "k=v" -> nodes
  std::unordered_map<std::string, std::unordered_map<std::string, int>> perDeployment_;
};

}  // namespace lb::controller
