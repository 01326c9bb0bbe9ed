#pragma once

// The node agent: follows the node's spec from the cluster (long-poll), runs
// each pod through a pod worker of its own, and reports pod and node status.
// See docs/node.md for the design, adoption, probes and failure modes.
//
//   Agent agent(options, link, &cri, &cii, &csi);
//   agent.start();   // register, spec/report/events threads
//   ...
//   agent.stop();    // stops threads; containers keep running (adoption)
//
// Tests drive it without a link: applyManifest() + podStatuses(). Every
// wait is on AgentOptions::clock (a test's ManualClock ends them).
// Thread-safe. The parts: src/node/agent_impl.h.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cii.h"
#include "lastbackend/runtime/cni.h"
#include "lastbackend/runtime/cpi.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/runtime/csi.h"
#include "lastbackend/types/pod.h"
#include "node/cluster_link.h"
#include "node/host.h"
#include "node/manifest.h"

namespace lb::node {

// What a probe checks: a TCP port on the pod IP, or a command in a container.
struct ProbeTarget {
  std::string podIp;
  std::string containerId;
  types::Probe probe;
  runtime::cri::ContainerRuntime* cri = nullptr;  // runs exec probes
};
using Prober = std::function<Status(const ProbeTarget&)>;

// TCP probes connect to podIp:port within `timeout`; exec probes run the
// command in the container through the CRI (exit code 0 = success; other
// codes, a timeout or a runtime error are failures). A probe with neither
// answers kUnsupported (the agent then ignores the probe).
Status defaultProber(const ProbeTarget& target);

struct AgentOptions {
  std::string node;  // node name (= hostname by default)
  HostFacts host;
  std::string description;
  std::string manifestDir;  // local manifests (--manifest-path); empty = none
  std::chrono::milliseconds heartbeat{5'000};
  // Long-poll wait; also how long stop() may wait for a poll in flight.
  // (Real time: it bounds a request the cluster answers.)
  std::chrono::milliseconds specWait{10'000};
  std::chrono::milliseconds resync{5'000};  // pod worker's periodic check
  std::chrono::milliseconds retry{1'000};   // after a failed call
  std::chrono::seconds stopGrace{5};        // SIGTERM -> SIGKILL when removing
  const Clock* clock = &realClock();
  Prober prober = defaultProber;
  // Where the agent keeps, across its own restarts, each container's
  // restart count and back-off streaks (JSON, rewritten when they change);
  // "" = in memory only.
  std::string stateFile;
  // The cluster network (network_sync.h): the pods' subnet through the CNI,
  // the service VIPs through the CPI; null = none (pods stay on the
  // runtime's own network). They must outlive the agent.
  runtime::cni::NetworkRuntime* cni = nullptr;
  runtime::cpi::ProxyRuntime* cpi = nullptr;
  std::chrono::milliseconds networkResync{10'000};  // drift repair period
  // After an endpoint's rules were programmed (its selflink); benchmarks.
  std::function<void(const std::string&)> onEndpointProgrammed;
};

class Agent {
 public:
  // `link` may be null (local manifests only). Runtimes must outlive it.
  Agent(AgentOptions options, ClusterLink* link, runtime::cri::ContainerRuntime* cri,
        runtime::cii::ImageRuntime* cii, runtime::csi::VolumeRuntime* csi);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Loads local manifests and starts the threads. kInvalidArgument for a
  // local manifest that does not parse.
  Status start();
  // Stops every thread; running containers are left alone.
  void stop();

  // Makes `m` (plus the local pods) the desired state: starts workers for
  // new pods, retires those of pods gone, rewrites secret/config files.
  void applyManifest(const NodeManifest& m);
  // Pods from --manifest-path (already parsed), replacing earlier ones.
  void setLocalPods(const NodeManifest& local);

  // Current status of every pod (local ones included), by selflink.
  std::vector<types::Pod> podStatuses() const;
  std::optional<types::Pod> podStatus(const std::string& selflink) const;
  // Removes containers of pods that are in no spec (runs after each spec),
  // and the directories of Volumes the cluster no longer has once no pod
  // here uses them.
  void collectGarbage();
  // Blocks until no retired worker is left, at most `timeout` on the
  // agent's clock (tests); false when some are still tearing down.
  bool waitRetired(std::chrono::milliseconds timeout);

  // The container id of `container` in pod `pod` ("" = the first).
  StatusOr<std::string> containerId(const std::string& pod, const std::string& container) const;
  runtime::cri::ContainerRuntime& cri();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads Service/Secret/Config documents of every *.yml, *.yaml, *.json file
// in `dir` into pods of namespace "local" ("local:<svc>:local:<i>").
StatusOr<NodeManifest> loadLocalManifests(const std::string& dir);

}  // namespace lb::node
