// The namespaced kinds users write — service, secret, config, route, volume —
// one generic CRUD over KindTraits, plus the service's children
// (deployments, pods: read-only), its logs and its rollback.

#include <nlohmann/json.hpp>
#include <tuple>

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/handlers/node_agent.h"
#include "api/kinds.h"
#include "api/quota.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;

template <class T>
StatusOr<std::string> objectKey(const Request& req, const std::string& ns) {
  const char* param = KindTraits<T>::kWord;
  LB_RETURN_IF_ERROR(checkPathName(req, param));
  auto key = KindTraits<T>::key(ns, req.param(param));
  if (!key.isOk()) return invalidArgument(key.status().message(), param);
  return key;
}

// The namespace of the path, checked and existing.
StatusOr<std::string> pathNamespace(const Context& ctx, const Request& req) {
  LB_RETURN_IF_ERROR(checkPathName(req, "namespace"));
  auto ns = readNamespace(ctx, req.param("namespace"));
  if (!ns.isOk()) return ns.status();
  return req.param("namespace");
}

template <class T>
Response list(const Context& ctx, const Request& req) {
  auto ns = pathNamespace(ctx, req);
  if (!ns.isOk()) return Response::error(ns.status());
  auto prefix = KindTraits<T>::prefix(*ns);
  if (!prefix.isOk()) return Response::error(prefix.status());
  auto json = listStoredJson(*ctx.store, *prefix);
  if (!json.isOk()) return Response::error(json.status());
  return Response::json(200, std::move(*json));
}

// Reads the object the path names with read(key, what) -> StatusOr<R>.
template <class T, class Read>
auto readAtPath(const Context& ctx, const Request& req, Read&& read)
    -> decltype(read(std::string(), std::string())) {
  LB_RETURN_IF_ERROR(checkPathName(req, "namespace"));
  const std::string& ns = req.param("namespace");
  auto key = objectKey<T>(req, ns);
  if (!key.isOk()) return key.status();
  auto obj = read(*key, describe<T>(ns, req.param(KindTraits<T>::kWord)));
  // A missing object in a missing namespace reports the namespace.
  if (!obj.isOk() && obj.status().code() == Code::kNotFound) {
    auto nsObj = readNamespace(ctx, ns);
    if (!nsObj.isOk()) return nsObj.status();
  }
  return obj;
}

template <class T>
StatusOr<T> readPathObject(const Context& ctx, const Request& req) {
  return readAtPath<T>(ctx, req, [&](const std::string& key, const std::string& what) {
    return readObject<T>(*ctx.store, key, what);
  });
}

template <class T>
Response get(const Context& ctx, const Request& req) {
  auto json = readAtPath<T>(ctx, req, [&](const std::string& key, const std::string& what) {
    return readStoredJson(*ctx.store, key, what);
  });
  if (!json.isOk()) return Response::error(json.status());
  return Response::json(200, std::move(*json));
}

template <class T>
Response create(const Context& ctx, const Request& req) {
  auto ns = pathNamespace(ctx, req);
  if (!ns.isOk()) return Response::error(ns.status());
  auto body = decodeManifestBody(req, KindTraits<T>::kKind, *ns, "");
  if (!body.isOk()) return Response::error(body.status());
  auto desired = desiredFrom<T>(body->doc, *ns, ctx.cluster);
  if (!desired.isOk()) return Response::error(desired.status());
  auto key = KindTraits<T>::key(*ns, desired->meta.name);
  if (!key.isOk()) return Response::error(invalidArgument(key.status().message(), "meta.name"));
  if (Status s = checkQuotaOf(ctx, *ns, *desired); !s.isOk()) return Response::error(s);
  auto plan = planWrite<T>(std::nullopt, *desired, *key, ctx.now());
  if (!plan.isOk()) return Response::error(plan.status());
  auto rev = commit(ctx, {*plan->op});
  if (!rev.isOk()) return Response::error(rev.status());
  if (!*rev)
    return Response::error(alreadyExists(describe<T>(*ns, desired->meta.name) + " already exists"));
  plan->object.meta.revision = **rev;
  return jsonObject(201, plan->object);
}

