// The agent core: composes the parts (agent_impl.h lists them) and runs
// the threads: spec sync (with a link), the status reporter (which also
// collects garbage), runtime events (to wake the worker of a pod whose
// container died), and a worker per pod.

#include "node/agent.h"

#include <algorithm>

#include "lastbackend/common/logging.h"
#include "node/agent_impl.h"
#include "node/pod_worker.h"
#include "node/probe.h"

namespace lb::node {

namespace cri = runtime::cri;
namespace cii = runtime::cii;

namespace {

// A Volume unused here is asked about at most this often (a new spec asks
// again at once).
constexpr std::chrono::minutes kVolumeRecheck{1};

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

int64_t wallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

Agent::Impl::Impl(AgentOptions o, ClusterLink* l, cri::ContainerRuntime* c, cii::ImageRuntime* i,
                  runtime::csi::VolumeRuntime* v)
    : opt(std::move(o)),
      clock(*opt.clock),
      link(l),
      cri(c),
      cii(i),
      csi(v),
      refs(std::make_shared<RefsSnapshot>()),
      memory(opt.stateFile, opt.node) {
  if (opt.cni || opt.cpi) {
    NetworkSyncOptions no;
    no.node = opt.node;
    no.cni = opt.cni;
    no.cpi = opt.cpi;
    no.cri = cri;
    no.resync = opt.networkResync;
    no.retry = opt.retry;
    no.clock = opt.clock;
    no.onPodNetworkReady = [this] { wakeWorkers(); };
    no.onEndpointProgrammed = opt.onEndpointProgrammed;
    net = std::make_unique<NetworkSync>(std::move(no));
  }
}

void Agent::Impl::wakeWorkers() {
  std::lock_guard lock(mu);
  for (auto& [sl, w] : workers) w->wake();
}

bool Agent::Impl::imageKnown(const std::string& ref) const {
  std::lock_guard lock(imagesMu_);
  return images_.count(ref) > 0;
}

void Agent::Impl::imageSeen(const std::string& ref, bool present) {
  std::lock_guard lock(imagesMu_);
  if (present) {
    images_.insert(ref);
  } else {
    images_.erase(ref);
  }
}

std::shared_ptr<const RefsSnapshot> Agent::Impl::snapshot() const {
  std::lock_guard lock(mu);
  return refs;
}

void Agent::Impl::markDirty() {
  std::lock_guard lock(mu);
  dirty = true;
  cv.notify_all();
}

bool Agent::Impl::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu);
  clock.waitFor(cv, lock, d, [&] { return stopping; });
  return !stopping;
}

bool Agent::Impl::isStopping() const {
  std::lock_guard lock(mu);
  return stopping;
}

void Agent::Impl::forget(const std::string& selflink) {
  std::lock_guard lock(mu);
  if (workers.count(selflink)) return;
  memory.forget(selflink);
}

void Agent::Impl::workerDone() {
  std::lock_guard lock(mu);
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

void Agent::Impl::gc() {
  std::lock_guard collecting(gcMu_);
  {
    std::lock_guard lock(mu);
    if (!initialized) return;
  }
  // List first, then read the known pods: a container in the listing was
  // created by a worker that already existed, so its pod is known.
  cri::ListOptions lo{{{cri::kLabelPod, ""}}, true};
  lo.details = false;  // labels are all it needs
  auto list = cri->list(lo);
  if (!list.isOk()) {
    spdlog::warn("node '{}': garbage collection: {}", opt.node, list.status().toString());
    return;
  }
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
    Status s = cri->remove(c.id, true);
    if (!s.isOk() && s.code() != Code::kNotFound)
      spdlog::warn("node '{}': remove container '{}': {}", opt.node, c.name, s.toString());
  }
  gcVolumes();
}

