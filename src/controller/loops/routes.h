#pragma once

// Routes: work key "r/<ns:route>". The controller only checks that every
// rule's service has an endpoint with upstreams; serving the route is the
// ingress's job, so a route the controller finds complete stays
// `initialized` until an ingress reports it served.

#include "controller/loops/loop.h"

namespace lb::controller::loops {

inline constexpr const char* kRouteInitialized = "initialized";
inline constexpr const char* kRouteProvision = "provision";

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
  Context& ctx_;
};

}  // namespace lb::controller::loops
