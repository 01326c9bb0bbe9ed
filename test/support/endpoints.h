#pragma once

// Endpoints as the controller writes them (src/controller/loops/endpoints.cc):
// the service's ports, and one upstream {pod ip, container port} per ready
// pod and service port.

#include <ostream>
#include <string>
#include <vector>

#include "lastbackend/runtime/cpi.h"
#include "lastbackend/types/endpoint.h"

namespace lb::testing {

inline types::Endpoint makeEndpoint(const std::string& ns, const std::string& service,
                                    const std::string& vip,
                                    const std::vector<types::PortMapping>& ports,
                                    const std::vector<std::string>& readyPods,
                                    const std::string& policy = "rr") {
  types::Endpoint e;
  e.meta.name = service;
  e.meta.namespace_ = ns;
  e.meta.selflink = ns + ":" + service;
  e.spec.ip = vip;
  e.spec.ports = ports;
  e.spec.policy = policy;
  e.spec.domain = service + "." + ns + ".lb.local";
  for (const auto& pod : readyPods) {
    for (const auto& p : ports) e.spec.upstreams.push_back({pod, p.containerPort});
  }
  return e;
}

inline types::PortMapping tcpPort(int port, int containerPort) {
  return {port, containerPort, "tcp"};
}
inline types::PortMapping udpPort(int port, int containerPort) {
  return {port, containerPort, "udp"};
}

}  // namespace lb::testing

namespace lb::runtime::cpi {

// How gtest shows a state: "demo:web 10.96.0.10 rr [tcp/80 -> 10.244.1.5:8080]".
inline void PrintTo(const EndpointState& s, std::ostream* os) {
  *os << (s.name.empty() ? "<no name>" : s.name) << " " << s.ip << " "
      << (s.policy.empty() ? "-" : s.policy) << " [";
  for (size_t i = 0; i < s.ports.size(); ++i) {
    const auto& p = s.ports[i];
    *os << (i ? ", " : "") << p.protocol << "/" << p.port << " ->";
    for (const auto& b : p.backends) *os << " " << b.ip << ":" << b.port;
    if (p.backends.empty()) *os << " refused";
  }
  *os << "]";
}

}  // namespace lb::runtime::cpi
