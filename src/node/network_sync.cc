// The cluster network on one node: subnets through the CNI, endpoints
// through the CPI (network_sync.h says what a pass does).

#include "node/network_sync.h"

#include <algorithm>

#include "lastbackend/common/logging.h"

namespace lb::node {

namespace cni = runtime::cni;
namespace cpi = runtime::cpi;
namespace cri = runtime::cri;

NetworkSync::NetworkSync(NetworkSyncOptions options)
    : opt_(std::move(options)), clock_(*opt_.clock) {
  if (!opt_.cni) {
    pod_.ready = true;  // pods use the runtime's own network
  } else {
    pod_.message = "waiting for this node's pod subnet (leased when the node registers)";
  }
}

NetworkSync::~NetworkSync() { stop(); }

void NetworkSync::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || (!opt_.cni && !opt_.cpi)) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void NetworkSync::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

uint64_t NetworkSync::want(std::map<std::string, types::Subnet> subnets,
                           std::map<std::string, types::Endpoint> endpoints) {
  std::lock_guard lock(mu_);
  subnets_ = std::move(subnets);
  endpoints_ = std::move(endpoints);
  known_ = dirty_ = true;
  cv_.notify_all();
  return ++gen_;
}

bool NetworkSync::waitApplied(uint64_t gen, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return clock_.waitFor(cv_, lock, limit, [&] { return applied_ >= gen || stopping_; }) &&
         applied_ >= gen;
}

PodNetworkState NetworkSync::podNetwork() const {
  std::lock_guard lock(mu_);
  return pod_;
}

void NetworkSync::setPodNetwork(PodNetworkState s) {
  bool nowReady = false;
  {
    std::lock_guard lock(mu_);
    nowReady = s.ready && !pod_.ready;
    if (s.message != pod_.message && !s.message.empty())
      spdlog::warn("node '{}': pods wait: {}", opt_.node, s.message);
    pod_ = std::move(s);
  }
  if (nowReady) {
    spdlog::info("node '{}': pod network ready (subnet {})", opt_.node, ownCidr_);
    if (opt_.onPodNetworkReady) opt_.onPodNetworkReady();
  }
}

void NetworkSync::loop() {
  auto nextFull = clock_.steadyNow();
  while (true) {
    {
      std::unique_lock lock(mu_);
      clock_.waitUntil(cv_, lock, nextFull, [&] { return stopping_ || dirty_; });
      if (stopping_) return;
      dirty_ = false;
    }
    const auto now = clock_.steadyNow();
    const bool full = now >= nextFull;
    const bool ok = syncOnce(full);
    if (full) nextFull = now + opt_.resync;
    if (!ok) nextFull = std::min(nextFull, now + opt_.retry);
  }
}

bool NetworkSync::syncOnce(bool full) {
  std::lock_guard pass(passMu_);
  std::map<std::string, types::Subnet> subnets;
  std::map<std::string, types::Endpoint> endpoints;
  uint64_t gen = 0;
  {
    std::lock_guard lock(mu_);
    if (!known_) return true;  // no spec yet: what is programmed stays as it is
    subnets = subnets_;
    endpoints = endpoints_;
    gen = gen_;
  }
  full = full || !adopted_;
  bool ok = true;
  if (opt_.cni) ok = syncSubnets(full, subnets) && ok;
  if (opt_.cpi) ok = syncEndpoints(full, endpoints) && ok;
  if (full && ok) adopted_ = true;
  if (ok) {
    std::lock_guard lock(mu_);
    applied_ = std::max(applied_, gen);
    cv_.notify_all();
  }
  return ok;
}

// ---- subnets ---------------------------------------------------------------------------------

bool NetworkSync::syncSubnets(bool full, const std::map<std::string, types::Subnet>& subnets) {
  if (full) {
    auto programmed = opt_.cni->subnets();
    if (!programmed.isOk()) {
      spdlog::warn("node '{}': network: {}", opt_.node, programmed.status().toString());
      return false;
    }
    programmedSubnets_ = std::move(*programmed);
    ownCidr_.clear();  // the runtime's pod network is checked again too
  }
  const types::Subnet* own = nullptr;
  for (const auto& [cidr, s] : subnets)
    if (s.spec.node == opt_.node) own = &s;
  bool ok = syncOwn(own);

  // Peers: what the spec no longer has goes first (its cidr may be reused).
  for (auto it = programmedSubnets_.begin(); it != programmedSubnets_.end();) {
    if (it->second.local || subnets.count(it->first)) {
      ++it;
      continue;
    }
    Status s = opt_.cni->destroy(it->second);
    if (!s.isOk()) {
      spdlog::warn("node '{}': network: {}", opt_.node, s.toString());
      ok = false;
      ++it;
      continue;
    }
    spdlog::info("node '{}': network: subnet {} removed (its node left)", opt_.node, it->first);
    it = programmedSubnets_.erase(it);
  }
  for (const auto& [cidr, s] : subnets) {
    if (&s == own) continue;
    if (s.spec.addr.empty()) continue;  // its node reports no address yet
    auto it = programmedSubnets_.find(cidr);
    const bool there = it != programmedSubnets_.end();
    if (there && it->second.complete() && it->second.addr == s.spec.addr && !it->second.local)
      continue;
    auto r = there ? opt_.cni->replace(it->second, s.spec) : opt_.cni->create(s.spec);
    if (!r.isOk()) {
      spdlog::warn("node '{}': network: {}", opt_.node, r.status().toString());
      ok = false;
      continue;
    }
    spdlog::debug("node '{}': network: subnet {} via {}", opt_.node, cidr, s.spec.addr);
    programmedSubnets_[cidr] = std::move(*r);
  }
  return ok;
}

