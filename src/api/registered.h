#pragma once

// Private to the REST API: objects that register themselves and then report
// (nodes, discovery, ingress, exporter). Each is kept as two keys, as the
// reference storage tree has them: "<base>/info" holds the object (meta,
// info, spec; status empty) and "<base>/status" holds an object of the same
// type with only meta.name and status. The reporter owns its status key and
// overwrites it on every report; the info key is written with CAS.

#include <map>
#include <string>
#include <vector>

#include "api/body.h"
#include "api/context.h"

namespace lb::api {

template <class T>
void mergeStatus(T* obj, const std::optional<T>& status) {
  if (status) obj->status = status->status;
}

// The merged object, or kNotFound naming `what`.
template <class T>
StatusOr<T> readRegistered(const Context& ctx, const std::string& infoKey,
                           const std::string& statusKey, const std::string& what) {
  auto obj = readObject<T>(*ctx.store, infoKey, what);
  if (!obj.isOk()) return obj;
  auto status = readOptional<T>(*ctx.store, statusKey);
  if (!status.isOk()) return status.status();
  mergeStatus(&*obj, *status);
  return obj;
}

// Every registered object under `prefix` ("/cluster/node/"), merged, by id.
template <class T>
StatusOr<std::vector<T>> listRegistered(const Context& ctx, const std::string& prefix) {
  auto l = ctx.store->list(prefix);
  if (!l.isOk()) return l.status().withContext("listing '" + prefix + "'");
  std::map<std::string, T> infos;
  std::map<std::string, T> statuses;
  for (const auto& o : l->items) {
    std::string rest = o.key.substr(prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos) continue;
    std::string id = rest.substr(0, slash), part = rest.substr(slash + 1);
    if (part != "info" && part != "status") continue;
    auto v = decodeStored<T>(o);
    if (!v.isOk()) return v.status();
    (part == "info" ? infos : statuses)[id] = std::move(*v);
  }
  std::vector<T> out;
  for (auto& [id, obj] : infos) {
    auto s = statuses.find(id);
    if (s != statuses.end()) obj.status = s->second.status;
    out.push_back(std::move(obj));
  }
  return out;
}

// The status-key form of `obj`: only the name and the status.
template <class T>
std::string statusValue(const T& obj) {
  T s;
  s.meta.name = obj.meta.name;
  s.status = obj.status;
  return encodeForStore(s);
}

// The info-key form of `obj`: everything but the status.
template <class T>
std::string infoValue(T obj) {
  obj.status = {};
  return encodeForStore(std::move(obj));
}

// PUT of a registering object (node agent, discovery, ingress, exporter):
// the JSON body at req names `id` or nobody; the info key is written with
// compare-and-swap, and not at all when nothing changed. On creation meta
// gets name, `selflink` and created; description and labels always come
// from the body, and `take(body, &next, isNew)` copies what else the kind
// lets a body set. The stored object with its status merged.
template <class T, class Take>
StatusOr<T> registerFromBody(const Context& ctx, const http::Request& req, const std::string& id,
                             const std::string& selflink, const std::string& infoKey,
                             const std::string& statusKey, const std::string& what, Take take) {
  LB_RETURN_IF_ERROR(requireJsonBody(req));
  T body;
  LB_RETURN_IF_ERROR(types::fromJson(req.body, &body));
  if (!body.meta.name.empty() && body.meta.name != id)
    return invalidArgument("body names '" + body.meta.name + "', the path '" + id + "'",
                           "meta.name");
  auto result = retryCas(ctx, what, [&]() -> StatusOr<std::optional<T>> {
    auto existing = readOptional<T>(*ctx.store, infoKey);
    if (!existing.isOk()) return existing.status();
    const bool isNew = !*existing;
    T next = isNew ? T{} : **existing;
    const std::string now = ctx.now();
    if (isNew) {
      next.meta.name = id;
      next.meta.selflink = selflink;
      next.meta.created = now;
    }
    next.meta.description = body.meta.description;
    next.meta.labels = body.meta.labels;
    take(body, &next, isNew);
    if (!isNew && infoValue(next) == infoValue(**existing)) return std::optional<T>(next);
    next.meta.updated = now;
    auto rev = commit(ctx, {{storage::Op::Type::kPut, infoKey, infoValue(next),
                             isNew ? 0 : (*existing)->meta.revision}});
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<T>();
    next.meta.revision = **rev;
    return std::optional<T>(next);
  });
  if (!result.isOk()) return result.status();
  auto status = readOptional<T>(*ctx.store, statusKey);
  if (status.isOk()) mergeStatus(&*result, *status);
  return result;
}

}  // namespace lb::api