template <class T>
Response update(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  const std::string& ns = req.param("namespace");
  auto key = objectKey<T>(req, ns);
  if (!key.isOk()) return Response::error(key.status());
  const std::string& name = req.param(KindTraits<T>::kWord);
  auto body = decodeManifestBody(req, KindTraits<T>::kKind, ns, name);
  if (!body.isOk()) return Response::error(body.status());
  auto desired = desiredFrom<T>(body->doc, ns, ctx.cluster);
  if (!desired.isOk()) return Response::error(desired.status());
  if (Status s = checkQuotaOf(ctx, ns, *desired); !s.isOk()) return Response::error(s);
  auto result = retryCas(ctx, describe<T>(ns, name), [&]() -> StatusOr<std::optional<T>> {
    auto existing = readPathObject<T>(ctx, req);
    if (!existing.isOk()) return existing.status();
    if (body->revision && *body->revision != existing->meta.revision)
      return conflict(describe<T>(ns, name) + " has revision " +
                      std::to_string(existing->meta.revision) + ", the request expects " +
                      std::to_string(*body->revision));
    auto plan = planWrite<T>(*existing, *desired, *key, ctx.now());
    if (!plan.isOk()) return plan.status();
    if (!plan->op) return std::optional<T>(plan->object);
    auto rev = commit(ctx, {*plan->op});
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<T>();
    plan->object.meta.revision = **rev;
    return std::optional<T>(plan->object);
  });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

// Extra keys deleted with an object (a service's endpoint and its cluster
// endpoint manifest); none for the other kinds.
template <class T>
StatusOr<std::vector<storage::Op>> dependents(const Context&, const T&) {
  return std::vector<storage::Op>{};
}

StatusOr<std::vector<storage::Op>> dependents(const Context& ctx, const types::Service& svc) {
  std::vector<storage::Op> ops;
  const auto& ns = svc.meta.namespace_;
  const auto& name = svc.meta.name;
  for (auto key :
       {keys::endpointKey(ns, name), keys::clusterEndpointManifestKey(svc.meta.selflink)}) {
    if (!key.isOk()) return key.status();
    auto o = ctx.store->get(*key);
    if (o.isOk())
      ops.push_back({storage::Op::Type::kDelete, o->key, "", o->revision});
    else if (o.status().code() != Code::kNotFound)
      return o.status();
  }
  return ops;
}

template <class T>
Response remove(const Context& ctx, const Request& req) {
  auto result = retryCas(
      ctx, describe<T>(req.param("namespace"), req.param(KindTraits<T>::kWord)),
      [&]() -> StatusOr<std::optional<T>> {
        auto obj = readPathObject<T>(ctx, req);
        if (!obj.isOk()) return obj.status();
        auto key = KindTraits<T>::key(obj->meta.namespace_, obj->meta.name);
        std::vector<storage::Op> ops{{storage::Op::Type::kDelete, *key, "", obj->meta.revision}};
        if constexpr (std::is_same_v<T, types::Service>) {
          // With deployments the controller tears the service down (pods first);
          // the API only records the intent.
          auto deps =
              ctx.store->list(*keys::deploymentsPrefix(obj->meta.namespace_, obj->meta.name));
          if (!deps.isOk()) return deps.status();
          if (!deps->items.empty()) {
            if (obj->status.state == types::State::kDestroy) return std::optional<T>(*obj);
            obj->status.state = types::State::kDestroy;
            obj->meta.updated = ctx.now();
            ops = {{storage::Op::Type::kPut, *key, encodeForStore(*obj), obj->meta.revision}};
          }
        }
        if (ops.front().type == storage::Op::Type::kDelete) {
          auto more = dependents(ctx, *obj);
          if (!more.isOk()) return more.status();
          ops.insert(ops.end(), more->begin(), more->end());
        }
        auto rev = commit(ctx, ops);
        if (!rev.isOk()) return rev.status();
        if (!*rev) return std::optional<T>();
        if (ops.front().type == storage::Op::Type::kPut) obj->meta.revision = **rev;
        return std::optional<T>(*obj);
      });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

template <class T>
void registerKind(Routes& routes, const Context* c) {
  const std::string collection = std::string("/namespace/{namespace}/") + KindTraits<T>::kWord;
  const std::string item = collection + "/{" + KindTraits<T>::kWord + "}";
  routes.get(collection, [c](const Request& r) { return list<T>(*c, r); });
  routes.post(collection, [c](const Request& r) { return create<T>(*c, r); });
  routes.get(item, [c](const Request& r) { return get<T>(*c, r); });
  routes.put(item, [c](const Request& r) { return update<T>(*c, r); });
  routes.del(item, [c](const Request& r) { return remove<T>(*c, r); });
}

// ---- service children --------------------------------------------------------

Response deployments(const Context& ctx, const Request& req) {
  auto svc = readPathObject<types::Service>(ctx, req);
  if (!svc.isOk()) return Response::error(svc.status());
  auto json =
      listStoredJson(*ctx.store, *keys::deploymentsPrefix(svc->meta.namespace_, svc->meta.name));
  if (!json.isOk()) return Response::error(json.status());
  return Response::json(200, std::move(*json));
}

StatusOr<types::Deployment> readDeployment(const Context& ctx, const Request& req) {
  auto svc = readPathObject<types::Service>(ctx, req);
  if (!svc.isOk()) return svc.status();
  LB_RETURN_IF_ERROR(checkPathName(req, "deployment", /*objectName=*/false));
  const std::string& dep = req.param("deployment");
  auto key = keys::deploymentKey(svc->meta.namespace_, svc->meta.name, dep);
  if (!key.isOk()) return invalidArgument(key.status().message(), "deployment");
  return readObject<types::Deployment>(
      *ctx.store, *key, "deployment '" + dep + "' of service '" + svc->meta.name + "'");
}

Response deployment(const Context& ctx, const Request& req) {
  auto dep = readDeployment(ctx, req);
  if (!dep.isOk()) return Response::error(dep.status());
  return jsonObject(200, *dep);
}

Response pods(const Context& ctx, const Request& req) {
  auto dep = readDeployment(ctx, req);
  if (!dep.isOk()) return Response::error(dep.status());
  auto prefix =
      keys::podsOfDeploymentPrefix(dep->meta.namespace_, req.param("service"), dep->meta.name);
  if (!prefix.isOk()) return Response::error(prefix.status());
  auto json = listStoredJson(*ctx.store, *prefix);
  if (!json.isOk()) return Response::error(json.status());
  return Response::json(200, std::move(*json));
}

// The deployment a rollback goes to: the one named, else the newest that
// ran another template than the service's spec (the previous one, also
// while a new spec is still rolling out).
StatusOr<types::Deployment> rollbackTarget(const types::Service& svc,
                                           const std::vector<types::Deployment>& deps,
                                           const std::string& name) {
  const types::Deployment* to = nullptr;
  for (const auto& d : deps) {
    if (!name.empty()) {
      if (d.meta.name == name) to = &d;
    } else if (!(d.spec.template_ == svc.spec.template_) &&
               (!to || std::tie(d.meta.created, d.meta.name) >
                           std::tie(to->meta.created, to->meta.name))) {
      to = &d;
    }
  }
  if (!name.empty() && !to)
    return notFound("deployment '" + name + "' of service '" + svc.meta.name + "' not found");
  if (!to)
    return invalidArgument("service '" + svc.meta.name +
                               "' has no earlier deployment with another spec to roll back to",
                           "deployment");
  if (to->spec.template_ == svc.spec.template_)
    return invalidArgument("service '" + svc.meta.name + "' already runs the spec of deployment '" +
                               to->meta.name + "'",
                           "deployment");
  return *to;
}

// POST .../rollback: the service's template becomes the one a kept
// deployment ran; the controller rolls it out as any new spec (blue/green).
// Replicas, selector and network stay as they are.
Response rollback(const Context& ctx, const Request& req) {
  auto name = decodeRollbackBody(req);
  if (!name.isOk()) return Response::error(name.status());
  std::string to;
  auto result = retryCas(
      ctx, describe<types::Service>(req.param("namespace"), req.param("service")),
      [&]() -> StatusOr<std::optional<types::Service>> {
        auto svc = readPathObject<types::Service>(ctx, req);
        if (!svc.isOk()) return svc.status();
        if (svc->status.state == types::State::kDestroy)
          return conflict("service '" + svc->meta.name + "' is being removed");
        auto deps = listObjects<types::Deployment>(
            *ctx.store, *keys::deploymentsPrefix(svc->meta.namespace_, svc->meta.name));
        if (!deps.isOk()) return deps.status();
        auto target = rollbackTarget(*svc, *deps, *name);
        if (!target.isOk()) return target.status();
        to = target->meta.name;
        svc->spec.template_ = target->spec.template_;
        LB_RETURN_IF_ERROR(checkQuotaOf(ctx, svc->meta.namespace_, *svc));
        svc->meta.updated = ctx.now();
        auto key = keys::serviceKey(svc->meta.namespace_, svc->meta.name);
        auto rev = commit(
            ctx, {{storage::Op::Type::kPut, *key, encodeForStore(*svc), svc->meta.revision}});
        if (!rev.isOk()) return rev.status();
        if (!*rev) return std::optional<types::Service>();
        svc->meta.revision = **rev;
        return std::optional<types::Service>(std::move(*svc));
      });
  if (!result.isOk()) return Response::error(result.status());
  return Response::json(200, "{\"deployment\":" + nlohmann::json(to).dump() +
                                 ",\"service\":" + types::toJson(*result) + "}");
}

// Logs live on the nodes: proxied from the agents that run the pods.
Response logs(const Context& ctx, const Request& req) {
  auto svc = readPathObject<types::Service>(ctx, req);
  if (!svc.isOk()) return Response::error(svc.status());
  return serviceLogs(ctx, req, req.param("namespace"), svc->meta.name);
}

}  // namespace

void registerObjectRoutes(Routes& routes, const Context& ctx) {
  const Context* c = &ctx;
  registerKind<types::Service>(routes, c);
  registerKind<types::Secret>(routes, c);
  registerKind<types::Config>(routes, c);
  registerKind<types::Route>(routes, c);
  registerKind<types::Volume>(routes, c);
  const std::string svc = "/namespace/{namespace}/service/{service}";
  routes.get(svc + "/deployment", [c](const Request& r) { return deployments(*c, r); });
  routes.get(svc + "/deployment/{deployment}", [c](const Request& r) { return deployment(*c, r); });
  routes.get(svc + "/deployment/{deployment}/pod", [c](const Request& r) { return pods(*c, r); });
  routes.get(svc + "/logs", [c](const Request& r) { return logs(*c, r); });
  routes.post(svc + "/rollback", [c](const Request& r) { return rollback(*c, r); });
  routes.websocket(svc + "/exec", [c](const Request& r, http::WebSocketConnection& ws) {
    serviceExec(*c, r, ws);
  });
}

}  // namespace lb::api
