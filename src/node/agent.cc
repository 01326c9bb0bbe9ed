// The agent: one thread follows the spec (long-poll), one reports status,
// one follows runtime events (to wake the worker of a pod whose container
// died), and each pod has a worker thread that reconciles its containers
// level-triggered: on a wake-up (spec, event) or every `resync`, whichever
// comes first, and when a probe is due. Workers read the runtime as the
// truth (labels tie containers to pods), so a restarted agent adopts what
// runs without touching it.

#include "node/agent.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "lastbackend/common/file.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/runtime/cancel.h"
#include "lastbackend/types/manifest.h"
#include "node/pod_plan.h"
#include "node/probe.h"

namespace lb::node {

namespace cri = runtime::cri;
namespace cii = runtime::cii;
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

std::string fingerprint(const std::map<std::string, std::string>& data,
                        const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += k + '\0';
  out += '\1';
  for (const auto& [k, v] : data)
    out += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  return std::to_string(std::hash<std::string>{}(out));
}

struct RefsSnapshot {
  std::map<std::string, types::Secret> secrets;
  std::map<std::string, types::Config> configs;
};

}  // namespace

Status defaultProber(const ProbeTarget& t) {
  const std::chrono::milliseconds timeout = std::chrono::seconds(std::max(1, t.probe.timeout));
  if (t.probe.tcp) {
    if (t.podIp.empty()) return unavailable("pod has no IP yet");
    return tcpCheck(t.podIp, t.probe.tcp->port, timeout);
  }
  if (t.probe.exec && t.cri)
    return execCheck(*t.cri, t.containerId, t.probe.exec->command, timeout);
  return Status(Code::kUnsupported, "the probe has neither tcp nor exec");
}

class PodWorker;

// What a pod worker must not forget when the agent restarts, per container
// (AgentOptions::stateFile).
struct ContainerMemory {
  int restarts = 0;  // restarts the agent made
  int restartStreak = 0;
  int64_t restartAtMs = 0;  // wall clock (ms) of the streak's last restart
  int pullStreak = 0;
  int64_t pullAtMs = 0;  // ... of its last failed pull
  bool operator==(const ContainerMemory&) const = default;
};
using PodMemory = std::map<std::string, ContainerMemory>;  // container -> memory

int64_t wallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

class Agent::Impl {
 public:
  Impl(AgentOptions o, ClusterLink* link, cri::ContainerRuntime* c, cii::ImageRuntime* i,
       runtime::csi::VolumeRuntime* v)
      : opt(std::move(o)),
        link(link),
        cri(c),
        cii(i),
        csi(v),
        refs(std::make_shared<RefsSnapshot>()) {}

  AgentOptions opt;
  ClusterLink* link;
  cri::ContainerRuntime* cri;
  cii::ImageRuntime* cii;
  runtime::csi::VolumeRuntime* csi;

  mutable std::mutex mu;
  std::condition_variable cv;  // stop / dirty
  bool stopping = false;
  bool dirty = false;
  bool gcWanted = false;     // a new spec arrived: the report thread collects garbage
  bool initialized = false;  // a spec (or local-only config) was applied: GC may run
  std::shared_ptr<const RefsSnapshot> refs;
  NodeManifest remote, local;
  std::map<std::string, std::shared_ptr<PodWorker>> workers;
  std::vector<std::shared_ptr<PodWorker>> retired;
  std::vector<std::thread> threads;
  runtime::CancelToken eventsCancel;

  // Images known to be present (pull policy IfNotPresent/Never): no image
  // inspect per container create. Forgotten when a create says it is gone.
  bool imageKnown(const std::string& ref) const {
    std::lock_guard lock(imagesMu);
    return images.count(ref) > 0;
  }
  void imageSeen(const std::string& ref, bool present) {
    std::lock_guard lock(imagesMu);
    if (present) {
      images.insert(ref);
    } else {
      images.erase(ref);
    }
  }
  mutable std::mutex imagesMu;
  std::set<std::string> images;

  std::shared_ptr<const RefsSnapshot> snapshot() const {
    std::lock_guard lock(mu);
    return refs;
  }
  void markDirty() {
    std::lock_guard lock(mu);
    dirty = true;
    cv.notify_all();
  }
  // Sleeps up to `d`; false when stopping.
  bool sleepFor(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return stopping; });
    return !stopping;
  }
  bool isStopping() const {
    std::lock_guard lock(mu);
    return stopping;
  }

  // Pod memories (see ContainerMemory): read at start, written by the
  // report thread when one changed.
  std::mutex memoryMu;
  std::map<std::string, PodMemory> memory;  // pod selflink -> memory
  bool memoryDirty = false;
  bool memoryWriteFailing = false;
  PodMemory recall(const std::string& selflink) {
    std::lock_guard lock(memoryMu);
    auto it = memory.find(selflink);
    return it == memory.end() ? PodMemory{} : it->second;
  }
  // An empty `m` forgets the pod.
  void remember(const std::string& selflink, const PodMemory& m) {
    std::lock_guard lock(memoryMu);
    if (m.empty()) {
      memoryDirty |= memory.erase(selflink) > 0;
      return;
    }
    auto& have = memory[selflink];
    if (have == m) return;
    have = m;
    memoryDirty = true;
  }
  // A retired worker's pod is forgotten, unless the pod came back meanwhile
  // (a new worker has it: what it remembers stays).
  void forget(const std::string& selflink) {
    std::lock_guard lock(mu);
    if (workers.count(selflink)) return;
    std::lock_guard memory_lock(memoryMu);
    memoryDirty |= memory.erase(selflink) > 0;
  }
  void loadMemory();
  void saveMemory();

  // desired = remote + local (mu held). `prune`: the remote part is a real
  // spec, so memories of pods outside it can go.
  void apply(bool prune = true);
  void podEvent(const std::string& selflink, const cri::Event& e);
  void reapRetired();
  void specLoop();
  void reportLoop();
  void eventsLoop();
  void reportOnce();
  void gc();

  // What the api took last (see reportOnce); reportMu serializes reports.
  std::mutex reportMu;
  std::map<std::string, types::PodStatus> reported;
  std::optional<std::chrono::steady_clock::time_point> lastFullReport;
};

