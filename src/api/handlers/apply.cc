// PUT /namespace/{namespace}/apply: a manifest file (one or more documents)
// applied all-or-nothing. Everything is parsed and validated before any
// read-for-write; then one transaction carries every create (expect absent)
// and update (expect the read revision). Losing a race to another writer
// re-reads and re-plans, a few times, so the response always describes what
// was actually committed.
//
// ?dry-run=true plans the same way and commits nothing: each item also
// carries the object as stored (`before`, absent for a create) and as the
// apply would store it (`after`), both as manifest YAML with secret values
// masked, and each service whether a new deployment would roll (`rolls`,
// from the deployment hash the controller would compute).

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/kinds.h"
#include "api/quota.h"
#include "lastbackend/storage/keys.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;
using types::Document;
using types::Kind;

struct Item {
  Kind kind = Kind::kService;
  std::string name;
  Action action = Action::kUnchanged;
  std::string hash;  // Service: the hash its deployment will carry
  // Dry run only.
  std::optional<bool> rolls;  // Service: a new deployment would be made
  std::string before, after;  // manifest YAML; before is empty for a create
};

// "document N: " context for multi-document files (as parseManifests does).
Status inDocument(const Status& s, size_t index, size_t count) {
  return count > 1 ? s.withContext("document " + std::to_string(index + 1)) : s;
}

// Static checks of the whole file, before the store is touched.
Status checkDocuments(const std::vector<Document>& docs, const std::string& ns) {
  std::set<std::pair<Kind, std::string>> seen;
  for (size_t i = 0; i < docs.size(); ++i) {
    const Document& d = docs[i];
    if (d.kind == Kind::kNamespace && d.meta.name != ns)
      return inDocument(invalidArgument("the Namespace document names '" + d.meta.name +
                                            "' but is applied to namespace '" + ns + "'",
                                        "meta.name"),
                        i, docs.size());
    if (!seen.insert({d.kind, d.meta.name}).second)
      return inDocument(invalidArgument(std::string("duplicate ") + types::kindName(d.kind) + " '" +
                                            d.meta.name + "' in one apply",
                                        "meta.name"),
                        i, docs.size());
  }
  return Status::ok();
}

using RefKey = std::pair<bool, std::string>;  // {secret?, name}

struct Batch {
  std::vector<storage::Op> ops;
  std::vector<Item> items;
  // Dry run: what each applied secret or config would hold (the JSON of its
  // spec, as the controller hashes it) and each applied service's template.
  std::map<RefKey, std::string> refData;
  std::map<std::string, types::PodTemplate> templates;
  // For the quota: each applied service's spec, the applied Namespace's limits.
  std::map<std::string, types::ServiceSpec> services;
  std::optional<types::NamespaceAmounts> limits;
};

// A secret's values never leave the api: "***", marked where they differ.
void maskSecret(types::Document* before, types::Document* after) {
  auto* a = std::get_if<types::DataManifestSpec>(&after->spec);
  auto* b = before ? std::get_if<types::DataManifestSpec>(&before->spec) : nullptr;
  auto valueOf = [](const types::DataManifestSpec* d, const std::string& key) {
    std::optional<std::string> v;
    if (d)
      for (const auto& i : d->data)
        if (i.key == key) v = i.value.value_or("");
    return v;
  };
  std::map<std::string, bool> same;
  if (a)
    for (const auto& i : a->data) same[i.key] = valueOf(b, i.key) == i.value.value_or("");
  auto mask = [&](types::DataManifestSpec* d, const char* side) {
    if (!d) return;
    for (auto& i : d->data) {
      auto it = same.find(i.key);
      i.value = it != same.end() && it->second ? "***" : std::string("*** (") + side + ")";
      i.file.reset();
    }
  };
  mask(b, "before");
  mask(a, "after");
}

template <class T>
void describeChange(const std::optional<T>& existing, const T& next, Item* item) {
  std::optional<types::Document> before;
  if (existing) before = types::toDocument(*existing);
  types::Document after = types::toDocument(next);
  if constexpr (std::is_same_v<T, types::Secret>) maskSecret(before ? &*before : nullptr, &after);
  if (before) item->before = types::toManifestYaml(*before);
  item->after = types::toManifestYaml(after);
}

