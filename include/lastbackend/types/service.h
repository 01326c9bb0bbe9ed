#pragma once

// A service: the user intent for one app (template, replicas, network).

#include <optional>
#include <string>
#include <vector>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct ServiceNetwork {
  std::vector<PortMapping> ports;  // manifests write "80:8080/tcp"
  bool operator==(const ServiceNetwork&) const = default;
};

// How a new template replaces the running pods (docs/controller.md).
struct ServiceStrategy {
  // "" or "blue-green" (the default): all new pods start beside the old
  // ones, which go once the new are all ready; "rolling": at most
  // replicas + surge pods at once, old ones go as new ones are ready.
  std::string type;
  std::optional<int> surge;        // rolling; default a quarter of replicas, at least 1
  std::optional<int> unavailable;  // ready pods a rollout may go without; same default
  // Seconds a new deployment has to become ready before it is reverted;
  // 0: the controller's --rollout-deadline.
  int deadline = 0;
  bool operator==(const ServiceStrategy&) const = default;
};

struct ServiceSpec {
  int replicas = 1;
  NodeSelector selector;
  ServiceNetwork network;
  ServiceStrategy strategy;
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