// ---- pod worker ---------------------------------------------------------------------------

class PodWorker {
 public:
  PodWorker(Agent::Impl& agent, types::Pod pod, bool local)
      : a_(agent), pod_(std::move(pod)), local_(local), born_(std::chrono::steady_clock::now()) {
    status_.state = State::kProvision;
    status_.node = a_.opt.node;
    restore(a_.recall(pod_.meta.selflink));
  }
  ~PodWorker() { join(); }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void wake() {
    std::lock_guard lock(mu_);
    wake_ = true;
    cv_.notify_all();
  }
  // A runtime event of one of the pod's containers. The "start" of a
  // container this worker started itself tells nothing new: no pass (and no
  // docker calls) for it.
  void event(const cri::Event& e) {
    std::lock_guard lock(mu_);
    if (e.action == "start" && ownStarts_.erase(e.id) > 0) return;
    wake_ = true;
    cv_.notify_all();
  }
  void retire() {
    std::lock_guard lock(mu_);
    retire_ = true;
    cv_.notify_all();
    cancel_.cancel();  // an image pull in flight
  }
  void halt() {
    std::lock_guard lock(mu_);
    halt_ = true;
    cv_.notify_all();
    cancel_.cancel();
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const {
    std::lock_guard lock(mu_);
    return done_;
  }
  bool local() const { return local_; }
  types::Pod snapshot() const {
    std::lock_guard lock(mu_);
    types::Pod p = pod_;
    p.status = status_;
    return p;
  }

 private:
  void loop() {
    bool full = true;
    while (true) {
      {
        std::lock_guard lock(mu_);
        if (halt_) break;
      }
      bool retiring;
      {
        std::lock_guard lock(mu_);
        retiring = retire_;
      }
      if (retiring) {
        teardown();
        a_.forget(pod_.meta.selflink);
        std::lock_guard lock(mu_);
        done_ = true;
        break;
      }
      SteadyTime next = a_.opt.clock->steadyNow() + a_.opt.resync;
      try {
        next = std::min(next, sync(full));
      } catch (const std::exception& e) {
        setMessage(std::string("internal error: ") + e.what());
      }
      if (auto m = memo(); m != remembered_) {
        a_.remember(pod_.meta.selflink, m);
        remembered_ = std::move(m);
      }
      std::unique_lock lock(mu_);
      auto now = a_.opt.clock->steadyNow();
      auto wait = next > now ? next - now : std::chrono::steady_clock::duration::zero();
      cv_.wait_for(lock, wait, [&] { return wake_ || retire_ || halt_; });
      // A pass for a due probe alone reuses what the last full pass saw.
      full = wake_ || a_.opt.clock->steadyNow() >= lastFull_ + a_.opt.resync;
      wake_ = false;
    }
  }

  void setMessage(std::string message) {
    std::lock_guard lock(mu_);
    if (status_.message == message) return;
    status_.message = std::move(message);
    a_.markDirty();
  }
  void setStatus(types::PodStatus s) {
    s.node = a_.opt.node;
    {
      std::lock_guard lock(mu_);
      if (status_ == s) return;
      if (s.ready && !status_.ready)
        spdlog::debug("node: pod '{}' ready {} ms after its worker started", pod_.meta.selflink,
                      sinceBorn());
      status_ = std::move(s);
    }
    a_.markDirty();
  }
  long sinceBorn() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 born_)
        .count();
  }

  // Removes the pod's containers (joined ones first) and its own volumes.
  void teardown() {
    auto list = a_.cri->list({{{cri::kLabelPod, pod_.meta.selflink}}, true});
    if (list.isOk()) {
      std::stable_sort(list->begin(), list->end(), [](const auto& x, const auto& y) {
        return x.labels.count(cri::kLabelNetwork) < y.labels.count(cri::kLabelNetwork);
      });
      for (const auto& c : *list) {
        if (c.running()) a_.cri->stop(c.id, a_.opt.stopGrace);
        Status s = a_.cri->remove(c.id, true);
        if (!s.isOk() && s.code() != Code::kNotFound)
          spdlog::warn("node: pod '{}': remove container '{}': {}", pod_.meta.selflink, c.name,
                       s.toString());
      }
    } else {
      spdlog::warn("node: pod '{}': list containers: {}", pod_.meta.selflink,
                   list.status().toString());
    }
    for (const auto& v : pod_.spec.template_.volumes) {
      if (v.volume) continue;  // a Volume object's data outlives the pod
      a_.csi->remove(pod_.meta.selflink + "." + v.name);
    }
    spdlog::info("node: pod '{}' removed", pod_.meta.selflink);
  }

  StatusOr<std::map<std::string, std::string>> ensureVolumes(const PodPlan& plan) {
    std::map<std::string, std::string> paths;  // csi name -> host path
    for (const auto& v : plan.volumes) {
      auto path = a_.csi->create(v.csiName);
      if (!path.isOk()) return path.status().withContext("volume '" + v.name + "'");
      if (v.files) {
        std::string fp = fingerprint(v.data, v.keys);
        if (written_[v.csiName] != fp) {
          Status s = a_.csi->writeFiles(v.csiName, v.data, v.keys);
          if (!s.isOk()) return s.withContext("volume '" + v.name + "'");
          written_[v.csiName] = fp;
        }
      }
      paths[v.csiName] = *path;
    }
    return paths;
  }

  Status ensureImage(const ContainerPlan& cp) {
    std::string ref = cp.spec.image;
    auto progress = [&](const cii::PullProgress& p) {
      std::string m = "pulling image " + ref + ": " + p.status;
      if (p.total > 0)
        m += " " + std::to_string(p.current >> 20) + "/" + std::to_string(p.total >> 20) + " MiB";
      setMessage(m);
    };
    bool present = false;
    if (cp.pullPolicy != cii::PullPolicy::kAlways) {
      if (a_.imageKnown(ref)) return Status::ok();
      auto e = a_.cii->exists(ref);
      if (!e.isOk()) return e.status();
      present = *e;
    }
    if (!cii::shouldPull(cp.pullPolicy, present)) {
      if (!present)
        return notFound("image '" + ref + "' is not present and the pull policy is Never");
      a_.imageSeen(ref, true);
      return Status::ok();
    }
    setMessage("pulling image " + ref);
    auto r = a_.cii->pull(ref, cp.auth, progress, &cancel_);
    if (!r.isOk()) {
      Status s = r.status().withContext("pull image '" + ref + "'");
      if (cancel_.cancelled()) return s;  // the agent stops or the pod goes: no failure
      auto& b = pullBackoff_[cp.name];
      ++b.streak;
      b.last = a_.opt.clock->steadyNow();
      b.lastMs = wallMs(*a_.opt.clock);
      pullError_[cp.name] = s.message();
      return s;
    }
    pullBackoff_.erase(cp.name);
    a_.imageSeen(ref, true);
    return Status::ok();
  }

  // Creates and starts one container; returns its id.
  StatusOr<std::string> createContainer(const ContainerPlan& cp, const std::string& ownerId,
                                        const std::map<std::string, std::string>& paths) {
    LB_RETURN_IF_ERROR(ensureImage(cp));
    cri::ContainerSpec spec = cp.spec;
    for (auto& m : spec.mounts) m.source = paths.at(m.source);
    if (!ownerId.empty()) spec.networkMode = "container:" + ownerId;
    const long t0 = sinceBorn();
    auto id = a_.cri->create(spec);
    if (!id.isOk() && id.status().code() == Code::kNotFound && a_.imageKnown(spec.image)) {
      // The image went away since we saw it (removed by hand, pruned).
      a_.imageSeen(spec.image, false);
      LB_RETURN_IF_ERROR(ensureImage(cp));
      id = a_.cri->create(spec);
    }
    if (!id.isOk() && id.status().code() == Code::kAlreadyExists) {
      // A leftover of a create whose start never happened (agent killed).
      a_.cri->remove(spec.name, true);
      id = a_.cri->create(spec);
    }
    if (!id.isOk()) return id.status();
    const long t1 = sinceBorn();
    Status s = startOwn(*id);
    if (!s.isOk()) return s;
    spdlog::debug(
        "node: pod '{}': container '{}' create at +{} ms, start at +{} ms, running at +{} ms",
        pod_.meta.selflink, cp.name, t0, t1, sinceBorn());
    return id;
  }

  Status restartContainer(const cri::ContainerInfo& c, const std::string& why) {
    spdlog::info("node: pod '{}': restarting container '{}': {}", pod_.meta.selflink,
                 c.labels.count(cri::kLabelContainer) ? c.labels.at(cri::kLabelContainer) : c.name,
                 why);
    a_.cri->stop(c.id, a_.opt.stopGrace);
    return startOwn(c.id);
  }

  Status startOwn(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      ownStarts_.insert(id);
    }
    Status s = a_.cri->start(id);
    if (!s.isOk()) {
      std::lock_guard lock(mu_);
      ownStarts_.erase(id);
    }
    return s;
  }

  // One reconcile pass; returns when the next probe is due. A full pass
  // lists the pod's containers; otherwise (a probe fell due, nothing woke
  // the worker) the containers the last pass left all running are taken as
  // they were: a change to them comes as an event, which wakes the worker
  // for a full pass.
  SteadyTime sync(bool full) {
    const auto now = a_.opt.clock->steadyNow();
    auto observed = std::move(observed_);
    observed_.reset();
    SteadyTime next = now + a_.opt.resync;
    auto refs = a_.snapshot();
    Refs r{&refs->secrets, &refs->configs};
    auto plan = planPod(pod_, r, local_);
    types::PodStatus st;
    st.state = State::kProvision;
    if (!plan.isOk()) {
      st.message = plan.status().message();
      st.state = plan.status().code() == Code::kNotFound ? State::kProvision : State::kError;
      setStatus(st);
      return now + a_.opt.retry;
    }
    auto paths = ensureVolumes(*plan);
    if (!paths.isOk()) {
      st.message = paths.status().message();
      setStatus(st);
      return now + a_.opt.retry;
    }
    if (full || !observed || observed->first != plan->hash) {
      {
        // A start event lost to an events reconnect must not hide a later one.
        std::lock_guard lock(mu_);
        ownStarts_.clear();
      }
      auto list = a_.cri->list({{{cri::kLabelPod, pod_.meta.selflink}}, true});
      if (!list.isOk()) {
        st.message = list.status().message();
        setStatus(st);
        return now + a_.opt.retry;
      }
      observed.emplace(plan->hash, std::move(*list));
      lastFull_ = now;
    }
    const std::vector<cri::ContainerInfo> listed = std::move(observed->second);
    // Actual containers by template name; strays (unknown name, another
    // spec hash, duplicates) are removed.
    std::map<std::string, cri::ContainerInfo> actual;
    std::set<std::string> names;
    for (const auto& cp : plan->containers) names.insert(cp.name);
    for (const auto& c : listed) {
      auto n = c.labels.find(cri::kLabelContainer);
      auto h = c.labels.find(cri::kLabelSpecHash);
      bool keep = n != c.labels.end() && names.count(n->second) && h != c.labels.end() &&
                  h->second == plan->hash;
      if (keep) {
        auto have = actual.find(n->second);
        if (have == actual.end()) {
          actual[n->second] = c;
          continue;
        }
        // A duplicate (a create raced with a restart of the agent): keep
        // the running one.
        if (!have->second.running() && c.running()) {
          a_.cri->remove(have->second.id, true);
          have->second = c;
          continue;
        }
      }
      a_.cri->remove(c.id, true);
    }

    std::string error;
    bool pullWait = false;  // a container waits out an image pull back-off
    bool progressing = false;
    std::string ownerId, podIp;
    int64_t ownerStarted = 0;
    bool allReady = true, allRunning = true, failed = false;
    for (size_t i = 0; i < plan->containers.size(); ++i) {
      const auto& cp = plan->containers[i];
      types::ContainerStatus cs;
      cs.name = cp.name;
      cs.image = cp.spec.image;
      auto it = actual.find(cp.name);
      if (it == actual.end()) {
        if (auto at = backoffUntil(pullBackoff_, cp.name); now < at) {
          // Its image pull failed lately: no new try before the back-off ends.
          pullWait = true;
          cs.state = "error";
          auto why = pullError_.find(cp.name);  // none: it failed before the agent restarted
          cs.message = (why == pullError_.end() ? std::string("image pull failed") : why->second) +
                       " (" + backoffNote(at, now, "retry") + ")";
          error = "container '" + cp.name + "': " + cs.message;
          allReady = allRunning = false;
          next = std::min(next, at);
          st.containers.push_back(cs);
          if (i == 0) break;
          continue;
        }
        if (i > 0 && ownerId.empty()) {
          // Joined containers need the owner running first.
          cs.state = "created";
          allReady = allRunning = false;
          st.containers.push_back(cs);
          continue;
        }
        auto id = createContainer(cp, i == 0 ? "" : ownerId, *paths);
        if (!id.isOk()) {
          error = "container '" + cp.name + "': " + id.status().message();
          cs.state = "error";
          cs.message = id.status().message();
          allReady = allRunning = false;
          if (id.status().code() == Code::kInvalidArgument) failed = true;
          st.containers.push_back(cs);
          if (i == 0) break;
          continue;
        }
        auto info = a_.cri->inspect(*id);
        if (!info.isOk()) {
          cs.state = "created";
          cs.id = *id;
          allReady = allRunning = false;
          progressing = true;
          st.containers.push_back(cs);
          continue;
        }
        it = actual.emplace(cp.name, *info).first;
        resetProbes(cp, now);
        seen_[cp.name] = info->startedAt;
      }
      cri::ContainerInfo& c = it->second;
      cs.id = c.id;
      std::string waitNote;  // why a restart the policy wants waits
      // Not running: docker's restart policy brings back "always" and
      // "on-failure" containers; what it left stopped is restarted here when
      // the policy says so (e.g. a start that failed, or a dockerd restart).
      if (!c.running()) {
        const auto& policy = cp.spec.restart.policy;
        bool due = c.state == cri::kStateCreated || policy == "always" ||
                   (policy == "on-failure" && c.exitCode != 0 &&
                    (cp.spec.restart.maxRetries == 0 ||
                     c.restartCount + restarts_[cp.name] < cp.spec.restart.maxRetries));
        if (due && (i == 0 || !ownerId.empty())) {
          if (auto at = restartAllowedAt(cp.name); now < at) {
            waitNote = backoffNote(at, now);
            next = std::min(next, at);
          } else {
            restarting(cp.name, now);
            if (c.state != cri::kStateCreated) ++restarts_[cp.name];
            Status s = startOwn(c.id);
            if (s.isOk()) {
              auto info = a_.cri->inspect(c.id);
              if (info.isOk()) c = *info;
            } else {
              error = "container '" + cp.name + "': start: " + s.message();
            }
          }
        }
      }
      if (c.running()) {
        upSince(cp.name, now);
      } else {
        backoff_[cp.name].up = {};
      }
      // A restarted owner has a new network namespace: joined containers
      // started before it must be restarted to join the new one.
      if (i == 0) {
        ownerStarted = c.running() ? parseNanos(c.startedAt) : 0;
      } else if (c.running() && ownerStarted > 0 && parseNanos(c.startedAt) < ownerStarted) {
        ++restarts_[cp.name];
        if (restartContainer(c, "the network owner restarted").isOk()) {
          auto info = a_.cri->inspect(c.id);
          if (info.isOk()) c = *info;
        }
      }
      if (c.running() && seen_[cp.name] != c.startedAt) {
        // A (re)start we did not cause: probes begin again.
        seen_[cp.name] = c.startedAt;
        resetProbes(cp, now);
      }
      cs.restarts = c.restartCount + restarts_[cp.name];
      if (i == 0 && c.running()) {
        ownerId = c.id;
        podIp = c.ip;
      }
      if (c.running()) {
        cs.state = "started";
        bool ready = true;
        std::string probeMessage;
        if (auto lv = liveness_.find(cp.name); lv != liveness_.end()) {
          auto& t = lv->second;
          if (t.due(now)) {
            Status s = a_.opt.prober({podIp.empty() ? c.ip : podIp, c.id, t.probe(), a_.cri});
            if (s.code() == Code::kUnsupported) {
              liveness_.erase(lv);
              unsupported_[cp.name] = s.message();
            } else {
              t.record(s.isOk(), a_.opt.clock->steadyNow(), s.isOk() ? "" : s.message());
              if (auto at = restartAllowedAt(cp.name); t.failed() && now < at) {
                probeMessage = "liveness probe failed: " + backoffNote(at, now);
                next = std::min(next, at);
              } else if (t.failed()) {
                restarting(cp.name, now);
                ++restarts_[cp.name];
                restartContainer(c, "liveness probe failed: " + t.lastMessage());
                auto info = a_.cri->inspect(c.id);
                if (info.isOk()) {
                  c = *info;
                  seen_[cp.name] = c.startedAt;
                }
                resetProbes(cp, a_.opt.clock->steadyNow());
                probeMessage = "liveness probe failed: restarted";
                cs.restarts = c.restartCount + restarts_[cp.name];
              }
            }
          }
          if (auto lv2 = liveness_.find(cp.name); lv2 != liveness_.end())
            next = std::min(next, lv2->second.nextDue());
        }
        if (auto rd = readiness_.find(cp.name); rd != readiness_.end()) {
          auto& t = rd->second;
          if (t.due(now)) {
            Status s = a_.opt.prober({podIp.empty() ? c.ip : podIp, c.id, t.probe(), a_.cri});
            if (s.code() == Code::kUnsupported) {
              unsupported_[cp.name] = s.message();
              readiness_.erase(rd);
            } else {
              t.record(s.isOk(), a_.opt.clock->steadyNow(), s.isOk() ? "" : s.message());
            }
          }
          if (auto rd2 = readiness_.find(cp.name); rd2 != readiness_.end()) {
            ready = rd2->second.passing();
            if (!ready) probeMessage = "readiness probe: " + rd2->second.lastMessage();
            next = std::min(next, rd2->second.nextDue());
          }
        }
        cs.ready = ready;
        // (find, not []: an empty entry would read as "probes unsupported"
        // and the next resetProbes would drop the container's probes.)
        if (auto un = unsupported_.find(cp.name); probeMessage.empty() && un != unsupported_.end())
          cs.message = un->second;
        else
          cs.message = probeMessage;
        if (!ready) allReady = false;
      } else {
        allReady = allRunning = false;
        cs.state =
            c.state == cri::kStateCreated ? "created" : (c.exitCode == 0 ? "stopped" : "error");
        cs.message = c.error.empty() ? "exited with code " + std::to_string(c.exitCode) : c.error;
        if (!waitNote.empty()) cs.message += " (" + waitNote + ")";
        bool restarting = cp.spec.restart.policy == "always" ||
                          (cp.spec.restart.policy == "on-failure" && c.exitCode != 0);
        if (!restarting && c.state != cri::kStateCreated) failed = true;
      }
      st.containers.push_back(cs);
    }
    st.ip = podIp;
    st.ready = allReady && allRunning && st.containers.size() == plan->containers.size();
    if (st.ready) {
      st.state = State::kReady;
    } else if (failed) {
      st.state = State::kError;
    } else {
      st.state = State::kProvision;
    }
    st.message = error;
    if (st.message.empty() && !st.ready) {
      for (const auto& cs : st.containers)
        if (!cs.message.empty()) {
          st.message = "container '" + cs.name + "': " + cs.message;
          break;
        }
    }
    setStatus(st);
    if (pullWait && !progressing) {
      // `next` is when the back-off ends (or sooner, for a probe).
    } else if (!error.empty() || progressing || !allRunning) {
      next = std::min(next, now + a_.opt.retry);
    } else {
      std::vector<cri::ContainerInfo> seen;
      for (auto& [name, c] : actual) seen.push_back(c);
      observed_.emplace(plan->hash, std::move(seen));
    }
    return next;
  }

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
  // What the agent keeps for this pod across its restarts (ContainerMemory).
  PodMemory memo() const {
    PodMemory m;
    for (const auto& [c, n] : restarts_)
      if (n > 0) m[c].restarts = n;
    for (const auto& [c, b] : backoff_)
      if (b.streak > 0) m[c].restartStreak = b.streak, m[c].restartAtMs = b.lastMs;
    for (const auto& [c, b] : pullBackoff_)
      if (b.streak > 0) m[c].pullStreak = b.streak, m[c].pullAtMs = b.lastMs;
    return m;
  }
  void restore(const PodMemory& m) {
    const auto steady = a_.opt.clock->steadyNow();
    const int64_t wall = wallMs(*a_.opt.clock);
    auto back = [&](int64_t ms) {
      return steady - std::chrono::milliseconds(std::max<int64_t>(0, wall - ms));
    };
    for (const auto& [c, v] : m) {
      if (v.restarts > 0) restarts_[c] = v.restarts;
      if (v.restartStreak > 0)
        backoff_[c] = {v.restartStreak, back(v.restartAtMs), SteadyTime{}, v.restartAtMs};
      if (v.pullStreak > 0)
        pullBackoff_[c] = {v.pullStreak, back(v.pullAtMs), SteadyTime{}, v.pullAtMs};
    }
    remembered_ = m;
  }
  // When the next try is allowed after a streak of failures: the first
  // failure waits kRestartBackoff, each next one twice as long, up to
  // kRestartBackoffMax. Restarts and image pulls keep a streak each.
  static SteadyTime backoffUntil(const std::map<std::string, Backoff>& streaks,
                                 const std::string& name) {
    auto it = streaks.find(name);
    if (it == streaks.end() || it->second.streak == 0) return {};
    const auto& b = it->second;
    std::chrono::milliseconds delay = kRestartBackoffMax;
    if (b.streak <= 16)
      delay = std::min<std::chrono::milliseconds>(delay, kRestartBackoff * (1 << (b.streak - 1)));
    return b.last + delay;
  }
  SteadyTime restartAllowedAt(const std::string& name) { return backoffUntil(backoff_, name); }
  void restarting(const std::string& name, SteadyTime now) {
    auto& b = backoff_[name];
    ++b.streak;
    b.last = now;
    b.lastMs = wallMs(*a_.opt.clock);
    b.up = {};
  }
  void upSince(const std::string& name, SteadyTime now) {
    auto& b = backoff_[name];
    if (b.up == SteadyTime{}) b.up = now;
    if (now - b.up >= kRestartBackoffReset) b.streak = 0;
  }
  static std::string backoffNote(SteadyTime at, SteadyTime now, const char* what = "restart") {
    auto s = std::chrono::ceil<std::chrono::seconds>(at - now).count();
    return std::string("back-off: ") + what + " in " + std::to_string(s) + "s";
  }

  void resetProbes(const ContainerPlan& cp, SteadyTime now) {
    liveness_.erase(cp.name);
    readiness_.erase(cp.name);
    if (cp.probes.liveness && !unsupported_.count(cp.name))
      liveness_.emplace(cp.name, ProbeTracker(*cp.probes.liveness, false)).first->second.reset(now);
    if (cp.probes.readiness && !unsupported_.count(cp.name))
      readiness_.emplace(cp.name, ProbeTracker(*cp.probes.readiness, true))
          .first->second.reset(now);
  }

  Agent::Impl& a_;
  const types::Pod pod_;
  const bool local_;
  const std::chrono::steady_clock::time_point born_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false, retire_ = false, halt_ = false, done_ = false;
  types::PodStatus status_;
  runtime::CancelToken cancel_;
  // Worker-thread state.
  std::map<std::string, ProbeTracker> liveness_, readiness_;
  std::map<std::string, std::string> unsupported_;  // container -> why its probes are ignored
  std::map<std::string, int> restarts_;         // restarts the agent made (docker counts its own)
  std::map<std::string, std::string> seen_;     // container -> startedAt last seen
  std::map<std::string, std::string> written_;  // csi name -> fingerprint of projected files
  // What the last pass left (plan hash, containers), when all ran.
  std::optional<std::pair<std::string, std::vector<cri::ContainerInfo>>> observed_;
  SteadyTime lastFull_{};
  std::map<std::string, Backoff> backoff_;  // container -> restart back-off
  // Container -> failed image pulls in a row (the first retry after 1 s, as
  // restarts), and the last pull error.
  std::map<std::string, Backoff> pullBackoff_;
  std::map<std::string, std::string> pullError_;
  PodMemory remembered_;  // what the agent was last told (memo())
  std::set<std::string> ownStarts_;  // ids this worker started, "start" event not seen yet (mu_)
};

