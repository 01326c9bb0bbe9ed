#pragma once

// The agent's shared state, private to src/node. The parts that work on it,
// one file each:
//   agent.cc            the core: start/stop, garbage collection, runtime events
//   spec_sync.cc        follows the spec (long-poll) and makes it the desired state
//   pod_worker.cc       one thread per pod reconciling its containers (pod_sync.cc: a pass)
//   status_reporter.cc  reports node, pod and volume status
//   restart_state.cc    what workers remember across agent restarts (agent-<node>.json)
//   local_manifests.cc  --manifest-path
//   network_sync.cc     the cluster network (subnets, VIPs) on a thread of its own
// Lock order: mu, then a worker's own mutex; reportMu before mu.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lastbackend/runtime/cancel.h"
#include "node/agent.h"
#include "node/network_sync.h"
#include "node/pod_dns.h"
#include "node/probe.h"
#include "node/restart_state.h"

namespace lb::node {

class PodWorker;

struct RefsSnapshot {
  std::map<std::string, types::Secret> secrets;
  std::map<std::string, types::Config> configs;
};

class Agent::Impl {
 public:
  Impl(AgentOptions o, ClusterLink* link, runtime::cri::ContainerRuntime* c,
       runtime::cii::ImageRuntime* i, runtime::csi::VolumeRuntime* v);

  AgentOptions opt;
  const Clock& clock;
  ClusterLink* link;
  runtime::cri::ContainerRuntime* cri;
  runtime::cii::ImageRuntime* cii;
  runtime::csi::VolumeRuntime* csi;

  mutable std::mutex mu;
  std::condition_variable cv;  // stop / dirty / a worker done
  bool stopping = false;
  bool dirty = false;
  bool gcWanted = false;     // a new spec arrived: the report thread collects garbage
  bool initialized = false;  // a spec (or local-only config) was applied: GC may run
  bool remoteKnown = false;  // `remote` is a spec of the cluster (volume GC may run)
  std::shared_ptr<const RefsSnapshot> refs;
  NodeManifest remote, local;
  std::map<std::string, std::shared_ptr<PodWorker>> workers;
  std::vector<std::shared_ptr<PodWorker>> retired;
  std::vector<std::thread> threads;
  runtime::CancelToken eventsCancel;
  RestartState memory;
  std::mutex dnsMu;
  PodDns podDns;  // (dnsMu) the resolver pods get; refreshDns() keeps it
  std::unique_ptr<NetworkSync> net;  // null without cni and cpi
  uint64_t netGen = 0;               // of the last spec handed to net (mu)

  // Images known to be present (pull policy IfNotPresent/Never): no image
  // inspect per container create. Forgotten when a create says it is gone.
  bool imageKnown(const std::string& ref) const;
  void imageSeen(const std::string& ref, bool present);

  std::shared_ptr<const RefsSnapshot> snapshot() const;
  void markDirty();
  // Sleeps up to `d` on the clock; false when stopping.
  bool sleepFor(std::chrono::milliseconds d);
  bool isStopping() const;
  // A retired worker's pod is forgotten, unless the pod came back meanwhile
  // (a new worker has it: what it remembers stays).
  void forget(const std::string& selflink);
  // A retired worker finished its teardown (wakes waitRetired and volume GC).
  void workerDone();

  // Wakes every pod worker (the pod network became ready).
  void wakeWorkers();

  // spec_sync.cc: desired = remote + local (mu held). `prune`: the remote
  // part is a real spec, so memories of pods outside it can go.
  void apply(bool prune = true);
  void specLoop();

  // agent.cc
  void podEvent(const std::string& selflink, const runtime::cri::Event& e);
  void reapRetired();
  void eventsLoop(int64_t sinceUnix);
  void gc();
  // Removes the directory of a Volume the cluster no longer has, once no
  // pod here (running or retiring) uses it.
  void gcVolumes();

  // status_reporter.cc
  void reportLoop();
  void reportOnce();
  // Reads the registered discovery servers into podDns (logs a change).
  void refreshDns();

 private:
  mutable std::mutex imagesMu_;
  std::set<std::string> images_;
  // What the api took last (see reportOnce); reportMu_ serializes reports.
  std::mutex reportMu_;
  std::map<std::string, types::PodStatus> reported_;
  std::map<std::string, types::VolumeStatus> reportedVolumes_;
  std::optional<SteadyTime> lastFullReport_;
  std::mutex gcMu_;  // one collection at a time (report thread, collectGarbage)
  std::map<std::string, SteadyTime> volumeChecked_;  // gcVolumes: last ask per volume (gcMu_)
  friend class Agent;
};

int64_t wallMs(const Clock& clock);

}  // namespace lb::node
