#pragma once

// The services the discovery benchmarks put in the store: "svc<i%100>" in
// namespace "ns<i/100>", VIP 10.(96+i/65536).(i/256%256).(i%256), port 80.

#include <string>

#include "lastbackend/types/codec.h"
#include "lastbackend/types/endpoint.h"

namespace lb::bench {

inline std::string benchNamespace(int i) { return "ns" + std::to_string(i / 100); }
inline std::string benchService(int i) { return "svc" + std::to_string(i % 100); }
inline std::string benchVip(int i) {
  return "10." + std::to_string(96 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
         std::to_string(i % 256);
}

// The endpoint as the controller stores it.
inline std::string benchEndpointJson(const std::string& ns, const std::string& svc,
                                     const std::string& vip) {
  types::Endpoint e;
  e.meta.name = svc;
  e.meta.namespace_ = ns;
  e.meta.selflink = ns + ":" + svc;
  e.spec.ip = vip;
  e.spec.ports = {{80, 8080, "tcp"}};
  e.spec.domain = svc + "." + ns + ".lb.local";
  return types::toJson(e);
}

}  // namespace lb::bench