template <class T>
Status planDocument(const Context& ctx, const Document& doc, const std::string& ns,
                    const std::string& now, bool dryRun, Batch* batch) {
  auto desired = desiredFrom<T>(doc, ns, ctx.cluster);
  if (!desired.isOk()) return desired.status();
  StatusOr<std::string> key = [&] {
    if constexpr (std::is_same_v<T, types::Namespace>)
      return keys::namespaceKey(ns);
    else
      return KindTraits<T>::key(ns, doc.meta.name);
  }();
  if (!key.isOk()) return invalidArgument(key.status().message(), "meta.name");
  auto existing = readOptional<T>(*ctx.store, *key);
  if (!existing.isOk()) return existing.status();
  auto plan = planWrite<T>(*existing, std::move(*desired), *key, now);
  if (!plan.isOk()) return plan.status();
  if (plan->op) batch->ops.push_back(std::move(*plan->op));
  Item item;
  item.kind = doc.kind;
  item.name = doc.meta.name;
  item.action = plan->action;
  if constexpr (std::is_same_v<T, types::Service>)
    batch->services[doc.meta.name] = plan->object.spec;
  if constexpr (std::is_same_v<T, types::Namespace>)
    batch->limits = plan->object.spec.resources.limits;
  if (dryRun) {
    describeChange(*existing, plan->object, &item);
    if constexpr (std::is_same_v<T, types::Service>)
      batch->templates[doc.meta.name] = plan->object.spec.template_;
    if constexpr (std::is_same_v<T, types::Secret> || std::is_same_v<T, types::Config>) {
      T data;
      data.spec = plan->object.spec;
      batch->refData[{std::is_same_v<T, types::Secret>, doc.meta.name}] = types::toJson(data);
    }
  }
  batch->items.push_back(std::move(item));
  return Status::ok();
}

Status planOne(const Context& ctx, const Document& doc, const std::string& ns,
               const std::string& now, bool dryRun, Batch* batch) {
  switch (doc.kind) {
    case Kind::kNamespace:
      return planDocument<types::Namespace>(ctx, doc, ns, now, dryRun, batch);
    case Kind::kService:
      return planDocument<types::Service>(ctx, doc, ns, now, dryRun, batch);
    case Kind::kSecret:
      return planDocument<types::Secret>(ctx, doc, ns, now, dryRun, batch);
    case Kind::kConfig:
      return planDocument<types::Config>(ctx, doc, ns, now, dryRun, batch);
    case Kind::kRoute:
      return planDocument<types::Route>(ctx, doc, ns, now, dryRun, batch);
    case Kind::kVolume:
      return planDocument<types::Volume>(ctx, doc, ns, now, dryRun, batch);
  }
  return invalidArgument("unknown kind", "kind");
}

std::string itemsJson(const std::vector<Item>& items, bool dryRun) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& i : items) {
    nlohmann::json item{
        {"kind", types::kindName(i.kind)}, {"name", i.name}, {"action", actionName(i.action)}};
    if (!i.hash.empty()) item["hash"] = i.hash;
    if (dryRun) {
      if (i.rolls) item["rolls"] = *i.rolls;
      if (!i.before.empty()) item["before"] = i.before;
      item["after"] = i.after;
    }
    arr.push_back(std::move(item));
  }
  nlohmann::json out{{"items", std::move(arr)}};
  if (dryRun) out["dryRun"] = true;
  return out.dump();
}

// The data of a secret or config as the controller hashes it: the JSON of
// its spec alone.
template <class T>
std::optional<std::string> refData(const Context& ctx, const std::string& ns,
                                   const std::string& name) {
  auto key = KindTraits<T>::key(ns, name);
  if (!key.isOk()) return std::nullopt;
  auto obj = readOptional<T>(*ctx.store, *key);
  if (!obj.isOk() || !*obj) return std::nullopt;
  T data;
  data.spec = (*obj)->spec;
  return types::toJson(data);
}

// Whether the service already has a live deployment of this template hash
// (the controller makes a new one otherwise). A failed read says no.
bool hasDeployment(const Context& ctx, const std::string& ns, const std::string& svc,
                   const std::string& hash) {
  auto prefix = keys::deploymentsPrefix(ns, svc);
  if (!prefix.isOk()) return false;
  auto deps = listObjects<types::Deployment>(*ctx.store, *prefix);
  if (!deps.isOk()) return false;
  for (const auto& d : *deps)
    if (d.spec.templateHash == hash && d.status.state != types::State::kDestroy &&
        d.status.state != types::State::kDestroyed)
      return true;
  return false;
}

