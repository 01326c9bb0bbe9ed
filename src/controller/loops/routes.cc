#include "controller/loops/routes.h"

#include "controller/batch.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;

std::vector<Kind> RoutesLoop::kinds() const {
  return {Kind::kRoute, Kind::kEndpoint, Kind::kRouteManifest, Kind::kSecret};
}

void RoutesLoop::onChange(const Change& c) {
  if (c.kind == Kind::kRoute || c.kind == Kind::kRouteManifest) {
    ctx_.queue.enqueue('r', c.id);
    return;
  }
  // An endpoint or a secret changed: the routes of its namespace may name it.
  std::string ns = detail::selflinkPrefix(c.id, 1);
  if (c.kind == Kind::kSecret) {
    const std::string name = detail::selflinkName(c.id);
    forPrefix(ctx_.cache.routes(), ns + ":", [&](const std::string& r, types::Route& route) {
      if (route.spec.tls.secret == name) ctx_.queue.enqueue('r', r);
    });
    return;
  }
  forPrefix(ctx_.cache.routes(), ns + ":",
            [&](const std::string& r, types::Route&) { ctx_.queue.enqueue('r', r); });
}

void RoutesLoop::resync() {
  for (const auto& [sl, r] : ctx_.cache.routes()) ctx_.queue.enqueue('r', sl);
  // Manifests of routes removed while no controller led.
  for (const auto& [sl, m] : ctx_.cache.routeManifests())
    if (!ctx_.cache.routes().count(sl)) ctx_.queue.enqueue('r', sl);
}

// The ingresses' copy of the route: its spec as stored (the API filled the
// domain), nothing of its status, so a status write wakes no ingress.
void RoutesLoop::writeManifest(const std::string& sl, const types::Route& route) {
  types::Route m;
  m.meta = route.meta;
  m.meta.revision = 0;
  m.spec = route.spec;
  m.status = {};
  // A new certificate in the secret changes the manifest (so the ingresses
  // are woken and load it); the manifest carries a digest, never the value.
  if (!route.spec.tls.secret.empty()) {
    auto sec = ctx_.cache.secrets().find(route.meta.namespace_ + ":" + route.spec.tls.secret);
    std::string all;
    if (sec != ctx_.cache.secrets().end())
      for (const auto& [k, v] : sec->second.spec.data) all += k + '\0' + v + '\0';
    m.meta.labels[kRouteTlsDigest] = std::to_string(std::hash<std::string>{}(all));
  }
  std::string bytes = encodeObject(m);
  auto& manifests = ctx_.cache.routeManifests();
  auto cur = manifests.find(sl);
  if (cur != manifests.end() && cur->second == bytes) return;
  ctx_.batch.put(*keys::clusterRouteManifestKey(sl), bytes);
  manifests[sl] = std::move(bytes);
}

void RoutesLoop::reconcile(const std::string& sl) {
  auto it = ctx_.cache.routes().find(sl);
  if (it == ctx_.cache.routes().end()) {
    if (ctx_.cache.routeManifests().erase(sl))
      ctx_.batch.remove(*keys::clusterRouteManifestKey(sl), false);
    return;
  }
  writeManifest(sl, it->second);
  const std::string ns = detail::selflinkPrefix(sl, 1);
  // Complete routes wait for an ingress to serve them (a later state).
  std::string state = kRouteInitialized, message;
  if (it->second.spec.rules.empty()) {
    state = kRouteProvision;
    message = "no rules";
  }
  for (const auto& rule : it->second.spec.rules) {
    auto ep = ctx_.cache.endpoints().find(ns + ":" + rule.service);
    if (ep == ctx_.cache.endpoints().end() || ep->second.spec.upstreams.empty()) {
      state = kRouteProvision;
      message = "service '" + rule.service + "' has no ready endpoint";
      break;
    }
  }
  // A complete route keeps what an ingress reported (ready, error).
  const std::string& now = it->second.status.state;
  if (state == kRouteInitialized && now != kRouteProvision && !now.empty()) return;
  if (now == state && it->second.status.message == message) return;
  types::Route r = it->second;
  r.status.state = state;
  r.status.message = message;
  ctx_.batch.putObject(*keys::objectKey(keys::Collection::kRoute, sl), r);
  ctx_.cache.routes()[sl] = std::move(r);
}

}  // namespace lb::controller::loops
