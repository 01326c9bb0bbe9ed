#pragma once

// Private to the REST API: a namespace's quota (spec.resources.limits) at
// write time. A write that would take the namespace's services past a
// limit is refused (403) naming the limit, what it allows and what the
// services would ask, with the usage before the write.

#include <map>
#include <string>
#include <type_traits>

#include "api/context.h"
#include "lastbackend/types/quota.h"

namespace lb::api {

// What the namespace's stored services take of its quota.
StatusOr<types::NamespaceAmounts> namespaceUsage(const Context& ctx, const std::string& ns);

// Checks the services of `ns` after a write: stored ones with `changed`
// (by name) in their place or added; `limits`, when given, replaces the
// stored namespace's (an apply that also applies the Namespace).
Status checkQuota(const Context& ctx, const std::string& ns,
                  const std::map<std::string, types::ServiceSpec>& changed,
                  const types::NamespaceAmounts* limits = nullptr);

// checkQuota for one object written alone (a service; the other kinds take
// no quota).
template <class T>
Status checkQuotaOf(const Context& ctx, const std::string& ns, const T& obj) {
  if constexpr (std::is_same_v<T, types::Service>) {
    return checkQuota(ctx, ns, {{obj.meta.name, obj.spec}});
  } else {
    return Status::ok();
  }
}

}  // namespace lb::api