// ---- agent ----------------------------------------------------------------------------------

// The state file: {"pods": {"<selflink>": {"<container>": {"restarts": 2,
// "restartStreak": 1, "restartAt": <unix ms>, "pullStreak": 0, "pullAt": 0}}}}.
// One that does not parse is set aside (a warning), not fatal.
void Agent::Impl::loadMemory() {
  if (opt.stateFile.empty()) return;
  std::ifstream in(opt.stateFile);
  if (!in) return;  // first start
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  std::map<std::string, PodMemory> loaded;
  bool ok = j.is_object() && j.contains("pods") && j["pods"].is_object();
  if (ok) {
    for (const auto& [pod, containers] : j["pods"].items()) {
      if (!containers.is_object()) continue;
      for (const auto& [name, v] : containers.items()) {
        if (!v.is_object()) continue;
        auto num = [&](const char* k) -> int64_t {
          auto it = v.find(k);
          return it != v.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
        };
        ContainerMemory m;
        m.restarts = static_cast<int>(num("restarts"));
        m.restartStreak = static_cast<int>(num("restartStreak"));
        m.restartAtMs = num("restartAt");
        m.pullStreak = static_cast<int>(num("pullStreak"));
        m.pullAtMs = num("pullAt");
        if (!(m == ContainerMemory{})) loaded[pod][name] = m;
      }
    }
  } else {
    spdlog::warn("node '{}': state file '{}' does not parse; starting without it", opt.node,
                 opt.stateFile);
  }
  std::lock_guard lock(memoryMu);
  memory = std::move(loaded);
}

