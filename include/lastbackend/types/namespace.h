#pragma once

// A namespace: a virtual cluster that isolates services, secrets, configs, routes.

#include <optional>
#include <string>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct NamespaceDomain {
  std::string internal;  // "<ns>.lb.local" style suffix for service endpoints
  std::string external;  // suffix for routes
  bool operator==(const NamespaceDomain&) const = default;
};

// Amounts a namespace's quota counts (types/quota.h): as spec.resources.limits
// (0 = no limit) and as status.usage.
struct NamespaceAmounts {
  int64_t ram = 0;   // bytes of pod requests, summed over every replica
  int64_t cpu = 0;   // millicores, as ram
  int pods = 0;      // replicas summed over the services
  int services = 0;  // services
  bool operator==(const NamespaceAmounts&) const = default;
};

struct NamespaceResources {
  NamespaceAmounts limits;
  bool operator==(const NamespaceResources&) const = default;
};

struct NamespaceSpec {
  NamespaceDomain domain;
  NamespaceResources resources;
  bool operator==(const NamespaceSpec&) const = default;
};

struct NamespaceStatus {
  State state = State::kCreated;
  std::string message;
  // What its services take of the quota. Not stored: the api fills it in
  // when it answers one namespace.
  std::optional<NamespaceAmounts> usage;
  bool operator==(const NamespaceStatus&) const = default;
};

struct Namespace {
  Meta meta;
  NamespaceSpec spec;
  NamespaceStatus status;
  bool operator==(const Namespace&) const = default;
};

}  // namespace lb::types