// Each applied service's deployment hash (types::deploymentHash), from the
// store as the apply left it — or, in a dry run, as it would leave it (the
// batch's secrets, configs and templates first): `lb namespace apply --wait`
// waits for the deployment that carries it. A read that fails leaves it out.
void addDeploymentHashes(const Context& ctx, const std::string& ns, const Batch* dryRun,
                         std::vector<Item>* items) {
  // Each secret or config read once, however many services take it.
  std::map<RefKey, std::optional<std::string>> read;
  auto data = [&](bool secret, const std::string& name) -> std::optional<std::string> {
    if (dryRun)
      if (auto it = dryRun->refData.find({secret, name}); it != dryRun->refData.end())
        return it->second;
    auto [it, fresh] = read.try_emplace({secret, name});
    if (fresh)
      it->second =
          secret ? refData<types::Secret>(ctx, ns, name) : refData<types::Config>(ctx, ns, name);
    return it->second;
  };
  for (auto& item : *items) {
    if (item.kind != Kind::kService) continue;
    if (dryRun) {
      auto t = dryRun->templates.find(item.name);
      if (t == dryRun->templates.end()) continue;
      item.hash = types::deploymentHash(t->second, data);
      item.rolls = !hasDeployment(ctx, ns, item.name, item.hash);
      continue;
    }
    auto key = KindTraits<types::Service>::key(ns, item.name);
    if (!key.isOk()) continue;
    auto svc = readOptional<types::Service>(*ctx.store, *key);
    if (!svc.isOk() || !*svc) continue;
    item.hash = types::deploymentHash((*svc)->spec.template_, data);
  }
}

StatusOr<bool> dryRunParam(const Request& req) {
  auto v = req.queryParam("dry-run");
  if (!v || *v == "false" || *v == "0") return false;
  if (*v == "true" || *v == "1" || v->empty()) return true;
  return invalidArgument("dry-run must be true or false, not '" + *v + "'", "dry-run");
}

Response apply(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  const std::string& ns = req.param("namespace");
  auto dryRun = dryRunParam(req);
  if (!dryRun.isOk()) return Response::error(dryRun.status());
  if (Status s = checkManifestContentType(req); !s.isOk()) return Response::error(s);
  auto docs = decodeManifests(req.body);
  if (!docs.isOk()) return Response::error(docs.status());
  if (Status s = checkDocuments(*docs, ns); !s.isOk()) return Response::error(s);
  bool createsNamespace = false;
  for (const auto& d : *docs) createsNamespace |= d.kind == Kind::kNamespace;

  auto plan = [&]() -> StatusOr<Batch> {
    if (!createsNamespace) {
      auto nsObj = readNamespace(ctx, ns);
      if (!nsObj.isOk()) return nsObj.status();
    }
    Batch batch;
    const std::string now = ctx.now();
    for (size_t i = 0; i < docs->size(); ++i) {
      Status s = planOne(ctx, (*docs)[i], ns, now, *dryRun, &batch);
      if (!s.isOk()) return inDocument(s, i, docs->size());
    }
    LB_RETURN_IF_ERROR(
        checkQuota(ctx, ns, batch.services, batch.limits ? &*batch.limits : nullptr));
    return batch;
  };
  if (*dryRun) {
    auto batch = plan();
    if (!batch.isOk()) return Response::error(batch.status());
    addDeploymentHashes(ctx, ns, &*batch, &batch->items);
    return Response::json(200, itemsJson(batch->items, true));
  }
  auto result = retryCas(ctx, "namespace '" + ns + "'", [&]() -> StatusOr<std::optional<Batch>> {
    auto batch = plan();
    if (!batch.isOk()) return batch.status();
    if (batch->ops.empty()) return std::optional<Batch>(std::move(*batch));
    auto rev = commit(ctx, batch->ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Batch>();
    return std::optional<Batch>(std::move(*batch));
  });
  if (!result.isOk()) return Response::error(result.status());
  addDeploymentHashes(ctx, ns, nullptr, &result->items);
  return Response::json(200, itemsJson(result->items, false));
}

}  // namespace

void registerApplyRoutes(Routes& routes, const Context& ctx) {
  const Context* c = &ctx;
  routes.put("/namespace/{namespace}/apply", [c](const Request& r) { return apply(*c, r); });
}

}  // namespace lb::api