void Agent::Impl::saveMemory() {
  if (opt.stateFile.empty()) return;
  nlohmann::json pods = nlohmann::json::object();
  {
    std::lock_guard lock(memoryMu);
    if (!memoryDirty) return;
    memoryDirty = false;
    for (const auto& [pod, containers] : memory)
      for (const auto& [name, m] : containers)
        pods[pod][name] = {{"restarts", m.restarts},
                           {"restartStreak", m.restartStreak},
                           {"restartAt", m.restartAtMs},
                           {"pullStreak", m.pullStreak},
                           {"pullAt", m.pullAtMs}};
  }
  Status s = writeFileAtomic(opt.stateFile, nlohmann::json{{"pods", pods}}.dump() + "\n");
  std::lock_guard lock(memoryMu);
  if (!s.isOk()) {
    // Again with the next report; said once until a write works.
    if (!memoryWriteFailing) spdlog::warn("node '{}': {}", opt.node, s.toString());
    memoryWriteFailing = true;
    memoryDirty = true;
  } else {
    memoryWriteFailing = false;
  }
}

void Agent::Impl::apply(bool prune) {
  auto next = std::make_shared<RefsSnapshot>();
  next->secrets = remote.secrets;
  next->configs = remote.configs;
  for (const auto& [k, v] : local.secrets) next->secrets[k] = v;
  for (const auto& [k, v] : local.configs) next->configs[k] = v;
  refs = next;
  std::map<std::string, std::pair<const types::Pod*, bool>> desired;
  for (const auto& [sl, p] : remote.pods) desired[sl] = {&p, false};
  for (const auto& [sl, p] : local.pods) desired[sl] = {&p, true};
  if (prune) {
    // Memories of pods in no spec any more (gone while the agent was down).
    std::lock_guard lock(memoryMu);
    for (auto it = memory.begin(); it != memory.end();) {
      if (desired.count(it->first) || workers.count(it->first)) {
        ++it;
      } else {
        it = memory.erase(it);
        memoryDirty = true;
      }
    }
  }
  for (auto it = workers.begin(); it != workers.end();) {
    if (!desired.count(it->first)) {
      it->second->retire();
      retired.push_back(it->second);
      it = workers.erase(it);
    } else {
      it->second->wake();  // secrets/configs may have changed
      ++it;
    }
  }
  if (stopping) return;
  for (const auto& [sl, d] : desired) {
    if (workers.count(sl)) continue;
    types::Pod pod = *d.first;
    pod.meta.selflink = sl;
    auto w = std::make_shared<PodWorker>(*this, std::move(pod), d.second);
    workers[sl] = w;
    w->start();
  }
  dirty = true;
  cv.notify_all();
}

