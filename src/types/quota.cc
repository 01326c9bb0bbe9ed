#include "lastbackend/types/quota.h"

#include "lastbackend/types/quantity.h"

namespace lb::types {

ResourceRequest podRequest(const PodTemplate& tmpl, const RequestDefaults& defaults) {
  ResourceRequest r;
  for (const auto& c : tmpl.containers) {
    const auto& res = c.resources;
    r.cpu += res.request.cpu ? res.request.cpu : res.limits.cpu ? res.limits.cpu : defaults.cpu;
    r.ram += res.request.ram ? res.request.ram : res.limits.ram ? res.limits.ram : defaults.ram;
  }
  if (tmpl.containers.empty()) r = {defaults.cpu, defaults.ram};
  return r;
}

void addService(NamespaceAmounts& usage, const ServiceSpec& spec, const RequestDefaults& defaults) {
  const ResourceRequest req = podRequest(spec.template_, defaults);
  const int replicas = spec.replicas > 0 ? spec.replicas : 0;
  usage.services++;
  usage.pods += replicas;
  usage.cpu += req.cpu * replicas;
  usage.ram += req.ram * replicas;
}

QuotaExcess overQuota(const NamespaceAmounts& limits, const NamespaceAmounts& usage) {
  auto over = [](int64_t limit, int64_t used) { return limit > 0 && used > limit; };
  if (over(limits.ram, usage.ram))
    return {"ram", formatMemory(limits.ram) + " allowed, " + formatMemory(usage.ram) + " asked"};
  if (over(limits.cpu, usage.cpu))
    return {"cpu", formatCpu(limits.cpu) + " allowed, " + formatCpu(usage.cpu) + " asked"};
  if (over(limits.pods, usage.pods))
    return {"pods",
            std::to_string(limits.pods) + " allowed, " + std::to_string(usage.pods) + " asked"};
  if (over(limits.services, usage.services))
    return {"services", std::to_string(limits.services) + " allowed, " +
                            std::to_string(usage.services) + " asked"};
  return {};
}

}  // namespace lb::types
