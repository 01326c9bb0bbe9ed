#include "controller/loops/routes.h"

#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;

std::vector<Kind> RoutesLoop::kinds() const { return {Kind::kRoute, Kind::kEndpoint}; }

void RoutesLoop::onChange(const Change& c) {
  if (c.kind == Kind::kRoute) {
    ctx_.queue.enqueue('r', c.id);
    return;
  }
  // An endpoint changed: the routes of its namespace may point at it.
  std::string ns = detail::selflinkPrefix(c.id, 1);
  forPrefix(ctx_.cache.routes(), ns + ":",
            [&](const std::string& r, types::Route&) { ctx_.queue.enqueue('r', r); });
}

void RoutesLoop::resync() {
  for (const auto& [sl, r] : ctx_.cache.routes()) ctx_.queue.enqueue('r', sl);
}

void RoutesLoop::reconcile(const std::string& sl) {
  auto it = ctx_.cache.routes().find(sl);
  if (it == ctx_.cache.routes().end()) return;
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
  if (it->second.status.state == state && it->second.status.message == message) return;
  types::Route r = it->second;
  r.status.state = state;
  r.status.message = message;
  ctx_.batch.putObject(*keys::objectKey(keys::Collection::kRoute, sl), r);
  ctx_.cache.routes()[sl] = std::move(r);
}

}  // namespace lb::controller::loops