void Agent::Impl::podEvent(const std::string& selflink, const cri::Event& e) {
  std::lock_guard lock(mu);
  auto it = workers.find(selflink);
  if (it != workers.end()) it->second->event(e);
}

void Agent::Impl::reapRetired() {
  std::vector<std::shared_ptr<PodWorker>> done;
  {
    std::lock_guard lock(mu);
    for (auto it = retired.begin(); it != retired.end();) {
      if ((*it)->done()) {
        done.push_back(*it);
        it = retired.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : done) w->join();
}

void Agent::Impl::specLoop() {
  while (!isStopping()) {
    types::Node n;
    n.meta.name = opt.node;
    n.meta.description = opt.description;
    n.info = opt.host.info;
    Status s = link->registerNode(n);
    if (s.isOk()) break;
    spdlog::warn("node '{}': {}; retrying", opt.node, s.toString());
    if (!sleepFor(opt.retry)) return;
  }
  spdlog::info("node '{}': registered", opt.node);
  reportOnce();
  int64_t revision = 0;
  while (!isStopping()) {
    auto m = link->fetchSpec(revision, opt.specWait);
    if (!m.isOk()) {
      if (isStopping()) return;  // e.g. the embedded api stopped first
      spdlog::warn("node '{}': {}; retrying", opt.node, m.status().toString());
      if (!sleepFor(opt.retry)) return;
      continue;
    }
    bool changed = m->revision != revision;
    if (changed || revision == 0) {
      {
        std::lock_guard lock(mu);
        remote = std::move(*m);
        initialized = true;
        apply();
        revision = remote.revision;
      }
      spdlog::debug("node '{}': spec at revision {}", opt.node, revision);
      // GC lists every container: off this thread, so the next poll is not
      // held up by it.
      std::lock_guard lock(mu);
      gcWanted = true;
      cv.notify_all();
    } else if (!sleepFor(std::chrono::milliseconds(200))) {
      return;  // an api without long-poll answers at once: do not spin
    }
  }
}

// A report carries the node status and the pods whose status changed since
// the last report the api took; every `heartbeat` (and after a failed
// report) all pods go, so a write the api lost is made good. The api leaves
// pods a report does not name as they are.
void Agent::Impl::reportOnce() {
  if (!link) return;
  std::lock_guard reporting(reportMu);
  std::vector<types::Pod> pods;
  std::map<std::string, types::PodStatus> sent;
  types::NodeStatus ns;
  ns.online = true;
  ns.capacity = opt.host.capacity;
  const auto now = std::chrono::steady_clock::now();
  const bool full = !lastFullReport || now - *lastFullReport >= opt.heartbeat;
  {
    std::lock_guard lock(mu);
    for (const auto& [sl, w] : workers) {
      auto p = w->snapshot();
      for (const auto& c : p.spec.template_.containers) {
        ns.allocated.cpu += c.resources.limits.cpu;
        ns.allocated.ram += c.resources.limits.ram;
      }
      ns.allocated.pods++;
      if (w->local()) continue;
      if (!full) {
        auto it = reported.find(sl);
        if (it != reported.end() && it->second == p.status) continue;
      }
      sent[sl] = p.status;
      types::Pod out;  // the api reads selflink and status only
      out.meta.selflink = sl;
      out.status = std::move(p.status);
      pods.push_back(std::move(out));
    }
  }
  Status s = link->report(ns, pods);
  if (!s.isOk()) {
    spdlog::warn("node '{}': {}", opt.node, s.toString());
    lastFullReport.reset();  // the next report sends everything
    return;
  }
  if (full) {
    reported = std::move(sent);
    lastFullReport = now;
  } else {
    for (auto& [sl, st] : sent) reported[sl] = std::move(st);
  }
  spdlog::trace("node '{}': reported {} pods ({})", opt.node, pods.size(),
                full ? "all" : "changed");
}

// A change is reported at once; a burst (50 pods starting) is coalesced by
// sending at most one report per kReportGap: what changes while a report is
// on its way goes in the next one.
void Agent::Impl::reportLoop() {
  constexpr auto kReportGap = std::chrono::milliseconds(20);
  auto lastGc = std::chrono::steady_clock::now();
  auto lastReport = std::chrono::steady_clock::time_point{};
  while (true) {
    bool collect;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, opt.heartbeat, [&] { return stopping || dirty || gcWanted; });
      if (stopping) return;
      collect = gcWanted;
      gcWanted = false;
    }
    auto since = std::chrono::steady_clock::now() - lastReport;
    if (since < kReportGap &&
        !sleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(kReportGap - since)))
      return;
    {
      std::lock_guard lock(mu);
      dirty = false;
    }
    lastReport = std::chrono::steady_clock::now();
    reportOnce();
    reapRetired();
    saveMemory();
    auto now = std::chrono::steady_clock::now();
    if (collect || now - lastGc > opt.resync) {
      lastGc = now;
      gc();
    }
  }
}

