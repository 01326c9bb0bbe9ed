// /namespace: list, create, read (with what its services take of its
// quota), update, and delete with everything inside.

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/kinds.h"
#include "api/quota.h"
#include "lastbackend/common/logging.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;
using types::Namespace;

std::string nsWhat(const std::string& ns) { return "namespace '" + ns + "'"; }

// Every key namespace `ns` holds: its objects in each namespaced collection,
// the per-node manifests of its pods (and volumes, endpoints, secrets,
// configs), and its cluster endpoint manifests. Selflinks start with "ns:",
// so a prefix/suffix test on the last key segment is exact.
StatusOr<std::vector<storage::Object>> namespaceContents(const Context& ctx,
                                                         const std::string& ns) {
  std::vector<storage::Object> out;
  const keys::Collection owned[] = {keys::Collection::kService, keys::Collection::kDeployment,
                                    keys::Collection::kPod,     keys::Collection::kEndpoint,
                                    keys::Collection::kSecret,  keys::Collection::kConfig,
                                    keys::Collection::kVolume,  keys::Collection::kRoute};
  for (auto c : owned) {
    auto prefix = keys::namespacePrefix(c, ns);
    if (!prefix.isOk()) return prefix.status();
    auto l = ctx.store->list(*prefix);
    if (!l.isOk()) return l.status().withContext("listing '" + *prefix + "'");
    for (auto& o : l->items) out.push_back(std::move(o));
  }
  const std::string selflinkPrefix = ns + ":";
  for (const std::string& prefix :
       {std::string("/manifest/node/"), std::string("/manifests/cluster/endpoint/")}) {
    auto l = ctx.store->list(prefix);
    if (!l.isOk()) return l.status().withContext("listing '" + prefix + "'");
    for (auto& o : l->items) {
      std::string_view last = std::string_view(o.key).substr(o.key.rfind('/') + 1);
      if (last.substr(0, selflinkPrefix.size()) == selflinkPrefix) out.push_back(std::move(o));
    }
  }
  return out;
}

Response list(const Context& ctx) {
  auto json = listStoredJson(*ctx.store, keys::collectionPrefix(keys::Collection::kNamespace));
  if (!json.isOk()) return Response::error(json.status());
  return Response::json(200, std::move(*json));
}

Response create(const Context& ctx, const Request& req) {
  auto body = decodeNamespaceBody(req, /*create=*/true);
  if (!body.isOk()) return Response::error(body.status());
  auto key = keys::namespaceKey(body->name);
  if (!key.isOk()) return Response::error(invalidArgument(key.status().message(), "name"));
  Namespace ns;
  ns.meta.name = body->name;
  ns.meta.selflink = types::namespaceSelflink(body->name);
  ns.meta.description = body->description.value_or("");
  ns.meta.labels = body->labels.value_or(types::Labels{});
  normalize(ns, ctx.cluster);
  auto plan = planWrite<Namespace>(std::nullopt, ns, *key, ctx.now());
  if (!plan.isOk()) return Response::error(plan.status());
  auto rev = commit(ctx, {*plan->op});
  if (!rev.isOk()) return Response::error(rev.status());
  if (!*rev) return Response::error(alreadyExists(nsWhat(body->name) + " already exists"));
  plan->object.meta.revision = **rev;
  return jsonObject(201, plan->object);
}

Response get(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  auto ns = readNamespace(ctx, req.param("namespace"));
  if (!ns.isOk()) return Response::error(ns.status());
  auto usage = namespaceUsage(ctx, ns->meta.name);
  if (!usage.isOk()) return Response::error(usage.status());
  ns->status.usage = *usage;
  return jsonObject(200, *ns);
}

Response update(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  const std::string& name = req.param("namespace");
  auto body = decodeNamespaceBody(req, /*create=*/false);
  if (!body.isOk()) return Response::error(body.status());
  auto result = retryCas(ctx, nsWhat(name), [&]() -> StatusOr<std::optional<Namespace>> {
    auto existing = readNamespace(ctx, name);
    if (!existing.isOk()) return existing.status();
    if (body->revision && *body->revision != existing->meta.revision)
      return conflict(nsWhat(name) + " has revision " + std::to_string(existing->meta.revision) +
                      ", the request expects " + std::to_string(*body->revision));
    Namespace desired = *existing;
    if (body->description) desired.meta.description = *body->description;
    if (body->labels) desired.meta.labels = *body->labels;
    auto plan = planWrite<Namespace>(*existing, desired, *keys::namespaceKey(name), ctx.now());
    if (!plan.isOk()) return plan.status();
    if (!plan->op) return std::optional<Namespace>(plan->object);
    auto rev = commit(ctx, {*plan->op});
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Namespace>();
    plan->object.meta.revision = **rev;
    return std::optional<Namespace>(plan->object);
  });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

// Deletes the namespace and all it holds in one transaction, each key
// conditioned on the revision it was listed at: a write racing the delete
// (a controller creating a pod) fails the transaction, which is retried
// with a fresh listing, so nothing is left orphaned.
Response remove(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  const std::string& name = req.param("namespace");
  auto result = retryCas(ctx, nsWhat(name), [&]() -> StatusOr<std::optional<Namespace>> {
    auto ns = readNamespace(ctx, name);
    if (!ns.isOk()) return ns.status();
    auto contents = namespaceContents(ctx, name);
    if (!contents.isOk()) return contents.status();
    std::vector<storage::Op> ops;
    for (const auto& o : *contents)
      ops.push_back({storage::Op::Type::kDelete, o.key, "", o.revision});
    ops.push_back({storage::Op::Type::kDelete, *keys::namespaceKey(name), "", ns->meta.revision});
    auto rev = commit(ctx, ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Namespace>();
    spdlog::info("namespace '{}' deleted with {} objects", name, contents->size());
    return std::optional<Namespace>(*ns);
  });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

}  // namespace

void registerNamespaceRoutes(Routes& routes, const Context& ctx) {
  const Context* c = &ctx;
  routes.get("/namespace", [c](const Request&) { return list(*c); });
  routes.post("/namespace", [c](const Request& r) { return create(*c, r); });
  routes.get("/namespace/{namespace}", [c](const Request& r) { return get(*c, r); });
  routes.put("/namespace/{namespace}", [c](const Request& r) { return update(*c, r); });
  routes.del("/namespace/{namespace}", [c](const Request& r) { return remove(*c, r); });
}

}  // namespace lb::api
