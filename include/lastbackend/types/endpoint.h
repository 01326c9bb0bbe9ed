#pragma once

// An endpoint: the cluster IP and DNS name of a service, and its upstream pods.

#include <string>
#include <vector>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct Upstream {
  std::string ip;
  int port = 0;
  bool operator==(const Upstream&) const = default;
};

struct EndpointSpec {
  std::string ip;  // virtual IP
  std::vector<PortMapping> ports;
  std::vector<Upstream> upstreams;
  std::string policy;  // balancing policy, e.g. "rr"
  std::string domain;  // "<svc>.<ns>.lb.local"
  bool operator==(const EndpointSpec&) const = default;
};

struct EndpointStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const EndpointStatus&) const = default;
};

struct Endpoint {
  Meta meta;  // selflink "demo:web"
  EndpointSpec spec;
  EndpointStatus status;
  bool operator==(const Endpoint&) const = default;
};

}  // namespace lb::types