void Agent::Impl::gc() {
  {
    std::lock_guard lock(mu);
    if (!initialized) return;
  }
  // List first, then read the known pods: a container in the listing was
  // created by a worker that already existed, so its pod is known.
  cri::ListOptions lo{{{cri::kLabelPod, ""}}, true};
  lo.details = false;  // labels are all it needs
  auto list = cri->list(lo);
  if (!list.isOk()) return;
  std::set<std::string> known;
  {
    std::lock_guard lock(mu);
    if (stopping) return;  // stop() has taken the workers away
    for (const auto& [sl, w] : workers) known.insert(sl);
    for (const auto& w : retired) known.insert(w->snapshot().meta.selflink);
  }
  for (const auto& c : *list) {
    const std::string& pod = c.labels.at(cri::kLabelPod);
    if (known.count(pod)) continue;
    spdlog::info("node '{}': removing container '{}' of pod '{}' (not in the spec)", opt.node,
                 c.name, pod);
    cri->remove(c.id, true);
  }
}

void Agent::Impl::eventsLoop() {
  while (!isStopping()) {
    cri::EventOptions eo;
    eo.labels[cri::kLabelPod] = "";
    eo.actions = {"die", "start", "oom", "destroy"};
    Status s = cri->events(
        eo,
        [&](const cri::Event& e) {
          auto it = e.labels.find(cri::kLabelPod);
          if (it != e.labels.end()) podEvent(it->second, e);
          return !isStopping();
        },
        &eventsCancel);
    if (isStopping()) return;
    if (!s.isOk()) spdlog::debug("node '{}': runtime events: {}", opt.node, s.toString());
    if (!sleepFor(opt.retry)) return;
  }
}

