// The routes loop alone: a route's status follows the endpoints of the
// services its rules name; nothing serves routes yet, so a complete route
// is `initialized`, never `ready`.

#include <gtest/gtest.h>

#include "controller/loops/routes.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

class RoutesLoopTest : public ::testing::Test {
 protected:
  RoutesLoopTest() : h_(only<loops::RoutesLoop>()) { h_.putNamespace("demo"); }

  void putRoute(std::vector<std::string> services) {
    types::Route r;
    r.meta.name = "site";
    r.meta.namespace_ = "demo";
    r.meta.selflink = "demo:site";
    for (const auto& s : services) r.spec.rules.push_back({"/" + s, s, 80});
    h_.put(*keys::routeKey("demo", "site"), r);
  }
  void putEndpoint(const std::string& svc, bool upstreams) {
    types::Endpoint e;
    e.meta.name = svc;
    e.meta.namespace_ = "demo";
    e.meta.selflink = "demo:" + svc;
    e.spec.ip = "10.96.0.2";
    if (upstreams) e.spec.upstreams.push_back({"172.17.0.2", 8080});
    h_.put(*keys::endpointKey("demo", svc), e);
  }
  types::RouteStatus status() {
    auto r = h_.get<types::Route>(*keys::routeKey("demo", "site"));
    EXPECT_TRUE(r.has_value());
    return r ? r->status : types::RouteStatus{};
  }

  LoopHarness h_;
};

TEST_F(RoutesLoopTest, RouteWaitsForEveryServiceThenIsInitializedNotReady) {
  putEndpoint("web", true);
  putRoute({"web", "api"});
  h_.pass();
  EXPECT_EQ(status().state, "provision");
  EXPECT_EQ(status().message, "service 'api' has no ready endpoint");

  putEndpoint("api", false);  // an endpoint without upstreams is not enough
  h_.pass();
  EXPECT_EQ(status().state, "provision");

  putEndpoint("api", true);
  h_.pass();
  EXPECT_EQ(status().state, "initialized");
  EXPECT_EQ(status().message, "");
}

TEST_F(RoutesLoopTest, RouteFallsBackToProvisionWhenAnEndpointGoes) {
  putEndpoint("web", true);
  putRoute({"web"});
  h_.pass();
  EXPECT_EQ(status().state, "initialized");
  h_.remove(*keys::endpointKey("demo", "web"));
  h_.pass();
  EXPECT_EQ(status().state, "provision");
  EXPECT_EQ(status().message, "service 'web' has no ready endpoint");
}

TEST_F(RoutesLoopTest, RouteWithoutRulesIsProvision) {
  putRoute({});
  h_.pass();
  EXPECT_EQ(status().state, "provision");
  EXPECT_EQ(status().message, "no rules");
}

}  // namespace
}  // namespace lb::controller::testing
