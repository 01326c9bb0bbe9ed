#pragma once

// Private to the REST API: what every handler shares (the store, the clock,
// the cluster options) and the small helpers that turn stored bytes into
// objects and objects into responses. Handlers stay thin: parse the request,
// call these, answer.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/http/message.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"

namespace lb::api {

// Options of the cluster the handlers need (from ApiConfig).
struct ClusterOptions {
  std::string name;
  std::string description;
  std::string domainInternal;  // "lb.local": namespaces get "<ns>.lb.local"
  std::string domainExternal;  // routes default to "<route>.<ns>.<external>"
};

struct Context {
  storage::Storage* store = nullptr;  // the instrumented store; never null
  const Clock* clock = nullptr;
  ClusterOptions cluster;
  // Conflicting concurrent writers retry this many times before a 409.
  int casAttempts = 5;

  std::string now() const { return formatRfc3339(clock->now()); }
};

// ---- objects in the store --------------------------------------------------

// Stored values never carry meta.revision: the store's key revision is the
// truth, filled in on every read (and after every write).
template <class T>
std::string encodeForStore(T obj) {
  obj.meta.revision = 0;
  return types::toJson(obj);
}

// Decodes a stored object; a value that does not decode is kInternal (the
// store holds something this build cannot read), never the client's fault.
template <class T>
StatusOr<T> decodeStored(const storage::Object& o) {
  T value;
  Status s = types::fromJson(o.value, &value);
  if (!s.isOk())
    return internalError("stored object at '" + o.key + "' does not decode: " + s.toString());
  value.meta.revision = o.revision;
  return value;
}

// The stored JSON of an object with meta.revision set to the key's revision.
// Reads answer from the stored bytes: stored values are the codec's own
// output, so decoding and re-encoding them only to fill in the revision cost
// most of a GET and nearly all of a LIST. kInternal when the bytes are not a
// JSON object with a "meta" object (a corrupt value is never the client's fault).
StatusOr<std::string> storedWithRevision(const storage::Object& o);

// The stored JSON of the object at `key` (see storedWithRevision); kNotFound names `what`.
StatusOr<std::string> readStoredJson(storage::Storage& store, const std::string& key,
                                     const std::string& what);

// A JSON array of every object under `prefix`, from the stored bytes.
StatusOr<std::string> listStoredJson(storage::Storage& store, const std::string& prefix);

// The object at `key`, with what=("service 'web'") naming it in a kNotFound.
template <class T>
StatusOr<T> readObject(storage::Storage& store, const std::string& key, const std::string& what) {
  auto o = store.get(key);
  if (!o.isOk()) {
    if (o.status().code() == Code::kNotFound) return notFound(what + " not found");
    return o.status().withContext("reading " + what);
  }
  return decodeStored<T>(*o);
}

// Like readObject, but a missing key is nullopt.
template <class T>
StatusOr<std::optional<T>> readOptional(storage::Storage& store, const std::string& key) {
  auto o = store.get(key);
  if (!o.isOk()) {
    if (o.status().code() == Code::kNotFound) return std::optional<T>();
    return o.status().withContext("reading '" + key + "'");
  }
  auto v = decodeStored<T>(*o);
  if (!v.isOk()) return v.status();
  return std::optional<T>(std::move(*v));
}

// Every object under `prefix` whose key has no further '/' after the prefix
// (so "/cluster/node/" does not mix info and status keys), decoded.
template <class T>
StatusOr<std::vector<T>> listObjects(storage::Storage& store, const std::string& prefix) {
  auto l = store.list(prefix);
  if (!l.isOk()) return l.status().withContext("listing '" + prefix + "'");
  std::vector<T> out;
  out.reserve(l->items.size());
  for (const auto& o : l->items) {
    auto v = decodeStored<T>(o);
    if (!v.isOk()) return v.status();
    out.push_back(std::move(*v));
  }
  return out;
}

// ---- requests --------------------------------------------------------------

// Validates a name taken from the path: a safe key segment (400/422 naming
// `param`) and, when `objectName`, the object-name rules of the types library.
Status checkPathName(const http::Request& req, const std::string& param, bool objectName = true);

// The namespace `ns` (404 "namespace 'x' not found").
StatusOr<types::Namespace> readNamespace(const Context& ctx, const std::string& ns);

// Commits `ops` in one transaction: the new revision, nullopt when a
// compare-and-swap condition failed (another writer won: re-read, retry),
// or the store's error.
StatusOr<std::optional<int64_t>> commit(const Context& ctx, const std::vector<storage::Op>& ops);

// Runs `attempt` (returning StatusOr<std::optional<R>>, nullopt = lost a
// compare-and-swap race) up to ctx.casAttempts times; then kConflict.
template <class F>
auto retryCas(const Context& ctx, const std::string& what, F&& attempt)
    -> StatusOr<typename std::decay_t<decltype(attempt().value())>::value_type> {
  for (int i = 0; i < ctx.casAttempts; ++i) {
    auto r = attempt();
    if (!r.isOk()) return r.status();
    if (r.value()) return std::move(*r.value());
  }
  return conflict(what + " was changed concurrently " + std::to_string(ctx.casAttempts) +
                  " times in a row; retry");
}

// ---- responses -------------------------------------------------------------

template <class T>
http::Response jsonObject(int status, const T& value) {
  return http::Response::json(status, types::toJson(value));
}

template <class T>
http::Response jsonList(const std::vector<T>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += types::toJson(values[i]);
  }
  out += ']';
  return http::Response::json(200, std::move(out));
}

// Runs a handler body, mapping a non-OK Status to the error response.
inline http::Response respond(const StatusOr<http::Response>& r) {
  return r.isOk() ? r.value() : http::Response::error(r.status());
}

}  // namespace lb::api