Agent::Agent(AgentOptions options, ClusterLink* link, cri::ContainerRuntime* c,
             cii::ImageRuntime* i, runtime::csi::VolumeRuntime* v)
    : impl_(std::make_unique<Impl>(std::move(options), link, c, i, v)) {}

Agent::~Agent() { stop(); }

Status Agent::start() {
  impl_->loadMemory();
  if (!impl_->opt.manifestDir.empty()) {
    auto local = loadLocalManifests(impl_->opt.manifestDir);
    if (!local.isOk()) return local.status();
    setLocalPods(*local);
  }
  std::lock_guard lock(impl_->mu);
  if (!impl_->link) {
    impl_->initialized = true;
    impl_->apply(/*prune=*/false);  // remote pods may still come (applyManifest)
  } else {
    impl_->threads.emplace_back([this] { impl_->specLoop(); });
  }
  impl_->threads.emplace_back([this] { impl_->reportLoop(); });
  impl_->threads.emplace_back([this] { impl_->eventsLoop(); });
  return Status::ok();
}

void Agent::stop() {
  std::vector<std::thread> threads;
  std::map<std::string, std::shared_ptr<PodWorker>> workers;
  std::vector<std::shared_ptr<PodWorker>> retired;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
    threads.swap(impl_->threads);
    workers.swap(impl_->workers);
    retired.swap(impl_->retired);
  }
  impl_->eventsCancel.cancel();
  for (auto& [sl, w] : workers) w->halt();
  for (auto& t : threads) t.join();
  for (auto& [sl, w] : workers) w->join();
  for (auto& w : retired) w->join();  // a retiring worker finishes its teardown
  impl_->saveMemory();
}

