#pragma once

// Routes: work key "r/<ns:route>". The controller copies each route's spec
// to its cluster manifest (/manifests/cluster/route/<ns:route>, what the
// ingresses follow) and checks that every rule's service has an endpoint
// with upstreams; serving the route is the ingress's job, so a route the
// controller finds complete stays `initialized` until an ingress reports it
// `ready` (or `error`), and keeps what the ingress said.

#include "controller/loops/loop.h"

namespace lb::controller::loops {

inline constexpr const char* kRouteInitialized = "initialized";
inline constexpr const char* kRouteProvision = "provision";
inline constexpr const char* kRouteReady = "ready";
inline constexpr const char* kRouteError = "error";
// Label of a route manifest: a digest of its TLS secret's data.
inline constexpr const char* kRouteTlsDigest = "lastbackend.tls.digest";

class RoutesLoop final : public Loop {
 public:
  explicit RoutesLoop(Context& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "routes"; }
  char prefix() const override { return 'r'; }
  std::vector<detail::Kind> kinds() const override;
  void onChange(const Change& change) override;
  void reconcile(const std::string& sl) override;
  void resync() override;

 private:
  void writeManifest(const std::string& sl, const types::Route& route);

  Context& ctx_;
};

}  // namespace lb::controller::loops
