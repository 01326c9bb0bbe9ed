// /discovery, /ingress, /exporter: cluster components register (PUT
// /{kind}/{name}) and report liveness (PUT /{kind}/{name}/status).

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/handlers/ingress.h"
#include "api/handlers/node_agent.h"
#include "api/kinds.h"
#include "api/registered.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;

template <class T>
struct ComponentTraits;

#define LB_API_COMPONENT(Type, Word, KeyFn, Coll)                                          \
  template <>                                                                              \
  struct ComponentTraits<types::Type> {                                                    \
    static constexpr const char* kWord = Word;                                             \
    static StatusOr<std::string> key(std::string_view id, keys::Part part) {               \
      return keys::KeyFn(id, part);                                                        \
    }                                                                                      \
    static std::string prefix() { return keys::collectionPrefix(keys::Collection::Coll); } \
  };
LB_API_COMPONENT(Discovery, "discovery", discoveryKey, kDiscovery)
LB_API_COMPONENT(Ingress, "ingress", ingressKey, kIngress)
LB_API_COMPONENT(Exporter, "exporter", exporterKey, kExporter)
#undef LB_API_COMPONENT

template <class T>
std::string what(const std::string& id) {
  return std::string(ComponentTraits<T>::kWord) + " '" + id + "'";
}

template <class T>
StatusOr<std::pair<std::string, std::string>> componentKeys(const Request& req) {
  const char* param = ComponentTraits<T>::kWord;
  LB_RETURN_IF_ERROR(checkPathName(req, param, /*objectName=*/false));
  auto info = ComponentTraits<T>::key(req.param(param), keys::Part::kInfo);
  if (!info.isOk()) return invalidArgument(info.status().message(), param);
  return std::make_pair(*info, *ComponentTraits<T>::key(req.param(param), keys::Part::kStatus));
}

template <class T>
StatusOr<T> readComponent(const Context& ctx, const Request& req) {
  auto k = componentKeys<T>(req);
  if (!k.isOk()) return k.status();
  return readRegistered<T>(ctx, k->first, k->second, what<T>(req.param(ComponentTraits<T>::kWord)));
}

template <class T>
StatusOr<T> decodeBody(const Request& req) {
  LB_RETURN_IF_ERROR(requireJsonBody(req));
  T body;
  LB_RETURN_IF_ERROR(types::fromJson(req.body, &body));
  return body;
}

template <class T>
Response list(const Context& ctx) {
  auto items = listRegistered<T>(ctx, ComponentTraits<T>::prefix());
  if (!items.isOk()) return Response::error(items.status());
  return jsonList(*items);
}

template <class T>
Response get(const Context& ctx, const Request& req) {
  auto obj = readComponent<T>(ctx, req);
  if (!obj.isOk()) return Response::error(obj.status());
  return jsonObject(200, *obj);
}

// Register or update: description, labels and spec from the body.
template <class T>
Response registerComponent(const Context& ctx, const Request& req) {
  auto k = componentKeys<T>(req);
  if (!k.isOk()) return Response::error(k.status());
  const std::string& id = req.param(ComponentTraits<T>::kWord);
  auto result = registerFromBody<T>(ctx, req, id, id, k->first, k->second, what<T>(id),
                                    [](const T& body, T* next, bool) { next->spec = body.spec; });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

// {"status": {...}}: online/ready as reported, heartbeat from the API clock.
template <class T>
Response reportStatus(const Context& ctx, const Request& req) {
  auto k = componentKeys<T>(req);
  if (!k.isOk()) return Response::error(k.status());
  auto body = decodeBody<T>(req);
  if (!body.isOk()) return Response::error(body.status());
  auto obj = readComponent<T>(ctx, req);
  if (!obj.isOk()) return Response::error(obj.status());
  if constexpr (std::is_same_v<T, types::Ingress>) {
    constexpr size_t kMaxRoutes = 100'000;
    if (body->status.routes.size() > kMaxRoutes)
      return Response::error(invalidArgument("at most 100000 route states", "status.routes"));
    if (Status s = applyRouteStates(ctx, body->status.routes); !s.isOk())
      return Response::error(s);
    body->status.routes.clear();  // kept on the routes, not twice
  }
  obj->status = body->status;
  obj->status.heartbeat = ctx.now();
  auto rev = ctx.store->set(k->second, statusValue(*obj));
  if (!rev.isOk()) return Response::error(rev.status().withContext("writing the status"));
  return jsonObject(200, *obj);
}

template <class T>
void registerComponentKind(Routes& routes, const Context* c) {
  const std::string base = std::string("/") + ComponentTraits<T>::kWord;
  const std::string item = base + "/{" + ComponentTraits<T>::kWord + "}";
  routes.get(base, [c](const Request&) { return list<T>(*c); });
  routes.get(item, [c](const Request& r) { return get<T>(*c, r); });
  routes.put(item, [c](const Request& r) { return registerComponent<T>(*c, r); });
  routes.put(item + "/status", [c](const Request& r) { return reportStatus<T>(*c, r); });
}

// GET /ingress/{ingress}/spec[?revision=N&timeout=25s]: the ingress
// manifest, long-polled like a node's spec.
Response ingressSpec(const Context& ctx, NodeSpecWaiters& waiters, const Request& req) {
  auto obj = readComponent<types::Ingress>(ctx, req);  // registered first
  if (!obj.isOk()) return Response::error(obj.status());
  if (req.queryParam("revision"))
    return longPollNodeSpec(waiters, req, NodeSpecWaiters::kIngresses,
                            [c = &ctx] { return ingressSpecBody(*c); });
  auto body = ingressSpecBody(ctx);
  if (!body.isOk()) return Response::error(body.status());
  return Response::json(200, std::move(*body));
}

}  // namespace

void registerComponentRoutes(Routes& routes, const Context& ctx, NodeSpecWaiters& waiters) {
  registerComponentKind<types::Discovery>(routes, &ctx);
  registerComponentKind<types::Ingress>(routes, &ctx);
  routes.get("/ingress/{ingress}/spec", [c = &ctx, w = &waiters](const Request& r) {
    return ingressSpec(*c, *w, r);
  });
  registerComponentKind<types::Exporter>(routes, &ctx);
}

}  // namespace lb::api
