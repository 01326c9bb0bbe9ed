#pragma once

// A route: external traffic for a domain/port, proxied by ingress to services.

#include <string>
#include <vector>

#include "lastbackend/types/meta.h"

namespace lb::types {

struct RouteRule {
  std::string path;     // URL path prefix; empty = "/"
  std::string service;  // service name in the same namespace
  int port = 0;         // service endpoint port
  bool operator==(const RouteRule&) const = default;
};

// HTTPS: the route's port terminates TLS with the certificate and key of a
// secret of the namespace (keys "tls.crt" and "tls.key", PEM).
struct RouteTls {
  std::string secret;     // empty: plain HTTP
  bool redirect = false;  // answer plain HTTP on port 80 for the domain with a redirect
  bool operator==(const RouteTls&) const = default;
};

struct RouteSpec {
  std::string domain;  // empty = "<route>.<ns>.<external domain>"
  int port = 80;
  std::vector<RouteRule> rules;
  RouteTls tls;
  bool operator==(const RouteSpec&) const = default;
};

// Routes report the ingress words the reference CLI prints ("initialized", ...).
struct RouteStatus {
  std::string state = "initialized";
  std::string message;
  bool operator==(const RouteStatus&) const = default;
};

struct Route {
  Meta meta;  // selflink "demo:2048"
  RouteSpec spec;
  RouteStatus status;
  bool operator==(const Route&) const = default;
};

}  // namespace lb::types
