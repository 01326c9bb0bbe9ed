#include "controller/loops/endpoints.h"

#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;
using types::Endpoint;
using types::State;

std::vector<Kind> EndpointsLoop::kinds() const { return {Kind::kEndpoint, Kind::kClusterManifest}; }

void EndpointsLoop::onChange(const Change& c) {
  // A manifest written by someone else (or re-read) is compared afresh.
  if (c.kind == Kind::kClusterManifest) manifestFrom_.erase(std::string(c.id));
  ctx_.queue.enqueue('s', c.id);
}

void EndpointsLoop::resync() {
  // Leftovers whose service is gone: their service key removes them.
  std::string last;
  auto orphan = [&](const std::string& sl) {
    std::string parent = detail::selflinkPrefix(sl, 2);
    if (parent != last && !ctx_.cache.services().count(parent)) ctx_.queue.enqueue('s', parent);
    last = std::move(parent);
  };
  for (const auto& [sl, e] : ctx_.cache.endpoints()) orphan(sl);
  for (const auto& [sl, v] : ctx_.cache.clusterManifests()) orphan(sl);
}

void EndpointsLoop::remove(const std::string& sl) {
  ctx_.batch.remove(*keys::objectKey(keys::Collection::kEndpoint, sl), false);
  ctx_.batch.remove(*keys::clusterEndpointManifestKey(sl), false);
  if (ctx_.cache.ipam().ipam.release(sl)) ctx_.cache.ipam().dirty = true;
}

Endpoint EndpointsLoop::desired(const types::Service& svc, const std::string& ip,
                                const std::vector<std::string>& upstreamDeps, bool* existed) {
  const std::string& sl = svc.meta.selflink;
  auto found = ctx_.cache.endpoints().find(sl);
  *existed = found != ctx_.cache.endpoints().end();
  Endpoint want;
  if (*existed) {
    want = found->second;
  } else {
    want.meta.name = svc.meta.name;
    want.meta.namespace_ = svc.meta.namespace_;
    want.meta.selflink = sl;
    want.meta.created = ctx_.now();
  }
  want.spec.ip = ip;
  want.spec.ports = svc.spec.network.ports;
  want.spec.policy = "rr";
  auto& namespaces = ctx_.cache.namespaces();
  auto ns = namespaces.find(svc.meta.namespace_);
  std::string suffix = ns != namespaces.end() && !ns->second.spec.domain.internal.empty()
                           ? ns->second.spec.domain.internal
                           : svc.meta.namespace_ + ".lb.local";
  want.spec.domain = svc.meta.name + "." + suffix;
  want.spec.upstreams.clear();
  for (const auto& dep : upstreamDeps) {
    forPrefix(ctx_.cache.pods(), dep + ":", [&](const std::string&, types::Pod& p) {
      if (!p.status.ready || p.status.ip.empty()) return;
      for (const auto& port : svc.spec.network.ports)
        want.spec.upstreams.push_back({p.status.ip, port.containerPort});
    });
  }
  want.status.state = want.spec.upstreams.empty() ? State::kProvision : State::kReady;
  want.status.message = want.spec.upstreams.empty() ? "no ready pods" : "";
  return want;
}

std::string EndpointsLoop::reconcile(const types::Service& svc,
                                     const std::vector<std::string>& upstreamDeps) {
  const std::string& sl = svc.meta.selflink;
  if (svc.spec.network.ports.empty()) {
    remove(sl);
    return "";
  }
  IpamState& ipam = ctx_.cache.ipam();
  auto ip = ipam.ipam.addressOf(sl);
  if (!ip) {
    auto got = ipam.ipam.allocate(sl);
    if (!got.isOk()) return "no service IP: " + got.status().message();
    ip = *got;
    ipam.dirty = true;
  }
  bool existed = false;
  Endpoint want = desired(svc, *ip, upstreamDeps, &existed);
  bool unchanged = false;
  if (existed) {
    const Endpoint& ep = ctx_.cache.endpoints().at(sl);
    unchanged = want.spec == ep.spec && want.status == ep.status;
  }
  if (!unchanged) {
    want.meta.updated = ctx_.now();
    ctx_.batch.putObject(*keys::endpointKey(svc.meta.namespace_, svc.meta.name), want);
    ctx_.cache.setEndpoint(sl, std::move(want));
  }
  writeManifest(sl);
  return "";
}

void EndpointsLoop::writeManifest(const std::string& sl) {
  Endpoint current = ctx_.cache.endpoints()[sl];
  current.meta.revision = 0;
  auto& manifests = ctx_.cache.clusterManifests();
  auto cm = manifests.find(sl);
  auto from = manifestFrom_.find(sl);
  if (cm != manifests.end() && from != manifestFrom_.end() && from->second == current) return;
  std::string manifest = encodeObject(current);
  if (cm == manifests.end() || cm->second != manifest) {
    ctx_.batch.put(*keys::clusterEndpointManifestKey(sl), manifest);
    manifests[sl] = std::move(manifest);
  }
  manifestFrom_[sl] = std::move(current);
}

}  // namespace lb::controller::loops
