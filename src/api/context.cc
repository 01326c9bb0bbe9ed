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

}  // namespace lb::api
