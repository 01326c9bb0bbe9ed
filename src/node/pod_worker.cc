#include "node/pod_worker.h"

#include <algorithm>

#include "lastbackend/common/logging.h"

namespace lb::node {

namespace cri = runtime::cri;
namespace cii = runtime::cii;
using types::State;

namespace {

// How long a pod going away waits for its service's rules to drop it.
constexpr std::chrono::milliseconds kNetworkFirst{2'000};

std::string fingerprint(const std::map<std::string, std::string>& data,
                        const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += k + '\0';
  out += '\1';
  for (const auto& [k, v] : data)
    out += std::to_string(k.size()) + ":" + k + std::to_string(v.size()) + ":" + v;
  return std::to_string(std::hash<std::string>{}(out));
}

}  // namespace

PodWorker::PodWorker(Agent::Impl& agent, types::Pod pod, bool local)
    : a_(agent), pod_(std::move(pod)), local_(local), born_(agent.clock.steadyNow()) {
  status_.state = State::kProvision;
  status_.node = a_.opt.node;
  restore(a_.memory.recall(pod_.meta.selflink));
}

void PodWorker::start() {
  thread_ = std::thread([this] { loop(); });
}

void PodWorker::wake() {
  std::lock_guard lock(mu_);
  wake_ = true;
  cv_.notify_all();
}

void PodWorker::event(const cri::Event& e) {
  std::lock_guard lock(mu_);
  if (e.action == "start" && ownStarts_.erase(e.id) > 0) return;
  wake_ = true;
  cv_.notify_all();
}

void PodWorker::retire() {
  std::lock_guard lock(mu_);
  retire_ = true;
  cv_.notify_all();
  cancel_.cancel();  // an image pull in flight
}

void PodWorker::halt() {
  std::lock_guard lock(mu_);
  halt_ = true;
  cv_.notify_all();
  cancel_.cancel();
}

void PodWorker::join() {
  if (thread_.joinable()) thread_.join();
}

bool PodWorker::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

types::Pod PodWorker::snapshot() const {
  std::lock_guard lock(mu_);
  types::Pod p = pod_;
  p.status = status_;
  return p;
}

bool PodWorker::known() const {
  std::lock_guard lock(mu_);
  return known_;
}

std::vector<std::string> PodWorker::sharedVolumes() const {
  std::vector<std::string> out;
  for (const auto& v : pod_.spec.template_.volumes)
    if (v.volume) out.push_back(pod_.meta.namespace_ + ":" + v.volume->name);
  return out;
}

void PodWorker::loop() {
  bool full = true;
  while (true) {
    bool retiring;
    {
      std::lock_guard lock(mu_);
      if (halt_) break;
      retiring = retire_;
    }
    if (retiring) {
      teardown();
      a_.forget(pod_.meta.selflink);
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      a_.workerDone();
      break;
    }
    SteadyTime next = a_.clock.steadyNow() + a_.opt.resync;
    try {
      next = std::min(next, sync(full));
    } catch (const std::exception& e) {
      setMessage(std::string("internal error: ") + e.what());
    }
    if (auto m = memo(); m != remembered_) {
      a_.memory.remember(pod_.meta.selflink, m);
      remembered_ = std::move(m);
    }
    std::unique_lock lock(mu_);
    a_.clock.waitUntil(cv_, lock, next, [&] { return wake_ || retire_ || halt_; });
    // A pass for a due probe alone reuses what the last full pass saw.
    full = wake_ || a_.clock.steadyNow() >= lastFull_ + a_.opt.resync;
    wake_ = false;
  }
}

void PodWorker::setMessage(std::string message) {
  {
    std::lock_guard lock(mu_);
    known_ = true;
    if (status_.message == message) return;
    status_.message = std::move(message);
  }
  a_.markDirty();
}

void PodWorker::setStatus(types::PodStatus s) {
  s.node = a_.opt.node;
  {
    std::lock_guard lock(mu_);
    known_ = true;
    if (status_ == s) return;
    if (s.ready && !status_.ready)
      spdlog::debug("node: pod '{}' ready {} ms after its worker started", pod_.meta.selflink,
                    sinceBorn());
    status_ = std::move(s);
  }
  a_.markDirty();
}

long PodWorker::sinceBorn() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(a_.clock.steadyNow() - born_)
      .count();
}

void PodWorker::removeContainer(const std::string& id, const std::string& name) {
  Status s = a_.cri->remove(id, true);
  if (!s.isOk() && s.code() != Code::kNotFound)
    spdlog::warn("node: pod '{}': remove container '{}': {}", pod_.meta.selflink, name,
                 s.toString());
}

// Removes the pod's containers (joined ones first) and its own volumes.
void PodWorker::teardown() {
  if (a_.net) {
    // The service's rules leave the pod before its containers stop (the
    // spec that dropped it also dropped it from its endpoints).
    uint64_t gen = 0;
    {
      std::lock_guard lock(a_.mu);
      gen = a_.netGen;
    }
    if (!a_.net->waitApplied(gen, kNetworkFirst))
      spdlog::debug("node: pod '{}': network not applied within {} ms; stopping anyway",
                    pod_.meta.selflink, kNetworkFirst.count());
  }
  auto list = a_.cri->list({{{cri::kLabelPod, pod_.meta.selflink}}, true});
  if (list.isOk()) {
    std::stable_sort(list->begin(), list->end(), [](const auto& x, const auto& y) {
      return x.labels.count(cri::kLabelNetwork) < y.labels.count(cri::kLabelNetwork);
    });
    for (const auto& c : *list) {
      if (c.running()) {
        // The forced remove below ends it anyway; the stop gives it its grace.
        Status s = a_.cri->stop(c.id, a_.opt.stopGrace);
        if (!s.isOk() && s.code() != Code::kNotFound)
          spdlog::warn("node: pod '{}': stop container '{}': {}", pod_.meta.selflink, c.name,
                       s.toString());
      }
      removeContainer(c.id, c.name);
    }
  } else {
    spdlog::warn("node: pod '{}': list containers: {}", pod_.meta.selflink,
                 list.status().toString());
  }
  for (const auto& v : pod_.spec.template_.volumes) {
    if (v.volume) continue;  // a Volume object's data outlives the pod
    Status s = a_.csi->remove(pod_.meta.selflink + "." + v.name);
    if (!s.isOk())
      spdlog::warn("node: pod '{}': remove volume '{}': {}", pod_.meta.selflink, v.name,
                   s.toString());
  }
  spdlog::info("node: pod '{}' removed", pod_.meta.selflink);
}

StatusOr<std::map<std::string, std::string>> PodWorker::ensureVolumes(const PodPlan& plan) {
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

Status PodWorker::ensureImage(const ContainerPlan& cp) {
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
    b.last = a_.clock.steadyNow();
    b.lastMs = wallMs(a_.clock);
    pullError_[cp.name] = s.message();
    return s;
  }
  pullBackoff_.erase(cp.name);
  a_.imageSeen(ref, true);
  return Status::ok();
}

// Creates and starts one container; returns its id.
StatusOr<std::string> PodWorker::createContainer(const ContainerPlan& cp,
                                                 const std::string& ownerId,
                                                 const std::map<std::string, std::string>& paths) {
  LB_RETURN_IF_ERROR(ensureImage(cp));
  cri::ContainerSpec spec = cp.spec;
  for (auto& m : spec.mounts) m.source = paths.at(m.source);
  if (!ownerId.empty()) {
    spec.networkMode = "container:" + ownerId;
  } else if (a_.net) {
    spec.network = a_.net->podNetwork().name;  // startMissing saw it ready
    std::lock_guard lock(a_.dnsMu);
    applyPodDns(a_.podDns, pod_.meta.namespace_, &spec);
  }
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
    removeContainer(spec.name, spec.name);
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

Status PodWorker::restartContainer(const cri::ContainerInfo& c, const std::string& why) {
  const std::string& name =
      c.labels.count(cri::kLabelContainer) ? c.labels.at(cri::kLabelContainer) : c.name;
  spdlog::info("node: pod '{}': restarting container '{}': {}", pod_.meta.selflink, name, why);
  // A stop that fails (already stopped, say) does not keep the start from trying.
  if (Status s = a_.cri->stop(c.id, a_.opt.stopGrace); !s.isOk())
    spdlog::debug("node: pod '{}': stop container '{}': {}", pod_.meta.selflink, name,
                  s.toString());
  return startOwn(c.id).withContext("restart container '" + name + "'");
}

Status PodWorker::startOwn(const std::string& id) {
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

// Reads `c` again after a (re)start; on an error the last view stays.
void PodWorker::refresh(cri::ContainerInfo& c) {
  auto info = a_.cri->inspect(c.id);
  if (info.isOk()) {
    c = *info;
  } else {
    spdlog::debug("node: pod '{}': inspect '{}': {}", pod_.meta.selflink, c.name,
                  info.status().toString());
  }
}

// ---- back-off and memory --------------------------------------------------------------------

// What the agent keeps for this pod across its restarts (ContainerMemory).
PodMemory PodWorker::memo() const {
  PodMemory m;
  for (const auto& [c, n] : restarts_)
    if (n > 0) m[c].restarts = n;
  for (const auto& [c, b] : backoff_)
    if (b.streak > 0) m[c].restartStreak = b.streak, m[c].restartAtMs = b.lastMs;
  for (const auto& [c, b] : pullBackoff_)
    if (b.streak > 0) m[c].pullStreak = b.streak, m[c].pullAtMs = b.lastMs;
  return m;
}

void PodWorker::restore(const PodMemory& m) {
  const auto steady = a_.clock.steadyNow();
  const int64_t wall = wallMs(a_.clock);
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
SteadyTime PodWorker::backoffUntil(const std::map<std::string, Backoff>& streaks,
                                   const std::string& name) {
  auto it = streaks.find(name);
  if (it == streaks.end() || it->second.streak == 0) return {};
  const auto& b = it->second;
  std::chrono::milliseconds delay = kRestartBackoffMax;
  if (b.streak <= 16)
    delay = std::min<std::chrono::milliseconds>(delay, kRestartBackoff * (1 << (b.streak - 1)));
  return b.last + delay;
}

void PodWorker::restarting(const std::string& name, SteadyTime now) {
  auto& b = backoff_[name];
  ++b.streak;
  b.last = now;
  b.lastMs = wallMs(a_.clock);
  b.up = {};
}

void PodWorker::upSince(const std::string& name, SteadyTime now) {
  auto& b = backoff_[name];
  if (b.up == SteadyTime{}) b.up = now;
  if (now - b.up >= kRestartBackoffReset) b.streak = 0;
}

std::string PodWorker::backoffNote(SteadyTime at, SteadyTime now, const char* what) {
  auto s = std::chrono::ceil<std::chrono::seconds>(at - now).count();
  return std::string("back-off: ") + what + " in " + std::to_string(s) + "s";
}

void PodWorker::resetProbes(const ContainerPlan& cp, SteadyTime now) {
  liveness_.erase(cp.name);
  readiness_.erase(cp.name);
  if (cp.probes.liveness && !unsupported_.count(cp.name))
    liveness_.emplace(cp.name, ProbeTracker(*cp.probes.liveness, false)).first->second.reset(now);
  if (cp.probes.readiness && !unsupported_.count(cp.name))
    readiness_.emplace(cp.name, ProbeTracker(*cp.probes.readiness, true)).first->second.reset(now);
}

}  // namespace lb::node
