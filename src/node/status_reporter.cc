// Status reporter: node status, pod statuses and the statuses of the
// Volumes this node holds, to the cluster.

#include "lastbackend/common/logging.h"
#include "node/agent_impl.h"
#include "node/pod_worker.h"

namespace lb::node {

namespace {

// A Volume's state here: ready once its directory exists.
types::VolumeStatus volumeStatus(runtime::csi::VolumeRuntime& csi, const std::string& name) {
  types::VolumeStatus st;
  auto path = csi.path(name);
  if (path.isOk()) {
    st.state = types::State::kReady;
    st.ready = true;
    st.path = *path;
  } else if (path.status().code() == Code::kNotFound) {
    st.state = types::State::kProvision;
    st.message = "no pod on this node has mounted it yet";
  } else {
    st.state = types::State::kError;
    st.message = path.status().message();
  }
  return st;
}

// Whether `st` goes in this report: all do in a full one, else those
// that differ from what the api took last.
template <typename T>
bool changed(const std::map<std::string, T>& reported, const std::string& key, const T& st,
             bool full) {
  if (full) return true;
  auto it = reported.find(key);
  return it == reported.end() || !(it->second == st);
}

}  // namespace

// A report carries the node status and the pods and volumes whose status
// changed since the last report the api took; every `heartbeat` (and after
// a failed report) all of them go, so a write the api lost is made good.
// The api leaves pods and volumes a report does not name as they are.
void Agent::Impl::reportOnce() {
  if (!link) return;
  std::lock_guard reporting(reportMu_);
  std::vector<types::Pod> pods;
  std::vector<types::Volume> volumes;
  std::map<std::string, types::PodStatus> sent;
  std::map<std::string, types::VolumeStatus> sentVolumes;
  types::NodeStatus ns;
  ns.online = true;
  ns.capacity = opt.host.capacity;
  const auto now = clock.steadyNow();
  const bool full = !lastFullReport_ || now - *lastFullReport_ >= opt.heartbeat;
  std::vector<std::string> volumeNames;
  {
    std::lock_guard lock(mu);
    for (const auto& [sl, w] : workers) {
      auto p = w->snapshot();
      for (const auto& c : p.spec.template_.containers) {
        ns.allocated.cpu += c.resources.limits.cpu;
        ns.allocated.ram += c.resources.limits.ram;
      }
      ns.allocated.pods++;
      if (w->local() || !w->known() || !changed(reported_, sl, p.status, full)) continue;
      sent[sl] = p.status;
      types::Pod out;  // the api reads selflink and status only
      out.meta.selflink = sl;
      out.status = std::move(p.status);
      pods.push_back(std::move(out));
    }
    for (const auto& [name, v] : remote.volumes) volumeNames.push_back(name);
  }
  for (const auto& name : volumeNames) {
    auto st = volumeStatus(*csi, name);
    if (!changed(reportedVolumes_, name, st, full)) continue;
    sentVolumes[name] = st;
    types::Volume out;  // selflink and status only, as pods
    out.meta.selflink = name;
    out.status = std::move(st);
    volumes.push_back(std::move(out));
  }
  Status s = link->report(ns, pods, volumes);
  if (!s.isOk()) {
    spdlog::warn("node '{}': {}", opt.node, s.toString());
    lastFullReport_.reset();  // the next report sends everything
    return;
  }
  if (full) {
    reported_ = std::move(sent);
    reportedVolumes_ = std::move(sentVolumes);
    lastFullReport_ = now;
  } else {
    for (auto& [sl, st] : sent) reported_[sl] = std::move(st);
    for (auto& [name, st] : sentVolumes) reportedVolumes_[name] = std::move(st);
  }
  spdlog::trace("node '{}': reported {} pods, {} volumes ({})", opt.node, pods.size(),
                volumes.size(), full ? "all" : "changed");
}

// The resolver new pods get: the ready discovery servers, asked once per
// heartbeat. An agent without a cluster link keeps the runtime's resolver.
void Agent::Impl::refreshDns() {
  if (!link) return;
  auto registered = link->discoveries();
  if (!registered.isOk()) {
    spdlog::debug("node: {}", registered.status().message());
    return;
  }
  std::vector<std::string> skipped;
  PodDns next = choosePodDns(*registered, clock.now(), &skipped);
  std::lock_guard lock(dnsMu);
  if (next == podDns) return;
  for (const auto& s : skipped) spdlog::info("node: {}", s);
  if (next.servers.empty()) {
    spdlog::info("node: no discovery server is ready: new pods get the runtime's resolver");
  } else {
    std::string list;
    for (const auto& s : next.servers) list += (list.empty() ? "" : ", ") + s;
    spdlog::info("node: pods resolve through discovery {} (zone {})", list, next.domain);
  }
  podDns = std::move(next);
}

// A change is reported at once; a burst (50 pods starting) is coalesced by
// sending at most one report per kReportGap: what changes while a report is
// on its way goes in the next one. The same thread collects garbage.
void Agent::Impl::reportLoop() {
  constexpr auto kReportGap = std::chrono::milliseconds(20);
  auto lastGc = clock.steadyNow();
  auto lastReport = SteadyTime{};
  std::optional<SteadyTime> lastDns;
  while (true) {
    bool collect;
    {
      std::unique_lock lock(mu);
      clock.waitFor(cv, lock, opt.heartbeat, [&] { return stopping || dirty || gcWanted; });
      if (stopping) return;
      collect = gcWanted;
      gcWanted = false;
    }
    auto since = clock.steadyNow() - lastReport;
    if (since < kReportGap &&
        !sleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(kReportGap - since)))
      return;
    {
      std::lock_guard lock(mu);
      dirty = false;
    }
    lastReport = clock.steadyNow();
    reportOnce();
    if (!lastDns || clock.steadyNow() - *lastDns >= opt.heartbeat) {
      lastDns = clock.steadyNow();
      refreshDns();
    }
    reapRetired();
    memory.save();
    auto now = clock.steadyNow();
    if (collect || now - lastGc > opt.resync) {
      lastGc = now;
      gc();
    }
  }
}

}  // namespace lb::node
