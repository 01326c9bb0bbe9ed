#pragma once

// Pods and scheduling: keeps a deployment at its replica count (placing new
// pods with the scheduler, replacing pods lost with their node, moving pods
// off a draining node new-before-old, scaling down in a fixed order) and retries unscheduled pods
// when capacity frees up. It has no work keys of its own: a pod belongs to its service's key
// ("s/"), which calls in here.

#include <string>

#include "controller/loops/loop.h"

namespace lb::controller::loops {

struct PodCounts {
  int total = 0, ready = 0, provision = 0, errored = 0;
  int unplaced = 0;         // pods waiting for a node
  int restarts = 0;         // the most restarts of one container
  std::string restarted;    // "pod X: container Y restarted N times" of that one
  std::string error;        // first errored pod's message
  std::string unscheduled;  // first unschedulable reason
};

class PodsLoop final : public Loop {
 public:
  explicit PodsLoop(Context& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "pods"; }
  char prefix() const override { return 0; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void tick(SteadyTime now) override;
  SteadyTime nextTick() const override;
  void resync() override;

  // The pods of deployment `depSl` by state.
  PodCounts count(const std::string& depSl);
  // Keeps `dep` at its replica count; returns the first reason a pod could
  // not be placed (empty if all placed).
  std::string scale(const types::Deployment& dep);
  // Deletes every pod whose selflink starts with `prefix`; returns how many.
  size_t removeAll(const std::string& prefix);

 private:
  void remove(const std::string& sl);
  void put(types::Pod p);
  void scaleDown(std::vector<types::Pod*>& live, int want);
  void drain(std::vector<types::Pod*>& leaving, int ready, int want, int unplaced);
  types::Pod newPod(const types::Deployment& dep);

  Context& ctx_;
  // Capacity was freed or a node became usable: unscheduled pods retry.
  bool pendingRetry_ = false;
  SteadyTime lastRetry_{};
};

}  // namespace lb::controller::loops
