// Pods and scheduling, through the services' keys (all loops): pods wait
// for capacity and are placed when a node comes, pods lost with their node
// are replaced, and scale-down keeps the ready pods.

#include <gtest/gtest.h>

#include "controller/loops/pods.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

class PodsLoopTest : public ::testing::Test {
 protected:
  PodsLoopTest() { h_.putNamespace("demo"); }

  std::vector<types::Pod> pods() {
    return h_.listOf<types::Pod>(*keys::podsOfServicePrefix("demo", "web"));
  }
  std::map<std::string, int> podsPerNode() {
    std::map<std::string, int> out;
    for (const auto& p : pods()) out[p.status.node]++;
    return out;
  }

  LoopHarness h_;
};

TEST_F(PodsLoopTest, PodsWaitForANodeAndArePlacedWhenOneComes) {
  h_.putService(LoopHarness::service("demo", "web", 3));
  h_.pass();
  ASSERT_EQ(pods().size(), 3u);
  for (const auto& p : pods()) {
    EXPECT_EQ(p.status.node, "");
    EXPECT_FALSE(p.status.message.empty());
  }
  h_.putNode("n1");
  h_.after(600ms);  // unscheduled pods retry when capacity appears
  EXPECT_EQ(podsPerNode(), (std::map<std::string, int>{{"n1", 3}}));
  for (const auto& p : pods()) EXPECT_EQ(p.status.message, "");
}

TEST_F(PodsLoopTest, PodsLostWithTheirNodeAreReplacedElsewhere) {
  h_.putNode("n1");
  h_.putNode("n2");
  h_.putService(LoopHarness::service("demo", "web", 4));
  h_.pass();
  EXPECT_EQ(podsPerNode(), (std::map<std::string, int>{{"n1", 2}, {"n2", 2}}));
  h_.heartbeat("n1", false);
  h_.pass();
  EXPECT_EQ(podsPerNode(), (std::map<std::string, int>{{"n2", 4}}));
}

TEST_F(PodsLoopTest, ScaleDownRemovesPodsThatAreNotReadyFirst) {
  h_.putNode("n1");
  auto svc = LoopHarness::service("demo", "web", 3);
  h_.putService(svc);
  h_.pass();
  auto all = pods();
  ASSERT_EQ(all.size(), 3u);
  h_.markReady(all[0], "172.17.0.2");
  h_.markReady(all[2], "172.17.0.4");
  h_.pass();
  svc.spec.replicas = 2;
  h_.putService(svc);
  h_.pass();
  auto left = pods();
  ASSERT_EQ(left.size(), 2u);
  for (const auto& p : left) EXPECT_TRUE(p.status.ready) << p.meta.name;
}

}  // namespace
}  // namespace lb::controller::testing
