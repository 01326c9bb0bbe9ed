// Services and deployments (all loops): a service gets a deployment and
// its pods and is ready when they are; a new template rolls out blue/green;
// a destroyed service is torn down.

#include <gtest/gtest.h>

#include "controller/loops/services.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

class ServicesLoopTest : public ::testing::Test {
 protected:
  ServicesLoopTest() {
    h_.putNamespace("demo");
    h_.putNode("n1");
  }

  std::vector<types::Deployment> deployments() {
    return h_.listOf<types::Deployment>(*keys::deploymentsPrefix("demo", "web"));
  }
  std::vector<types::Pod> pods() {
    return h_.listOf<types::Pod>(*keys::podsOfServicePrefix("demo", "web"));
  }
  types::Service stored() { return *h_.get<types::Service>(*keys::serviceKey("demo", "web")); }
  void readyAll() {
    int ip = 2;
    for (const auto& p : pods()) {
      if (!p.status.ready) h_.markReady(p, "172.17.0." + std::to_string(ip));
      ip++;
    }
    h_.pass();
  }

  LoopHarness h_;
};

TEST_F(ServicesLoopTest, ServiceIsReadyWhenItsPodsAre) {
  h_.putService(LoopHarness::service("demo", "web", 2));
  h_.pass();
  ASSERT_EQ(deployments().size(), 1u);
  EXPECT_EQ(pods().size(), 2u);
  EXPECT_EQ(stored().status.state, types::State::kProvision);
  readyAll();
  EXPECT_EQ(stored().status.state, types::State::kReady);
  EXPECT_EQ(deployments()[0].status.state, types::State::kReady);
  EXPECT_EQ(deployments()[0].status.replicas.ready, 2);
}

TEST_F(ServicesLoopTest, NewTemplateRollsOutBlueGreen) {
  auto svc = LoopHarness::service("demo", "web", 2);
  h_.putService(svc);
  h_.pass();
  readyAll();
  const std::string old = deployments()[0].meta.name;

  svc.spec.template_.containers[0].image.name = "web:2";
  h_.putService(svc);
  h_.pass();
  ASSERT_EQ(deployments().size(), 2u);  // the old one keeps serving
  auto ep = h_.get<types::Endpoint>(*keys::endpointKey("demo", "web"));
  ASSERT_TRUE(ep.has_value());
  EXPECT_EQ(ep->spec.upstreams.size(), 2u);

  readyAll();
  ASSERT_EQ(deployments().size(), 1u);
  EXPECT_NE(deployments()[0].meta.name, old);
  EXPECT_EQ(pods().size(), 2u);
  for (const auto& p : pods()) EXPECT_EQ(p.spec.template_.containers[0].image.name, "web:2");
  EXPECT_EQ(stored().status.state, types::State::kReady);
}

TEST_F(ServicesLoopTest, DestroyedServiceIsTornDown) {
  auto svc = LoopHarness::service("demo", "web", 2);
  h_.putService(svc);
  h_.pass();
  readyAll();
  svc.status.state = types::State::kDestroy;
  h_.putService(svc);
  h_.pass();
  EXPECT_FALSE(h_.has(*keys::serviceKey("demo", "web")));
  EXPECT_TRUE(deployments().empty());
  EXPECT_TRUE(pods().empty());
  EXPECT_FALSE(h_.has(*keys::endpointKey("demo", "web")));
  EXPECT_EQ(h_.count(*keys::nodeManifestsPrefix("n1", keys::ManifestKind::kPod)), 0u);
}

}  // namespace
}  // namespace lb::controller::testing
