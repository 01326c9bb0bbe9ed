#pragma once

// A pod worker: one thread per pod that reconciles the pod's containers
// level-triggered, on a wake-up (spec, runtime event) or every `resync`,
// whichever comes first, and when a probe is due. It reads the runtime as
// the truth (labels tie containers to pods), so a restarted agent adopts
// what runs without touching it. All waits are on the agent's clock.

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lastbackend/runtime/cancel.h"
#include "node/agent_impl.h"
#include "node/pod_plan.h"
#include "node/probe.h"

namespace lb::node {

class PodWorker {
 public:
  PodWorker(Agent::Impl& agent, types::Pod pod, bool local);
  ~PodWorker() { join(); }

  void start();
  void wake();
  // A runtime event of one of the pod's containers. The "start" of a
  // container this worker started itself tells nothing new: no pass (and no
  // docker calls) for it.
  void event(const runtime::cri::Event& e);
  // The pod left the spec: tear it down, then finish.
  void retire();
  // The agent stops: finish without touching the containers.
  void halt();
  void join();
  bool done() const;
  bool local() const { return local_; }
  types::Pod snapshot() const;
  // Whether a pass has set the pod's status yet. Until then the worker
  // knows nothing the api does not (a restarted agent adopting a ready pod
  // must not report it provisioning, and so drop it from its service).
  bool known() const;
  // CSI names of the Volume objects the pod mounts.
  std::vector<std::string> sharedVolumes() const;

 private:
  // One pass's working set (pod_sync.cc).
  struct Pass;
  // Restarts the agent makes itself (a start that failed, a container the
  // runtime left down, a liveness failure) back off: the first at once,
  // then kRestartBackoff doubling to kRestartBackoffMax; a container up for
  // kRestartBackoffReset starts a new streak. Docker's own restart policy
  // has its own back-off (docs/node.md).
  static constexpr std::chrono::seconds kRestartBackoff{1};
  static constexpr std::chrono::minutes kRestartBackoffMax{5};
  static constexpr std::chrono::minutes kRestartBackoffReset{10};
  struct Backoff {
    int streak = 0;      // restarts since the container last stayed up
    SteadyTime last{};   // of the last restart
    SteadyTime up{};     // running since (as seen by passes); {} = not running
    int64_t lastMs = 0;  // `last` on the wall clock (what is remembered)
  };

  void loop();
  void setMessage(std::string message);
  void setStatus(types::PodStatus s);
  long sinceBorn() const;
  void teardown();
  void removeContainer(const std::string& id, const std::string& name);

  StatusOr<std::map<std::string, std::string>> ensureVolumes(const PodPlan& plan);
  Status ensureImage(const ContainerPlan& cp);
  StatusOr<std::string> createContainer(const ContainerPlan& cp, const std::string& ownerId,
                                        const std::map<std::string, std::string>& paths);
  Status restartContainer(const runtime::cri::ContainerInfo& c, const std::string& why);
  Status startOwn(const std::string& id);
  void refresh(runtime::cri::ContainerInfo& c);

  // pod_sync.cc: one reconcile pass; returns when the next pass is due.
  enum class Step { kProceed, kNext, kStop };  // of one container in a pass
  SteadyTime sync(bool full);
  bool observe(Pass& p, bool full);
  void sortActual(Pass& p);
  bool syncContainer(Pass& p, size_t i);
  Step startMissing(Pass& p, size_t i, types::ContainerStatus& cs);
  void restartIfDue(Pass& p, size_t i, runtime::cri::ContainerInfo& c, std::string& waitNote);
  void followOwner(Pass& p, size_t i, runtime::cri::ContainerInfo& c);
  void runProbes(Pass& p, const ContainerPlan& cp, runtime::cri::ContainerInfo& c,
                 types::ContainerStatus& cs);
  std::string checkLiveness(Pass& p, const ContainerPlan& cp, runtime::cri::ContainerInfo& c,
                            types::ContainerStatus& cs);
  std::string checkReadiness(Pass& p, const ContainerPlan& cp, const runtime::cri::ContainerInfo& c,
                             bool& ready);
  void describeStopped(Pass& p, const ContainerPlan& cp, const runtime::cri::ContainerInfo& c,
                       types::ContainerStatus& cs, const std::string& waitNote);
  void finish(Pass& p);

  // pod_worker.cc: back-off and what is remembered.
  PodMemory memo() const;
  void restore(const PodMemory& m);
  static SteadyTime backoffUntil(const std::map<std::string, Backoff>& streaks,
                                 const std::string& name);
  SteadyTime restartAllowedAt(const std::string& name) { return backoffUntil(backoff_, name); }
  void restarting(const std::string& name, SteadyTime now);
  void upSince(const std::string& name, SteadyTime now);
  static std::string backoffNote(SteadyTime at, SteadyTime now, const char* what = "restart");
  void resetProbes(const ContainerPlan& cp, SteadyTime now);

  Agent::Impl& a_;
  const types::Pod pod_;
  const bool local_;
  const SteadyTime born_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false, retire_ = false, halt_ = false, done_ = false;
  types::PodStatus status_;
  bool known_ = false;  // status_ was set by a pass
  runtime::CancelToken cancel_;
  // Worker-thread state.
  std::map<std::string, ProbeTracker> liveness_, readiness_;
  std::map<std::string, std::string> unsupported_;  // container -> why its probes are ignored
  std::map<std::string, int> restarts_;         // restarts the agent made (docker counts its own)
  std::map<std::string, std::string> seen_;     // container -> startedAt last seen
  std::map<std::string, std::string> written_;  // csi name -> fingerprint of projected files
  // What the last pass left (plan hash, containers), when all ran.
  std::optional<std::pair<std::string, std::vector<runtime::cri::ContainerInfo>>> observed_;
  SteadyTime lastFull_{};
  std::map<std::string, Backoff> backoff_;  // container -> restart back-off
  // Container -> failed image pulls in a row (the first retry after 1 s, as
  // restarts), and the last pull error.
  std::map<std::string, Backoff> pullBackoff_;
  std::map<std::string, std::string> pullError_;
  PodMemory remembered_;  // what the agent was last told (memo())
  std::set<std::string> ownStarts_;  // ids this worker started, "start" event not seen yet (mu_)
};

}  // namespace lb::node
