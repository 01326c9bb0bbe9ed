// PUT /namespace/{namespace}/apply: a manifest file (one or more documents)
// applied all-or-nothing. Everything is parsed and validated before any
// read-for-write; then one transaction carries every create (expect absent)
// and update (expect the read revision). Losing a race to another writer
// re-reads and re-plans, a few times, so the response always describes what
// was actually committed.

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/kinds.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;
using types::Document;
using types::Kind;

struct Item {
  Kind kind;
  std::string name;
  Action action;
  std::string hash;  // Service: the hash its deployment will carry
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

struct Batch {
  std::vector<storage::Op> ops;
  std::vector<Item> items;
};

template <class T>
Status planDocument(const Context& ctx, const Document& doc, const std::string& ns,
                    const std::string& now, Batch* batch) {
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
  batch->items.push_back({doc.kind, doc.meta.name, plan->action});
  return Status::ok();
}

Status planOne(const Context& ctx, const Document& doc, const std::string& ns,
               const std::string& now, Batch* batch) {
  switch (doc.kind) {
    case Kind::kNamespace:
      return planDocument<types::Namespace>(ctx, doc, ns, now, batch);
    case Kind::kService:
      return planDocument<types::Service>(ctx, doc, ns, now, batch);
    case Kind::kSecret:
      return planDocument<types::Secret>(ctx, doc, ns, now, batch);
    case Kind::kConfig:
      return planDocument<types::Config>(ctx, doc, ns, now, batch);
    case Kind::kRoute:
      return planDocument<types::Route>(ctx, doc, ns, now, batch);
    case Kind::kVolume:
      return planDocument<types::Volume>(ctx, doc, ns, now, batch);
  }
  return invalidArgument("unknown kind", "kind");
}

std::string itemsJson(const std::vector<Item>& items) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& i : items) {
    nlohmann::json item{
        {"kind", types::kindName(i.kind)}, {"name", i.name}, {"action", actionName(i.action)}};
    if (!i.hash.empty()) item["hash"] = i.hash;
    arr.push_back(std::move(item));
  }
  return nlohmann::json{{"items", std::move(arr)}}.dump();
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

// Each applied service's deployment hash (types::deploymentHash), from the
// store as the apply left it: `lb namespace apply --wait` waits for the
// deployment that carries it. A read that fails leaves it out.
void addDeploymentHashes(const Context& ctx, const std::string& ns, std::vector<Item>* items) {
  // Each secret or config read once, however many services take it.
  std::map<std::pair<bool, std::string>, std::optional<std::string>> read;
  auto data = [&](bool secret, const std::string& name) {
    auto [it, fresh] = read.try_emplace({secret, name});
    if (fresh)
      it->second = secret ? refData<types::Secret>(ctx, ns, name)
                          : refData<types::Config>(ctx, ns, name);
    return it->second;
  };
  for (auto& item : *items) {
    if (item.kind != Kind::kService) continue;
    auto key = KindTraits<types::Service>::key(ns, item.name);
    if (!key.isOk()) continue;
    auto svc = readOptional<types::Service>(*ctx.store, *key);
    if (!svc.isOk() || !*svc) continue;
    item.hash = types::deploymentHash((*svc)->spec.template_, data);
  }
}

Response apply(const Context& ctx, const Request& req) {
  if (Status s = checkPathName(req, "namespace"); !s.isOk()) return Response::error(s);
  const std::string& ns = req.param("namespace");
  if (Status s = checkManifestContentType(req); !s.isOk()) return Response::error(s);
  auto docs = decodeManifests(req.body);
  if (!docs.isOk()) return Response::error(docs.status());
  if (Status s = checkDocuments(*docs, ns); !s.isOk()) return Response::error(s);
  bool createsNamespace = false;
  for (const auto& d : *docs) createsNamespace |= d.kind == Kind::kNamespace;

  auto result = retryCas(ctx, "namespace '" + ns + "'", [&]() -> StatusOr<std::optional<Batch>> {
    if (!createsNamespace) {
      auto nsObj = readNamespace(ctx, ns);
      if (!nsObj.isOk()) return nsObj.status();
    }
    Batch batch;
    const std::string now = ctx.now();
    for (size_t i = 0; i < docs->size(); ++i) {
      Status s = planOne(ctx, (*docs)[i], ns, now, &batch);
      if (!s.isOk()) return inDocument(s, i, docs->size());
    }
    if (batch.ops.empty()) return std::optional<Batch>(std::move(batch));
    auto rev = commit(ctx, batch.ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Batch>();
    return std::optional<Batch>(std::move(batch));
  });
  if (!result.isOk()) return Response::error(result.status());
  addDeploymentHashes(ctx, ns, &result->items);
  return Response::json(200, itemsJson(result->items));
}

}  // namespace

void registerApplyRoutes(Routes& routes, const Context& ctx) {
  const Context* c = &ctx;
  routes.put("/namespace/{namespace}/apply", [c](const Request& r) { return apply(*c, r); });
}

}  // namespace lb::api
