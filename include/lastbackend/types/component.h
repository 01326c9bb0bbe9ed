#pragma once

// Cluster components that register themselves: ingress, discovery, exporter.
// They share a shape (where they run, whether they are alive) but stay
// distinct types so storage and handlers cannot mix them up.

#include <string>

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

struct Ingress {
  Meta meta;
  ComponentSpec spec;
  ComponentStatus status;
  bool operator==(const Ingress&) const = default;
};

struct Discovery {
  Meta meta;
  ComponentSpec spec;
  ComponentStatus status;
  bool operator==(const Discovery&) const = default;
};

struct Exporter {
  Meta meta;
  ComponentSpec spec;
  ComponentStatus status;
  bool operator==(const Exporter&) const = default;
};

}  // namespace lb::types
