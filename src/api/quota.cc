#include "api/quota.h"

#include "api/kinds.h"
#include "lastbackend/types/quantity.h"

namespace lb::api {

namespace {

bool counted(const types::Service& svc) {
  return svc.status.state != types::State::kDestroy && svc.status.state != types::State::kDestroyed;
}

StatusOr<std::vector<types::Service>> servicesOf(const Context& ctx, const std::string& ns) {
  auto prefix = KindTraits<types::Service>::prefix(ns);
  if (!prefix.isOk()) return prefix.status();
  return listObjects<types::Service>(*ctx.store, *prefix);
}

std::string amountOf(const types::NamespaceAmounts& a, const std::string& field) {
  if (field == "ram") return types::formatMemory(a.ram);
  if (field == "cpu") return types::formatCpu(a.cpu);
  return std::to_string(field == "pods" ? a.pods : a.services);
}

}  // namespace

StatusOr<types::NamespaceAmounts> namespaceUsage(const Context& ctx, const std::string& ns) {
  auto services = servicesOf(ctx, ns);
  if (!services.isOk()) return services.status();
  types::NamespaceAmounts use;
  for (const auto& svc : *services)
    if (counted(svc)) types::addService(use, svc.spec);
  return use;
}

Status checkQuota(const Context& ctx, const std::string& ns,
                  const std::map<std::string, types::ServiceSpec>& changed,
                  const types::NamespaceAmounts* limits) {
  if (changed.empty()) return Status::ok();
  types::NamespaceAmounts quota;
  if (limits) {
    quota = *limits;
  } else {
    auto stored = readNamespace(ctx, ns);
    if (!stored.isOk()) return stored.status();
    quota = stored->spec.resources.limits;
  }
  if (quota == types::NamespaceAmounts{}) return Status::ok();
  auto services = servicesOf(ctx, ns);
  if (!services.isOk()) return services.status();
  types::NamespaceAmounts before, after;
  for (const auto& svc : *services) {
    if (!counted(svc)) continue;
    types::addService(before, svc.spec);
    if (!changed.count(svc.meta.name)) types::addService(after, svc.spec);
  }
  for (const auto& [name, spec] : changed) types::addService(after, spec);
  const types::QuotaExcess excess = types::overQuota(quota, after);
  if (excess.field.empty()) return Status::ok();
  const std::string field = "spec.resources.limits." + excess.field;
  return Status(Code::kPermissionDenied,
                "namespace '" + ns + "' quota " + field + ": " + excess.message + " (in use " +
                    amountOf(before, excess.field) + ")",
                field);
}

}  // namespace lb::api
