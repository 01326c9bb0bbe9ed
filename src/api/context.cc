#include "api/context.h"

#include "api/kinds.h"
#include "lastbackend/types/validation.h"

namespace lb::api {

Status checkPathName(const http::Request& req, const std::string& param, bool objectName) {
  const std::string& value = req.param(param);
  std::string what = param + " name";
  Status s = keys::validateSegment(value, what);
  if (!s.isOk()) return invalidArgument(s.message(), param);
  if (objectName && !types::isValidName(value))
    return invalidArgument(what + " '" + value +
                               "' is invalid: 1-63 characters of a-z, 0-9 and '-', not starting "
                               "or ending with '-'",
                           param);
  return Status::ok();
}

void normalize(types::Namespace& ns, const ClusterOptions& cluster) {
  const std::string& name = ns.meta.name;
  if (ns.spec.domain.internal.empty() && !cluster.domainInternal.empty())
    ns.spec.domain.internal = name + "." + cluster.domainInternal;
  if (ns.spec.domain.external.empty() && !cluster.domainExternal.empty())
    ns.spec.domain.external = name + "." + cluster.domainExternal;
}

void normalize(types::Route& route, const ClusterOptions& cluster) {
  if (route.spec.domain.empty() && !cluster.domainExternal.empty())
    route.spec.domain =
        route.meta.name + "." + route.meta.namespace_ + "." + cluster.domainExternal;
}

Status checkWritable(const types::Service& svc) {
  if (svc.status.state == types::State::kDestroy || svc.status.state == types::State::kDestroyed)
    return conflict("service '" + svc.meta.name + "' is being destroyed");
  return Status::ok();
}

const char* actionName(Action a) {
  switch (a) {
    case Action::kCreated:
      return "created";
    case Action::kUpdated:
      return "updated";
    case Action::kUnchanged:
      return "unchanged";
  }
  return "unchanged";
}

}  // namespace lb::api

namespace lb::api {

StatusOr<types::Namespace> readNamespace(const Context& ctx, const std::string& ns) {
  auto key = keys::namespaceKey(ns);
  if (!key.isOk()) return invalidArgument(key.status().message(), "namespace");
  return readObject<types::Namespace>(*ctx.store, *key, "namespace '" + ns + "'");
}

StatusOr<std::optional<int64_t>> commit(const Context& ctx, const std::vector<storage::Op>& ops) {
  auto rev = ctx.store->txn(ops);
  if (rev.isOk()) return std::optional<int64_t>(*rev);
  Code c = rev.status().code();
  // A failed condition: kAlreadyExists (expected absent), kConflict or
  // kNotFound (expected a revision). All mean "someone else wrote first".
  if (c == Code::kConflict || c == Code::kAlreadyExists || c == Code::kNotFound)
    return std::optional<int64_t>();
  return rev.status().withContext("writing to the store");
}

namespace {

// Index just past the JSON string starting at text[i] == '"', or npos.
size_t skipString(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Where a member's value starts, in the object whose '{' is at text[open]:
// kFound with `at`, kAbsent when the object closes without it, kMalformed
// when the bytes end first. Only structure is tracked (strings, nesting):
// the codec wrote the bytes.
struct Member {
  enum State { kFound, kAbsent, kMalformed } state = kMalformed;
  size_t at = 0;
};

Member findMember(std::string_view text, size_t open, std::string_view key) {
  int depth = 0;
  bool expectKey = false;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t end = skipString(text, i);
      if (end == std::string_view::npos) return {};
      if (depth == 1 && expectKey) {
        size_t colon = end;
        while (colon < text.size() && text[colon] == ' ') ++colon;
        if (colon >= text.size() || text[colon] != ':') return {};
        if (text.substr(i + 1, end - i - 2) == key) {
          size_t v = colon + 1;
          while (v < text.size() && text[v] == ' ') ++v;
          return {Member::kFound, v};
        }
        expectKey = false;
        i = colon;
        continue;
      }
      i = end - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
      expectKey = (depth == 1 && c == '{');
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return {Member::kAbsent, i};
    } else if (c == ',' && depth == 1) {
      expectKey = true;
    }
  }
  return {};
}

}  // namespace

StatusOr<std::string> storedWithRevision(const storage::Object& o) {
  std::string_view text = o.value;
  auto corrupt = [&] {
    return internalError("stored object at '" + o.key + "' is not an object with meta");
  };
  if (text.empty() || text.front() != '{' || text.back() != '}') return corrupt();
  Member meta = findMember(text, 0, "meta");
  if (meta.state != Member::kFound || text[meta.at] != '{') return corrupt();
  const std::string rev = std::to_string(o.revision);
  Member revision = findMember(text, meta.at, "revision");
  if (revision.state == Member::kMalformed) return corrupt();
  std::string out;
  out.reserve(text.size() + rev.size() + 16);
  if (revision.state == Member::kAbsent) {  // not written: add it first in meta
    out.append(text.substr(0, meta.at + 1)).append("\"revision\":").append(rev);
    if (text[meta.at + 1] != '}') out += ',';
    out.append(text.substr(meta.at + 1));
    return out;
  }
  size_t end = revision.at;
  while (end < text.size() && (text[end] == '-' || (text[end] >= '0' && text[end] <= '9'))) ++end;
  if (end == revision.at) return corrupt();
  out.append(text.substr(0, revision.at)).append(rev).append(text.substr(end));
  return out;
}

StatusOr<std::string> readStoredJson(storage::Storage& store, const std::string& key,
                                     const std::string& what) {
  auto o = store.get(key);
  if (!o.isOk()) {
    if (o.status().code() == Code::kNotFound) return notFound(what + " not found");
    return o.status().withContext("reading " + what);
  }
  return storedWithRevision(*o);
}

StatusOr<std::string> listStoredJson(storage::Storage& store, const std::string& prefix) {
  auto l = store.list(prefix);
  if (!l.isOk()) return l.status().withContext("listing '" + prefix + "'");
  size_t bytes = 2;
  for (const auto& o : l->items) bytes += o.value.size() + 24;
  std::string out;
  out.reserve(bytes);
  out += '[';
  for (size_t i = 0; i < l->items.size(); ++i) {
    auto v = storedWithRevision(l->items[i]);
    if (!v.isOk()) return v.status();
    if (i) out += ',';
    out += *v;
  }
  out += ']';
  return out;
}

}  // namespace lb::api
