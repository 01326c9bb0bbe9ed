// The agent core against the runtime fakes: pods come up with their
// containers, pods that leave the spec leave no container behind, a
// restarted agent adopts what runs, and a Volume's directory goes once the
// cluster removed it and no pod here uses it. Time is a ManualClock.

#include "node/agent.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "agent_fixture.h"

namespace lb::node {
namespace {

using namespace lb::node::testing;
namespace cri = runtime::cri;

class AgentTest : public AgentFixture {};

TEST_F(AgentTest, RunsPodWithJoinedContainersEnvAndFiles) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2)}));
  ASSERT_TRUE(settle([&] { return ready(*agent, "demo:web:d1:p1"); }));
  auto cs = containers("demo:web:d1:p1");
  ASSERT_EQ(cs.size(), 2u);
  std::string owner;
  for (const auto& c : cs)
    if (c.labels.count(cri::kLabelNetwork)) owner = c.id;
  ASSERT_FALSE(owner.empty());
  for (const auto& c : cs) {
    EXPECT_TRUE(c.running());
    if (c.id != owner) {
      EXPECT_EQ(c.networkMode, "container:" + owner);
    }
  }
  auto specs = cri_.specs();
  EXPECT_EQ(specs[0].env.at("GREETING"), "hello");
  EXPECT_EQ(volumes_.files("demo:web:d1:p1.conf").at("greeting"), "hello");
  auto st = agent->podStatus("demo:web:d1:p1")->status;
  EXPECT_FALSE(st.ip.empty());
  EXPECT_EQ(st.containers.size(), 2u);
  EXPECT_EQ(st.node, "node-1");
  agent->stop();
}

TEST_F(AgentTest, ConfigChangeRewritesFilesWithoutRestart) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1")}));
  ASSERT_TRUE(settle([&] { return ready(*agent, "demo:web:d1:p1"); }));
  auto before = containers();
  agent->applyManifest(manifest({pod("p1")}, "bonjour"));
  EXPECT_TRUE(settle([&] {
    auto f = volumes_.files("demo:web:d1:p1.conf");
    return f.count("greeting") && f.at("greeting") == "bonjour";
  }));
  auto after = containers();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[0].startedAt, before[0].startedAt);
}

TEST_F(AgentTest, MissingConfigKeepsPodProvisioningWithMessage) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto m = manifest({pod("p1")});
  m.configs.clear();
  agent->applyManifest(m);
  EXPECT_TRUE(settle([&] {
    return message(*agent, "demo:web:d1:p1").find("config 'conf' not found") != std::string::npos;
  }));
  EXPECT_EQ(agent->podStatus("demo:web:d1:p1")->status.state, types::State::kProvision);
  EXPECT_TRUE(containers().empty());
  agent->applyManifest(manifest({pod("p1")}));  // the config arrives
  EXPECT_TRUE(settle([&] { return ready(*agent, "demo:web:d1:p1"); }));
}

TEST_F(AgentTest, RemovedPodsLeaveNoContainersOrVolumes) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(
      settle([&] { return ready(*agent, "demo:web:d1:p1") && ready(*agent, "demo:web:d1:p2"); }));
  agent->applyManifest(manifest({pod("p2")}));
  EXPECT_TRUE(agent->waitRetired(5s));
  EXPECT_TRUE(containers("demo:web:d1:p1").empty());
  EXPECT_EQ(containers("demo:web:d1:p2").size(), 1u);
  EXPECT_FALSE(volumes_.path("demo:web:d1:p1.conf").isOk());
  agent->applyManifest(manifest({}));
  EXPECT_TRUE(agent->waitRetired(5s));
  EXPECT_TRUE(containers().empty());
}

TEST_F(AgentTest, RestartedAgentAdoptsRunningContainers) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(
      settle([&] { return ready(*agent, "demo:web:d1:p1") && ready(*agent, "demo:web:d1:p2"); }));
  auto before = containers();
  agent->stop();
  agent.reset();
  // A stray of a pod the spec no longer has, as a crashed agent leaves it.
  auto stray = pod("gone");
  cri::ContainerSpec s;
  s.image = kImage;
  s.labels[cri::kLabelPod] = stray.meta.selflink;
  auto strayId = cri_.create(s);
  ASSERT_TRUE(strayId.isOk());

  auto again = makeAgent();
  ASSERT_TRUE(again->start().isOk());
  again->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(
      settle([&] { return ready(*again, "demo:web:d1:p1") && ready(*again, "demo:web:d1:p2"); }));
  again->collectGarbage();
  auto after = containers();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& b : before) {
    auto it = std::find_if(after.begin(), after.end(), [&](const auto& a) { return a.id == b.id; });
    ASSERT_NE(it, after.end()) << b.name << " was replaced";
    EXPECT_EQ(it->startedAt, b.startedAt);
    EXPECT_EQ(it->restartCount, 0);
  }
  EXPECT_FALSE(cri_.inspect(*strayId).isOk());
}

// A removed container the runtime cannot remove is not the end of the
// teardown: the pod's volumes still go, and the error is not the caller's.
TEST_F(AgentTest, TeardownGoesOnWhenTheRuntimeFails) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1")}));
  ASSERT_TRUE(settle([&] { return ready(*agent, "demo:web:d1:p1"); }));
  cri_.errors().fail("stop", unavailable("dockerd hiccup"), fakes::ErrorInjector::kForever);
  agent->applyManifest(manifest({}));
  EXPECT_TRUE(agent->waitRetired(5s));
  EXPECT_TRUE(containers().empty());  // the forced remove ends it anyway
  EXPECT_FALSE(volumes_.path("demo:web:d1:p1.conf").isOk());
}

// A Volume's directory stays while a pod here uses it (even once the
// cluster removed the Volume), and for as long as the Volume exists; it
// goes once both are over.
TEST_F(AgentTest, RemovedVolumeDirectoryGoesAfterItsPods) {
  FakeLink link(volumeManifest());
  auto agent = makeAgent(defaultProber, 50ms, "", &link);
  ASSERT_TRUE(agent->start().isOk());
  const auto p = volumeManifest().pods.begin()->second;
  ASSERT_TRUE(settle([&] { return ready(*agent, p.meta.selflink); }));
  ASSERT_TRUE(volumes_.path("demo:data").isOk());
  // Also a Volume that is unused here but still exists: kept.
  ASSERT_TRUE(volumes_.create("demo:kept").isOk());

  link.removeVolume("demo:data");
  link.setManifest(manifest({p}));  // the Volume left the spec; its pod did not
  run(1s);  // the spec loop's next poll takes it
  agent->collectGarbage();
  EXPECT_TRUE(volumes_.path("demo:data").isOk()) << "removed under a running pod";

  link.setManifest(manifest({}));
  ASSERT_TRUE(advanceUntil([&] { return !agent->podStatus(p.meta.selflink).has_value(); }));
  ASSERT_TRUE(agent->waitRetired(5s));
  agent->collectGarbage();
  EXPECT_FALSE(volumes_.path("demo:data").isOk());
  EXPECT_TRUE(volumes_.path("demo:kept").isOk());
  EXPECT_FALSE(volumes_.path("demo:web:d1:p1.conf").isOk());
  // The kept one is not asked about again before the recheck interval.
  const int asks = link.volumeAsks();
  agent->collectGarbage();
  EXPECT_EQ(link.volumeAsks(), asks);
  agent->stop();
}

}  // namespace
}  // namespace lb::node
