#pragma once

// A namespace: a virtual cluster that isolates services, secrets, configs, routes.

#include <string>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct NamespaceDomain {
  std::string internal;  // "<ns>.lb.local" style suffix for service endpoints
  std::string external;  // suffix for routes
  bool operator==(const NamespaceDomain&) const = default;
};

struct NamespaceSpec {
  NamespaceDomain domain;
  Resources resources;  // quota: limits/request summed over the namespace
  bool operator==(const NamespaceSpec&) const = default;
};

struct NamespaceStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const NamespaceStatus&) const = default;
};

struct Namespace {
  Meta meta;
  NamespaceSpec spec;
  NamespaceStatus status;
  bool operator==(const Namespace&) const = default;
};

}  // namespace lb::types
