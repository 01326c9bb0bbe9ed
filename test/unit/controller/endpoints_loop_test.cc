// Endpoints (all loops): a service with ports gets a VIP (in the service's
// status too), its ready pods as upstreams and a cluster endpoint manifest;
// without ports it has none.

#include <gtest/gtest.h>

#include "controller/loops/endpoints.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

class EndpointsLoopTest : public ::testing::Test {
 protected:
  EndpointsLoopTest() {
    h_.putNamespace("demo");
    h_.putNode("n1");
  }
  std::optional<types::Endpoint> endpoint() {
    return h_.get<types::Endpoint>(*keys::endpointKey("demo", "web"));
  }
  std::optional<types::Endpoint> manifest() {
    return h_.get<types::Endpoint>(*keys::clusterEndpointManifestKey("demo:web"));
  }
  // What `lb service inspect` shows beside the endpoint name.
  std::string serviceIp() {
    auto svc = h_.get<types::Service>(*keys::serviceKey("demo", "web"));
    return svc ? svc->status.ip : "no service";
  }

  LoopHarness h_;
};

TEST_F(EndpointsLoopTest, EndpointHasAVipAndTheReadyPods) {
  h_.putService(LoopHarness::service("demo", "web", 2));
  h_.pass();
  auto ep = endpoint();
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->spec.ip.rfind("10.96.0.", 0), 0u) << ep->spec.ip;
  EXPECT_EQ(ep->spec.domain, "web.demo.lb.local");
  EXPECT_TRUE(ep->spec.upstreams.empty());
  EXPECT_EQ(ep->status.message, "no ready pods");
  EXPECT_EQ(serviceIp(), ep->spec.ip);

  auto pods = h_.listOf<types::Pod>(*keys::podsOfServicePrefix("demo", "web"));
  ASSERT_EQ(pods.size(), 2u);
  h_.markReady(pods[0], "172.17.0.2");
  h_.pass();
  ep = endpoint();
  ASSERT_EQ(ep->spec.upstreams.size(), 1u);
  EXPECT_EQ(ep->spec.upstreams[0], (types::Upstream{"172.17.0.2", 8080}));
  EXPECT_EQ(ep->status.state, types::State::kReady);
  auto m = manifest();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->spec, ep->spec);
}

TEST_F(EndpointsLoopTest, ServiceWithoutPortsHasNoEndpointNorAddress) {
  auto svc = LoopHarness::service("demo", "web", 1);
  h_.putService(svc);
  h_.pass();
  ASSERT_TRUE(endpoint().has_value());
  ASSERT_NE(serviceIp(), "");
  // As the api updates a service: the spec changes, the status stays.
  svc = *h_.get<types::Service>(*keys::serviceKey("demo", "web"));
  svc.spec.network.ports.clear();
  h_.putService(svc);
  h_.pass();
  EXPECT_FALSE(endpoint().has_value());
  EXPECT_FALSE(manifest().has_value());
  EXPECT_EQ(serviceIp(), "");
  Ipam ipam = Ipam::create("10.96.0.0/24").value();
  ASSERT_TRUE(ipam.loadJson(h_.store().get(keys::ipamKey())->value).isOk());
  EXPECT_TRUE(ipam.owners().empty());
}

TEST_F(EndpointsLoopTest, AManifestChangedBehindTheLoopIsRewritten) {
  h_.putService(LoopHarness::service("demo", "web", 1));
  h_.pass();
  ASSERT_TRUE(manifest().has_value());
  h_.remove(*keys::clusterEndpointManifestKey("demo:web"));
  h_.pass();
  ASSERT_TRUE(manifest().has_value());
  EXPECT_EQ(manifest()->spec, endpoint()->spec);
}

}  // namespace
}  // namespace lb::controller::testing
