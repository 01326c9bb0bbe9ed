// What the ingresses need beyond registration (docs/ingress.md): the
// ingress manifest they follow, and the route states they report.

#include <nlohmann/json.hpp>

#include "api/handlers/ingress.h"
#include "api/registered.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/types/route.h"
#include "lastbackend/types/secret.h"

namespace lb::api {

namespace keys = storage::keys;

namespace {

// Stored JSON by the key's last segment; a value that is not JSON is
// skipped (it would break the whole answer).
void addItems(nlohmann::json& out, const std::string& prefix, const storage::ListResult& l) {
  for (const auto& o : l.items) {
    auto v = nlohmann::json::parse(o.value, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) {
      spdlog::warn("manifest at '{}' is not JSON; skipped", o.key);
      continue;
    }
    out[o.key.substr(prefix.size())] = std::move(v);
  }
}

}  // namespace

StatusOr<std::string> ingressSpecBody(const Context& ctx) {
  const std::string routesPrefix = keys::clusterRouteManifestsPrefix();
  const std::string endpointsPrefix = keys::clusterEndpointManifestsPrefix();
  // Routes first: their listing gives the answer's revision (the rest, read
  // after, holds at least that state).
  auto routes = ctx.store->list(routesPrefix);
  if (!routes.isOk()) return routes.status();
  auto endpoints = ctx.store->list(endpointsPrefix);
  if (!endpoints.isOk()) return endpoints.status();
  nlohmann::json body = {{"revision", routes->revision},
                         {"routes", nlohmann::json::object()},
                         {"endpoints", nlohmann::json::object()},
                         {"secrets", nlohmann::json::object()}};
  addItems(body["routes"], routesPrefix, *routes);
  addItems(body["endpoints"], endpointsPrefix, *endpoints);
  // The certificates of HTTPS routes: only the secrets a route names.
  for (const auto& o : routes->items) {
    types::Route r;
    if (!types::fromJson(o.value, &r).isOk() || r.spec.tls.secret.empty()) continue;
    const std::string sl = r.meta.namespace_ + ":" + r.spec.tls.secret;
    auto key = keys::objectKey(keys::Collection::kSecret, sl);
    if (!key.isOk() || body["secrets"].contains(sl)) continue;
    auto s = ctx.store->get(*key);
    if (!s.isOk()) {
      if (s.status().code() == Code::kNotFound) continue;  // the ingress says which
      return s.status();
    }
    auto v = nlohmann::json::parse(s->value, nullptr, false);
    if (!v.is_discarded()) body["secrets"][sl] = std::move(v);
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status applyRouteStates(const Context& ctx, const std::vector<types::IngressRouteState>& states) {
  constexpr size_t kMaxMessage = 1024;
  for (const auto& st : states) {
    if (st.state != "ready" && st.state != "error")
      return invalidArgument("route state must be ready or error, not '" + st.state + "'",
                             "status.routes.state");
    auto key = keys::objectKey(keys::Collection::kRoute, st.route);
    if (!key.isOk()) return invalidArgument(key.status().message(), "status.routes.route");
    const std::string message = st.message.substr(0, kMaxMessage);
    auto done = retryCas(ctx, "route '" + st.route + "'", [&]() -> StatusOr<std::optional<bool>> {
      auto o = ctx.store->get(*key);
      if (!o.isOk()) {
        if (o.status().code() == Code::kNotFound) return std::optional<bool>(false);  // removed
        return o.status();
      }
      auto r = decodeStored<types::Route>(*o);
      if (!r.isOk()) return r.status();
      // A route the controller finds incomplete stays `provision`.
      if (r->status.state == "provision") return std::optional<bool>(false);
      if (r->status.state == st.state && r->status.message == message)
        return std::optional<bool>(false);
      r->status.state = st.state;
      r->status.message = message;
      auto rev = commit(ctx, {{storage::Op::Type::kPut, *key, encodeForStore(*r), o->revision}});
      if (!rev.isOk()) return rev.status();
      if (!*rev) return std::optional<bool>();
      return std::optional<bool>(true);
    });
    if (!done.isOk()) return done.status();
  }
  return Status::ok();
}

}  // namespace lb::api