void Agent::applyManifest(const NodeManifest& m) {
  std::lock_guard lock(impl_->mu);
  impl_->remote = m;
  impl_->initialized = true;
  impl_->apply();
}

void Agent::setLocalPods(const NodeManifest& local) {
  std::lock_guard lock(impl_->mu);
  impl_->local = local;
  if (impl_->initialized) impl_->apply();
}

std::vector<types::Pod> Agent::podStatuses() const {
  std::lock_guard lock(impl_->mu);
  std::vector<types::Pod> out;
  for (const auto& [sl, w] : impl_->workers) out.push_back(w->snapshot());
  return out;
}

std::optional<types::Pod> Agent::podStatus(const std::string& selflink) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->workers.find(selflink);
  if (it == impl_->workers.end()) return std::nullopt;
  return it->second->snapshot();
}

void Agent::collectGarbage() { impl_->gc(); }

void Agent::waitRetired(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    impl_->reapRetired();
    {
      std::lock_guard lock(impl_->mu);
      if (impl_->retired.empty()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

StatusOr<std::string> Agent::containerId(const std::string& pod,
                                         const std::string& container) const {
  auto list = impl_->cri->list({{{cri::kLabelPod, pod}}, true});
  if (!list.isOk()) return list.status();
  for (const auto& c : *list) {
    if (container.empty() ? c.labels.count(cri::kLabelNetwork) > 0
                          : c.labels.at(cri::kLabelContainer) == container)
      return c.id;
  }
  return notFound("pod '" + pod + "' has no container" +
                  (container.empty() ? "" : " '" + container + "'"));
}

cri::ContainerRuntime& Agent::cri() { return *impl_->cri; }

StatusOr<NodeManifest> loadLocalManifests(const std::string& dir) {
  namespace fs = std::filesystem;
  NodeManifest out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;  // none yet
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".yml" || ext == ".yaml" || ext == ".json"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  const std::string ns = "local";
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    types::ParseOptions po;
    po.baseDir = f.parent_path().string();
    auto docs = types::parseManifests(ss.str(), po);
    if (!docs.isOk()) return docs.status().withContext("local manifest '" + f.string() + "'");
    for (const auto& d : *docs) {
      if (d.kind == types::Kind::kSecret) {
        types::Secret s;
        LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &s));
        out.secrets[ns + ":" + s.meta.name] = s;
      } else if (d.kind == types::Kind::kConfig) {
        types::Config c;
        LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &c));
        out.configs[ns + ":" + c.meta.name] = c;
      } else if (d.kind == types::Kind::kService) {
        types::Service svc;
        LB_RETURN_IF_ERROR(types::fromDocument(d, ns, &svc));
        int replicas = std::max(1, svc.spec.replicas);
        for (int i = 0; i < replicas; ++i) {
          types::Pod p;
          p.meta.name = std::to_string(i);
          p.meta.namespace_ = ns;
          p.meta.selflink = types::podSelflink(ns, svc.meta.name, "local", p.meta.name);
          p.spec.template_ = svc.spec.template_;
          out.pods[p.meta.selflink] = p;
        }
      }
    }
  }
  return out;
}

}  // namespace lb::node
