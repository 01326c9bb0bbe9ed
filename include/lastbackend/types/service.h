#pragma once

// A service: the user intent for one app (template, replicas, network).

#include <string>
#include <vector>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct ServiceNetwork {
  std::vector<PortMapping> ports;  // manifests write "80:8080/tcp"
  bool operator==(const ServiceNetwork&) const = default;
};

struct ServiceSpec {
  int replicas = 1;
  NodeSelector selector;
  ServiceNetwork network;
  PodTemplate template_;  // wire key "template"
  bool operator==(const ServiceSpec&) const = default;
};

struct ServiceStatus {
  State state = State::kCreated;
  std::string message;
  std::string ip;  // the VIP, as its endpoint holds it; empty for a service without ports
  bool operator==(const ServiceStatus&) const = default;
};

struct Service {
  Meta meta;  // selflink "demo:web"
  ServiceSpec spec;
  ServiceStatus status;
  bool operator==(const Service&) const = default;
};

}  // namespace lb::types
