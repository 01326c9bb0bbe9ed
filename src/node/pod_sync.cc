// One reconcile pass of a pod worker. A full pass lists the pod's
// containers; otherwise (a probe fell due, nothing woke the worker) the
// containers the last pass left all running are taken as they were: a
// change to them comes as an event, which wakes the worker for a full pass.

#include <algorithm>

#include "lastbackend/common/logging.h"
#include "node/pod_worker.h"

namespace lb::node {

namespace cri = runtime::cri;
using types::State;

namespace {

// RFC 3339 with optional fraction ("2026-11-26T16:20:01.12345Z") -> ns since
// the epoch; 0 when empty or malformed. Docker trims trailing zeros of the
// fraction, so these strings do not compare as text.
int64_t parseNanos(const std::string& text) {
  auto tp = parseRfc3339(text);
  // docker's "0001-01-01T00:00:00Z" means never
  if (!tp || *tp < Clock::TimePoint(std::chrono::hours(24 * 365))) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(tp->time_since_epoch()).count();
}

}  // namespace

struct PodWorker::Pass {
  SteadyTime now, next;
  PodPlan plan;
  std::map<std::string, std::string> paths;  // csi name -> host path
  std::optional<std::pair<std::string, std::vector<cri::ContainerInfo>>> observed;
  std::vector<cri::ContainerInfo> listed;
  std::map<std::string, cri::ContainerInfo> actual;  // by template name
  types::PodStatus st;
  std::string error;
  bool pullWait = false;  // a container waits out an image pull back-off
  bool progressing = false;
  std::string ownerId, podIp;
  int64_t ownerStarted = 0;
  bool allReady = true, allRunning = true, failed = false;
};

SteadyTime PodWorker::sync(bool full) {
  Pass p;
  p.now = a_.clock.steadyNow();
  p.next = p.now + a_.opt.resync;
  p.observed = std::move(observed_);
  observed_.reset();
  p.st.state = State::kProvision;
  auto refs = a_.snapshot();
  Refs r{&refs->secrets, &refs->configs};
  auto plan = planPod(pod_, r, local_);
  if (!plan.isOk()) {
    p.st.message = plan.status().message();
    p.st.state = plan.status().code() == Code::kNotFound ? State::kProvision : State::kError;
    setStatus(p.st);
    return p.now + a_.opt.retry;
  }
  p.plan = std::move(*plan);
  auto paths = ensureVolumes(p.plan);
  if (!paths.isOk()) {
    p.st.message = paths.status().message();
    setStatus(p.st);
    return p.now + a_.opt.retry;
  }
  p.paths = std::move(*paths);
  if (!observe(p, full)) return p.now + a_.opt.retry;
  sortActual(p);
  for (size_t i = 0; i < p.plan.containers.size(); ++i)
    if (!syncContainer(p, i)) break;
  finish(p);
  return p.next;
}

// Lists the pod's containers unless the last pass's view still holds.
bool PodWorker::observe(Pass& p, bool full) {
  if (full || !p.observed || p.observed->first != p.plan.hash) {
    {
      // A start event lost to an events reconnect must not hide a later one.
      std::lock_guard lock(mu_);
      ownStarts_.clear();
    }
    auto list = a_.cri->list({{{cri::kLabelPod, pod_.meta.selflink}}, true});
    if (!list.isOk()) {
      p.st.message = list.status().message();
      setStatus(p.st);
      return false;
    }
    p.observed.emplace(p.plan.hash, std::move(*list));
    lastFull_ = p.now;
  }
  p.listed = std::move(p.observed->second);
  return true;
}

// Actual containers by template name; strays (unknown name, another spec
// hash, duplicates) are removed.
void PodWorker::sortActual(Pass& p) {
  std::set<std::string> names;
  for (const auto& cp : p.plan.containers) names.insert(cp.name);
  for (const auto& c : p.listed) {
    auto n = c.labels.find(cri::kLabelContainer);
    auto h = c.labels.find(cri::kLabelSpecHash);
    bool keep = n != c.labels.end() && names.count(n->second) && h != c.labels.end() &&
                h->second == p.plan.hash;
    if (keep) {
      auto have = p.actual.find(n->second);
      if (have == p.actual.end()) {
        p.actual[n->second] = c;
        continue;
      }
      // A duplicate (a create raced with a restart of the agent): keep the
      // running one.
      if (!have->second.running() && c.running()) {
        removeContainer(have->second.id, have->second.name);
        have->second = c;
        continue;
      }
    }
    removeContainer(c.id, c.name);
  }
}

// False: the pass stops here (the network owner could not start).
bool PodWorker::syncContainer(Pass& p, size_t i) {
  const auto& cp = p.plan.containers[i];
  types::ContainerStatus cs;
  cs.name = cp.name;
  cs.image = cp.spec.image;
  auto it = p.actual.find(cp.name);
  if (it == p.actual.end()) {
    Step step = startMissing(p, i, cs);
    if (step != Step::kProceed) {
      p.st.containers.push_back(cs);
      return step != Step::kStop;
    }
    it = p.actual.find(cp.name);
  }
  cri::ContainerInfo& c = it->second;
  cs.id = c.id;
  std::string waitNote;  // why a restart the policy wants waits
  if (!c.running()) restartIfDue(p, i, c, waitNote);
  if (c.running()) {
    upSince(cp.name, p.now);
  } else {
    backoff_[cp.name].up = {};
  }
  followOwner(p, i, c);
  if (c.running() && seen_[cp.name] != c.startedAt) {
    // A (re)start we did not cause: probes begin again.
    seen_[cp.name] = c.startedAt;
    resetProbes(cp, p.now);
  }
  cs.restarts = c.restartCount + restarts_[cp.name];
  if (i == 0 && c.running()) {
    p.ownerId = c.id;
    p.podIp = c.ip;
  }
  if (c.running()) {
    runProbes(p, cp, c, cs);
  } else {
    describeStopped(p, cp, c, cs, waitNote);
  }
  p.st.containers.push_back(cs);
  return true;
}

// A container of the plan that does not exist: created and started, unless
// its image pull backs off or (joined containers) the owner is not up.
PodWorker::Step PodWorker::startMissing(Pass& p, size_t i, types::ContainerStatus& cs) {
  const auto& cp = p.plan.containers[i];
  const Step failed = i == 0 ? Step::kStop : Step::kNext;
  if (auto at = backoffUntil(pullBackoff_, cp.name); p.now < at) {
    // Its image pull failed lately: no new try before the back-off ends.
    p.pullWait = true;
    cs.state = "error";
    auto why = pullError_.find(cp.name);  // none: it failed before the agent restarted
    cs.message = (why == pullError_.end() ? std::string("image pull failed") : why->second) +
                 " (" + backoffNote(at, p.now, "retry") + ")";
    p.error = "container '" + cp.name + "': " + cs.message;
    p.allReady = p.allRunning = false;
    p.next = std::min(p.next, at);
    return failed;
  }
  if (i == 0 && a_.net) {
    // The first container joins the node's pod network: it must be there.
    auto net = a_.net->podNetwork();
    if (!net.ready) {
      cs.state = "created";
      cs.message = net.message;
      p.error = net.message;
      p.allReady = p.allRunning = false;
      return Step::kStop;
    }
  }
  if (i > 0 && p.ownerId.empty()) {
    // Joined containers need the owner running first.
    cs.state = "created";
    p.allReady = p.allRunning = false;
    return Step::kNext;
  }
  auto id = createContainer(cp, i == 0 ? "" : p.ownerId, p.paths);
  if (!id.isOk()) {
    p.error = "container '" + cp.name + "': " + id.status().message();
    cs.state = "error";
    cs.message = id.status().message();
    p.allReady = p.allRunning = false;
    if (id.status().code() == Code::kInvalidArgument) p.failed = true;
    return failed;
  }
  auto info = a_.cri->inspect(*id);
  if (!info.isOk()) {
    cs.state = "created";
    cs.id = *id;
    p.allReady = p.allRunning = false;
    p.progressing = true;
    return Step::kNext;
  }
  p.actual.emplace(cp.name, *info);
  resetProbes(cp, p.now);
  seen_[cp.name] = info->startedAt;
  return Step::kProceed;
}

// Not running: docker's restart policy brings back "always" and
// "on-failure" containers; what it left stopped is restarted here when the
// policy says so (e.g. a start that failed, or a dockerd restart).
void PodWorker::restartIfDue(Pass& p, size_t i, cri::ContainerInfo& c, std::string& waitNote) {
  const auto& cp = p.plan.containers[i];
  const auto& policy = cp.spec.restart.policy;
  bool due = c.state == cri::kStateCreated || policy == "always" ||
             (policy == "on-failure" && c.exitCode != 0 &&
              (cp.spec.restart.maxRetries == 0 ||
               c.restartCount + restarts_[cp.name] < cp.spec.restart.maxRetries));
  if (!due || (i > 0 && p.ownerId.empty())) return;
  if (auto at = restartAllowedAt(cp.name); p.now < at) {
    waitNote = backoffNote(at, p.now);
    p.next = std::min(p.next, at);
    return;
  }
  restarting(cp.name, p.now);
  if (c.state != cri::kStateCreated) ++restarts_[cp.name];
  Status s = startOwn(c.id);
  if (s.isOk()) {
    refresh(c);
  } else {
    p.error = "container '" + cp.name + "': start: " + s.message();
  }
}

// A restarted owner has a new network namespace: joined containers started
// before it must be restarted to join the new one.
void PodWorker::followOwner(Pass& p, size_t i, cri::ContainerInfo& c) {
  if (i == 0) {
    p.ownerStarted = c.running() ? parseNanos(c.startedAt) : 0;
    return;
  }
  if (!c.running() || p.ownerStarted == 0 || parseNanos(c.startedAt) >= p.ownerStarted) return;
  const auto& cp = p.plan.containers[i];
  ++restarts_[cp.name];
  Status s = restartContainer(c, "the network owner restarted");
  if (s.isOk()) {
    refresh(c);
  } else {
    p.error = "container '" + cp.name + "': " + s.message();
  }
}

void PodWorker::runProbes(Pass& p, const ContainerPlan& cp, cri::ContainerInfo& c,
                          types::ContainerStatus& cs) {
  cs.state = "started";
  bool ready = true;
  std::string probeMessage = checkLiveness(p, cp, c, cs);
  if (std::string m = checkReadiness(p, cp, c, ready); !m.empty()) probeMessage = std::move(m);
  cs.ready = ready;
  // (find, not []: an empty entry would read as "probes unsupported" and
  // the next resetProbes would drop the container's probes.)
  if (auto un = unsupported_.find(cp.name); probeMessage.empty() && un != unsupported_.end())
    cs.message = un->second;
  else
    cs.message = probeMessage;
  if (!ready) p.allReady = false;
}

// Runs a due liveness probe; restarts the container (in place, after its
// back-off) when it failed. Returns what the status should say.
std::string PodWorker::checkLiveness(Pass& p, const ContainerPlan& cp, cri::ContainerInfo& c,
                                     types::ContainerStatus& cs) {
  std::string message;
  auto lv = liveness_.find(cp.name);
  if (lv == liveness_.end()) return message;
  auto& t = lv->second;
  if (t.due(p.now)) {
    Status s = a_.opt.prober({p.podIp.empty() ? c.ip : p.podIp, c.id, t.probe(), a_.cri});
    if (s.code() == Code::kUnsupported) {
      liveness_.erase(lv);
      unsupported_[cp.name] = s.message();
      return message;
    }
    t.record(s.isOk(), a_.clock.steadyNow(), s.isOk() ? "" : s.message());
  }
  // A failed probe stays failed until the restart it asks for: every pass
  // until then says so, and the restart comes when the back-off ends.
  if (t.failed()) {
    if (auto at = restartAllowedAt(cp.name); p.now < at) {
      message = "liveness probe failed: " + backoffNote(at, p.now);
      p.next = std::min(p.next, at);
    } else {
      restarting(cp.name, p.now);
      ++restarts_[cp.name];
      Status rs = restartContainer(c, "liveness probe failed: " + t.lastMessage());
      refresh(c);
      seen_[cp.name] = c.startedAt;
      resetProbes(cp, a_.clock.steadyNow());  // (`t` is gone from here on)
      message = rs.isOk() ? "liveness probe failed: restarted"
                          : "liveness probe failed: " + rs.message();
      cs.restarts = c.restartCount + restarts_[cp.name];
    }
  }
  if (auto again = liveness_.find(cp.name); again != liveness_.end())
    p.next = std::min(p.next, again->second.nextDue());
  return message;
}

// Runs a due readiness probe; `ready` is what it says. Returns why the
// container is not ready ("" when it is).
std::string PodWorker::checkReadiness(Pass& p, const ContainerPlan& cp,
                                      const cri::ContainerInfo& c, bool& ready) {
  auto rd = readiness_.find(cp.name);
  if (rd == readiness_.end()) return "";
  auto& t = rd->second;
  if (t.due(p.now)) {
    Status s = a_.opt.prober({p.podIp.empty() ? c.ip : p.podIp, c.id, t.probe(), a_.cri});
    if (s.code() == Code::kUnsupported) {
      unsupported_[cp.name] = s.message();
      readiness_.erase(rd);
      return "";
    }
    t.record(s.isOk(), a_.clock.steadyNow(), s.isOk() ? "" : s.message());
  }
  ready = t.passing();
  p.next = std::min(p.next, t.nextDue());
  return ready ? "" : "readiness probe: " + t.lastMessage();
}

void PodWorker::describeStopped(Pass& p, const ContainerPlan& cp, const cri::ContainerInfo& c,
                                types::ContainerStatus& cs, const std::string& waitNote) {
  p.allReady = p.allRunning = false;
  cs.state = c.state == cri::kStateCreated ? "created" : (c.exitCode == 0 ? "stopped" : "error");
  cs.message = c.error.empty() ? "exited with code " + std::to_string(c.exitCode) : c.error;
  if (!waitNote.empty()) cs.message += " (" + waitNote + ")";
  bool restarting = cp.spec.restart.policy == "always" ||
                    (cp.spec.restart.policy == "on-failure" && c.exitCode != 0);
  if (!restarting && c.state != cri::kStateCreated) p.failed = true;
}

// The pod status from the containers' and when the next pass is due.
void PodWorker::finish(Pass& p) {
  auto& st = p.st;
  st.ip = p.podIp;
  st.ready = p.allReady && p.allRunning && st.containers.size() == p.plan.containers.size();
  if (st.ready) {
    st.state = State::kReady;
  } else if (p.failed) {
    st.state = State::kError;
  } else {
    st.state = State::kProvision;
  }
  st.message = p.error;
  if (st.message.empty() && !st.ready) {
    for (const auto& cs : st.containers)
      if (!cs.message.empty()) {
        st.message = "container '" + cs.name + "': " + cs.message;
        break;
      }
  }
  setStatus(st);
  if (p.pullWait && !p.progressing) {
    // `next` is when the back-off ends (or sooner, for a probe).
  } else if (!p.error.empty() || p.progressing || !p.allRunning) {
    p.next = std::min(p.next, p.now + a_.opt.retry);
  } else {
    std::vector<cri::ContainerInfo> seen;
    for (auto& [name, c] : p.actual) seen.push_back(c);
    observed_.emplace(p.plan.hash, std::move(seen));
  }
}

}  // namespace lb::node
