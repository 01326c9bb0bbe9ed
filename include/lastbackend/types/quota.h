#pragma once

// What pods hold for scheduling, and a namespace's quota over it: the
// api refuses a write that would take a namespace past its limits, the
// controller's scheduler places no pod past them, and both count the same
// way (here).

#include <cstdint>
#include <string>

#include "lastbackend/types/namespace.h"
#include "lastbackend/types/service.h"

namespace lb::types {

struct ResourceRequest {
  int64_t cpu = 0;  // millicores
  int64_t ram = 0;  // bytes
};

struct RequestDefaults {
  int64_t cpu = 100;       // millicores per container without request or limit
  int64_t ram = 64 << 20;  // bytes per container without request or limit
};

// Sum over the containers of request, else limit, else the default.
ResourceRequest podRequest(const PodTemplate& tmpl, const RequestDefaults& defaults = {});

// Adds one service (replicas × its pods' request) to `usage`.
void addService(NamespaceAmounts& usage, const ServiceSpec& spec,
                const RequestDefaults& defaults = {});

// The first limit `usage` goes past: its field under spec.resources.limits
// ("ram", "cpu", "pods", "services") and "<limit> allowed, <used> asked"; an
// empty field when every limit holds (a limit of 0 does not limit).
struct QuotaExcess {
  std::string field;
  std::string message;
};
QuotaExcess overQuota(const NamespaceAmounts& limits, const NamespaceAmounts& usage);

}  // namespace lb::types