// Volume directories are named "<ns>:<volume>" (a pod's own volumes
// "<pod selflink>.<volume>" go with their worker). The node only sees the
// Volumes its pods use, so one missing from the spec may still exist for
// pods elsewhere: the cluster is asked before anything is deleted.
void Agent::Impl::gcVolumes() {
  std::set<std::string> keep;
  {
    std::lock_guard lock(mu);
    if (!link || !remoteKnown || stopping) return;
    for (const auto& [name, v] : remote.volumes) keep.insert(name);
    for (const auto& [sl, w] : workers)
      for (auto& v : w->sharedVolumes()) keep.insert(std::move(v));
    for (const auto& w : retired)
      for (auto& v : w->sharedVolumes()) keep.insert(std::move(v));
  }
  auto names = csi->list();
  if (!names.isOk()) {
    spdlog::warn("node '{}': list volumes: {}", opt.node, names.status().toString());
    return;
  }
  const auto now = clock.steadyNow();
  for (const auto& name : *names) {
    if (std::count(name.begin(), name.end(), ':') != 1 || name.rfind("local:", 0) == 0 ||
        keep.count(name)) {
      volumeChecked_.erase(name);
      continue;
    }
    auto checked = volumeChecked_.find(name);
    if (checked != volumeChecked_.end() && now - checked->second < kVolumeRecheck) continue;
    volumeChecked_[name] = now;
    auto exists = link->volumeExists(name);
    if (!exists.isOk()) {
      spdlog::debug("node '{}': volume '{}': {}", opt.node, name, exists.status().toString());
      continue;
    }
    if (*exists) continue;
    volumeChecked_.erase(name);
    if (Status s = csi->remove(name); !s.isOk()) {
      spdlog::warn("node '{}': remove volume '{}': {}", opt.node, name, s.toString());
      continue;
    }
    spdlog::info("node '{}': volume '{}' removed (gone from the cluster)", opt.node, name);
  }
}

// Events since `sinceUnix` (the agent's start, then the last event seen):
// an exit between start() and the subscription, or while the runtime was
// away, still wakes its worker. An event of that second may come twice,
// which costs one more pass.
void Agent::Impl::eventsLoop(int64_t sinceUnix) {
  while (!isStopping()) {
    cri::EventOptions eo;
    eo.labels[cri::kLabelPod] = "";
    eo.actions = {"die", "start", "oom", "destroy"};
    eo.sinceUnix = sinceUnix;
    Status s = cri->events(
        eo,
        [&](const cri::Event& e) {
          if (e.timeNano > 0) sinceUnix = std::max(sinceUnix, e.timeNano / 1000000000);
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

// ---- the public API -------------------------------------------------------------------------

Agent::Agent(AgentOptions options, ClusterLink* link, cri::ContainerRuntime* c,
             cii::ImageRuntime* i, runtime::csi::VolumeRuntime* v)
    : impl_(std::make_unique<Impl>(std::move(options), link, c, i, v)) {}

Agent::~Agent() { stop(); }

Status Agent::start() {
  impl_->memory.load();
  if (!impl_->opt.manifestDir.empty()) {
    auto local = loadLocalManifests(impl_->opt.manifestDir);
    if (!local.isOk()) return local.status();
    setLocalPods(*local);
  }
  if (impl_->net) impl_->net->start();
  std::lock_guard lock(impl_->mu);
  if (!impl_->link) {
    impl_->initialized = true;
    impl_->apply(/*prune=*/false);  // remote pods may still come (applyManifest)
  } else {
    impl_->threads.emplace_back([this] { impl_->specLoop(); });
  }
  impl_->threads.emplace_back([this] { impl_->reportLoop(); });
  const int64_t since = std::max<int64_t>(1, wallMs(impl_->clock) / 1000);
  impl_->threads.emplace_back([this, since] { impl_->eventsLoop(since); });
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
  if (impl_->net) impl_->net->stop();  // the data plane stays as it is
  for (auto& [sl, w] : workers) w->halt();
  for (auto& t : threads) t.join();
  for (auto& [sl, w] : workers) w->join();
  for (auto& w : retired) w->join();  // a retiring worker finishes its teardown
  impl_->memory.save();
}

void Agent::applyManifest(const NodeManifest& m) {
  std::lock_guard lock(impl_->mu);
  impl_->remote = m;
  impl_->initialized = impl_->remoteKnown = true;
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

bool Agent::waitRetired(std::chrono::milliseconds timeout) {
  auto& a = *impl_;
  const auto deadline = a.clock.steadyNow() + timeout;
  while (true) {
    a.reapRetired();
    std::unique_lock lock(a.mu);
    auto allDone = [&] {
      return std::all_of(a.retired.begin(), a.retired.end(), [](auto& w) { return w->done(); });
    };
    if (a.retired.empty()) return true;
    if (!a.clock.waitUntil(a.cv, lock, deadline, allDone)) return false;
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

}  // namespace lb::node