// This node's own subnet: the bridge, then the runtime's pod network on it.
// Never destroyed while the agent runs (its pods are on it).
bool NetworkSync::syncOwn(const types::Subnet* own) {
  if (!own) {
    setPodNetwork({false, "", "waiting for this node's pod subnet (leased when the node registers)"});
    return true;
  }
  const std::string& cidr = own->spec.cidr;
  auto fail = [&](const Status& s) {
    setPodNetwork({false, "", "pod network " + cidr + ": " + s.message()});
    return false;
  };
  auto it = programmedSubnets_.find(cidr);
  if (it == programmedSubnets_.end() || !it->second.complete() || !it->second.local) {
    auto r = it == programmedSubnets_.end() ? opt_.cni->create(own->spec)
                                             : opt_.cni->replace(it->second, own->spec);
    if (!r.isOk()) return fail(r.status());
    // A lease that moved: the bridge now has the new subnet only.
    std::erase_if(programmedSubnets_, [&](const auto& kv) { return kv.second.local; });
    programmedSubnets_[cidr] = std::move(*r);
  }
  if (ownCidr_ == cidr) return true;
  auto info = opt_.cni->info();
  if (!info.isOk()) return fail(info.status());
  cri::NetworkSpec spec{kPodNetwork, info->bridge, info->cidr, info->gateway, info->mtu, {}};
  auto net = opt_.cri->ensureNetwork(spec);
  if (!net.isOk() && net.status().code() == Code::kConflict) {
    // The runtime's network has another subnet (the lease changed): its
    // pods go (their workers make them again on the new one), then it.
    spdlog::warn("node '{}': pod network: {}; recreating it and the pods on it", opt_.node,
                 net.status().message());
    auto list = opt_.cri->list({{{cri::kLabelPod, ""}}, true});
    if (!list.isOk()) return fail(list.status());
    for (const auto& c : *list) (void)opt_.cri->remove(c.id, true);
    Status removed = opt_.cri->removeNetwork(kPodNetwork);
    if (!removed.isOk() && removed.code() != Code::kNotFound) return fail(removed);
    net = opt_.cri->ensureNetwork(spec);
  }
  if (!net.isOk()) return fail(net.status());
  ownCidr_ = cidr;
  setPodNetwork({true, kPodNetwork, ""});
  return true;
}

// ---- endpoints -------------------------------------------------------------------------------

bool NetworkSync::syncEndpoints(bool full, const std::map<std::string, types::Endpoint>& endpoints) {
  if (full) {
    auto programmed = opt_.cpi->info();
    if (!programmed.isOk()) {
      spdlog::warn("node '{}': service proxy: {}", opt_.node, programmed.status().toString());
      return false;
    }
    programmedEndpoints_ = std::move(*programmed);
  }
  std::map<std::string, std::pair<cpi::EndpointState, const types::Endpoint*>> want;
  for (const auto& [selflink, e] : endpoints) {
    if (e.spec.ip.empty()) continue;  // no VIP yet
    auto s = cpi::programmedState(e);
    if (!s.isOk()) {
      spdlog::debug("node '{}': service proxy: endpoint '{}': {}", opt_.node, selflink,
                    s.status().message());
      continue;
    }
    std::string key = cpi::stateKey(*s);
    want.emplace(std::move(key), std::make_pair(std::move(*s), &e));
  }
  bool ok = true;
  // Destroys first: a VIP freed here may be the one a new endpoint takes.
  for (auto it = programmedEndpoints_.begin(); it != programmedEndpoints_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    Status s = opt_.cpi->destroy(it->second);
    if (!s.isOk()) {
      spdlog::warn("node '{}': service proxy: {}", opt_.node, s.toString());
      ok = false;
      ++it;
      continue;
    }
    it = programmedEndpoints_.erase(it);
  }
  for (const auto& [key, w] : want) {
    auto it = programmedEndpoints_.find(key);
    if (it != programmedEndpoints_.end() && it->second == w.first) continue;
    auto r = it == programmedEndpoints_.end() ? opt_.cpi->create(*w.second)
                                              : opt_.cpi->update(it->second, *w.second);
    if (!r.isOk()) {
      spdlog::warn("node '{}': service proxy: {}", opt_.node, r.status().toString());
      ok = false;
      continue;
    }
    programmedEndpoints_[key] = std::move(*r);
    if (opt_.onEndpointProgrammed) opt_.onEndpointProgrammed(key);
  }
  return ok;
}

}  // namespace lb::node
