#pragma once

// Cluster components that register themselves: ingress, discovery, exporter.
// They share a shape (where they run, whether they are alive) but stay
// distinct types so storage and handlers cannot mix them up.

#include <cstdint>
#include <string>
#include <vector>

#include "lastbackend/types/meta.h"

namespace lb::types {

struct ComponentSpec {
  std::string hostname;
  std::string version;
  std::string ip;
  int port = 0;
  bool operator==(const ComponentSpec&) const = default;
};

struct ComponentStatus {
  bool online = false;
  bool ready = false;
  std::string heartbeat;  // RFC 3339
  bool operator==(const ComponentStatus&) const = default;
};

// What an ingress says of one route it follows: "ready" (served), or
// "error" with the reason (e.g. a certificate HAProxy refused).
struct IngressRouteState {
  std::string route;  // selflink "demo:web"
  std::string state;
  std::string message;
  bool operator==(const IngressRouteState&) const = default;
};

struct IngressStatus : ComponentStatus {
  std::vector<IngressRouteState> routes;
  bool operator==(const IngressStatus&) const = default;
};

struct Ingress {
  Meta meta;
  ComponentSpec spec;
  IngressStatus status;
  bool operator==(const Ingress&) const = default;
};

// Discovery also says which zone it serves (pods get it as their search
// path) and, on each heartbeat, how many records it holds and queries it
// has answered.
struct DiscoverySpec : ComponentSpec {
  std::string domain;  // the internal domain, "lb.local"
  bool operator==(const DiscoverySpec&) const = default;
};

struct DiscoveryStatus : ComponentStatus {
  int64_t records = 0;  // names in the index (A, SRV, PTR)
  int64_t queries = 0;  // queries answered since start
  bool operator==(const DiscoveryStatus&) const = default;
};

struct Discovery {
  Meta meta;
  DiscoverySpec spec;
  DiscoveryStatus status;
  bool operator==(const Discovery&) const = default;
};

struct Exporter {
  Meta meta;
  ComponentSpec spec;
  ComponentStatus status;
  bool operator==(const Exporter&) const = default;
};

}  // namespace lb::types
