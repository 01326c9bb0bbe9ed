// Services and deployments (all loops): a service gets a deployment and
// its pods and is ready when they are; a new template rolls out blue/green;
// a destroyed service is torn down.

#include <gtest/gtest.h>

#include <set>

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
  // The old one is kept, retired, as history: no pods, the spec it ran.
  ASSERT_EQ(deployments().size(), 2u);
  for (const auto& d : deployments()) {
    if (d.meta.name == old) {
      EXPECT_EQ(d.status.state, types::State::kDestroyed);
      EXPECT_EQ(d.status.replicas.total, 0);
      EXPECT_EQ(d.spec.template_.containers[0].image.name, "web:1");
      EXPECT_EQ(d.status.message.rfind("replaced by ", 0), 0u) << d.status.message;
    } else {
      EXPECT_EQ(d.status.state, types::State::kReady);
    }
  }
  EXPECT_EQ(pods().size(), 2u);
  for (const auto& p : pods()) EXPECT_EQ(p.spec.template_.containers[0].image.name, "web:2");
  EXPECT_EQ(stored().status.state, types::State::kReady);
}

// A node full of the old pods (40 x 100m on 4000m): the new deployment's
// pods cannot be placed beside them, so the old ones give way a quarter at a
// time, never leaving fewer than 30 ready, and the rollout finishes.
TEST_F(ServicesLoopTest, ARolloutWithoutRoomReplacesInBatchesAndFinishes) {
  auto svc = LoopHarness::service("demo", "web", 40);
  h_.putService(svc);
  h_.pass();
  readyAll();
  ASSERT_EQ(stored().status.state, types::State::kReady);

  svc.spec.template_.containers[0].image.name = "web:2";
  h_.putService(svc);
  int lowest = 40, rounds = 0, ip = 100;
  auto readyOf = [&](const std::string& image) {
    int n = 0;
    for (const auto& p : pods())
      n += p.status.ready && p.spec.template_.containers[0].image.name == image ? 1 : 0;
    return n;
  };
  while (readyOf("web:2") < 40 && rounds++ < 30) {
    h_.after(std::chrono::milliseconds(200));
    lowest = std::min(lowest, readyOf("web:1") + readyOf("web:2"));
    int placed = 0;
    for (const auto& p : pods()) placed += p.status.node.empty() ? 0 : 1;
    EXPECT_LE(placed, 40) << "never more pods placed than fit";
    if (rounds == 1) {
      EXPECT_EQ(readyOf("web:1"), 30) << "the first batch: a quarter gives way";
      EXPECT_NE(stored().status.message.find("in batches"), std::string::npos)
          << stored().status.message;
      auto ep = h_.get<types::Endpoint>(*keys::endpointKey("demo", "web"));
      ASSERT_TRUE(ep.has_value());
      EXPECT_EQ(ep->spec.upstreams.size(), 30u) << "the ready old pods serve";
    }
    for (const auto& p : pods())  // the placed new pods start
      if (!p.status.ready && !p.status.node.empty())
        h_.markReady(p, "10.244.0." + std::to_string(ip++ % 250 + 2));
    h_.pass();
  }
  h_.pass();
  EXPECT_EQ(readyOf("web:2"), 40);
  EXPECT_EQ(readyOf("web:1"), 0);
  EXPECT_GE(lowest, 30) << "never below replicas - a quarter ready";
  // Four batches of ten; each takes three passes here (the old pods go, their
  // removal frees the room, the new ones are placed).
  EXPECT_LE(rounds, 13);
  EXPECT_EQ(stored().status.state, types::State::kReady);
  EXPECT_EQ(stored().status.message, "");
}

// Rolling, surge 1 and unavailable 0: never more than replicas + 1 pods,
// never fewer than replicas ready, and it finishes.
TEST_F(ServicesLoopTest, RollingKeepsWithinSurgeAndUnavailable) {
  auto svc = LoopHarness::service("demo", "web", 8);
  svc.spec.strategy.type = "rolling";
  svc.spec.strategy.surge = 1;
  svc.spec.strategy.unavailable = 0;
  h_.putService(svc);
  h_.pass();
  readyAll();
  svc.spec.template_.containers[0].image.name = "web:2";
  h_.putService(svc);
  int most = 0, lowest = 8, rounds = 0, ip = 100;
  auto newReady = [&] {
    int n = 0;
    for (const auto& p : pods())
      n += p.status.ready && p.spec.template_.containers[0].image.name == "web:2" ? 1 : 0;
    return n;
  };
  while (newReady() < 8 && rounds++ < 60) {
    h_.pass();
    int ready = 0;
    for (const auto& p : pods()) ready += p.status.ready ? 1 : 0;
    most = std::max(most, static_cast<int>(pods().size()));
    lowest = std::min(lowest, ready);
    for (const auto& p : pods())
      if (!p.status.ready) h_.markReady(p, "10.244.0." + std::to_string(ip++ % 250 + 2));
  }
  h_.pass();
  h_.pass();
  EXPECT_EQ(newReady(), 8);
  EXPECT_EQ(pods().size(), 8u);
  EXPECT_LE(most, 9) << "replicas + surge";
  EXPECT_GE(lowest, 8) << "replicas - unavailable";
  EXPECT_EQ(stored().status.state, types::State::kReady);
}

// A new deployment never ready by its deadline: failed, the service's
// template goes back, the old pods served all along and still do.
TEST_F(ServicesLoopTest, ANeverReadyDeploymentIsRevertedAtItsDeadline) {
  auto svc = LoopHarness::service("demo", "web", 2);
  svc.spec.strategy.deadline = 30;
  h_.putService(svc);
  h_.pass();
  readyAll();
  const auto oldPods = pods();
  const std::string old = deployments()[0].meta.name;
  svc.spec.template_.containers[0].image.name = "web:never";
  h_.putService(svc);
  h_.pass();
  ASSERT_EQ(pods().size(), 4u);
  auto wait = [&](int seconds) {  // the node and the lease stay fresh meanwhile
    for (int i = 0; i < seconds; ++i) {
      h_.heartbeat("n1");
      h_.after(std::chrono::seconds(1));
    }
  };
  wait(20);
  EXPECT_EQ(stored().spec.template_.containers[0].image.name, "web:never") << "not yet";
  wait(11);
  h_.pass();
  EXPECT_EQ(stored().spec.template_.containers[0].image.name, "web:1") << "reverted";
  EXPECT_EQ(pods().size(), 2u);
  for (const auto& p : pods()) EXPECT_TRUE(p.status.ready) << "the old pods, untouched";
  EXPECT_EQ(pods()[0].meta.name, oldPods[0].meta.name);
  std::string failedMessage;
  for (const auto& d : deployments()) {
    if (d.meta.name == old) {
      EXPECT_EQ(d.status.state, types::State::kReady);
    } else {
      EXPECT_EQ(d.status.state, types::State::kDestroyed);
      failedMessage = d.status.message;
    }
  }
  EXPECT_EQ(failedMessage, "failed: not ready within 30 s; reverted to " + old);
  EXPECT_EQ(stored().status.state, types::State::kReady);
  EXPECT_NE(stored().status.message.find("failed: not ready within 30 s; reverted to " + old),
            std::string::npos)
      << stored().status.message;
}

// Pods of the new deployment whose container restarted 3 times: reverted
// at once, without waiting for the deadline.
TEST_F(ServicesLoopTest, ACrashLoopingDeploymentIsRevertedAtOnce) {
  auto svc = LoopHarness::service("demo", "web", 1);
  h_.putService(svc);
  h_.pass();
  readyAll();
  svc.spec.template_.containers[0].image.name = "web:crash";
  h_.putService(svc);
  h_.pass();
  for (auto p : pods()) {
    if (p.spec.template_.containers[0].image.name != "web:crash") continue;
    p.status.state = types::State::kProvision;
    p.status.containers = {{.name = "main", .restarts = 3}};
    h_.put(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), p);
  }
  h_.pass();
  h_.pass();
  EXPECT_EQ(stored().spec.template_.containers[0].image.name, "web:1");
  EXPECT_NE(stored().status.message.find("crash-looping (pod "), std::string::npos)
      << stored().status.message;
  EXPECT_NE(stored().status.message.find("container main restarted 3 times"), std::string::npos);
}

// A cordoned node gets no new pods; the ones on it stay.
TEST_F(ServicesLoopTest, ACordonedNodeGetsNoNewPods) {
  h_.putService(LoopHarness::service("demo", "web", 2));
  h_.pass();
  readyAll();
  types::Node n1;
  n1.meta.name = "n1";
  n1.spec.unschedulable = true;
  h_.put(*keys::nodeKey("n1", keys::Part::kInfo), n1);
  h_.putNode("n2");
  h_.pass();
  auto svc = LoopHarness::service("demo", "web", 4);
  h_.putService(svc);
  h_.pass();
  int onN1 = 0, onN2 = 0;
  for (const auto& p : pods()) (p.status.node == "n1" ? onN1 : onN2) += 1;
  EXPECT_EQ(onN1, 2) << "the pods already there stay";
  EXPECT_EQ(onN2, 2) << "the new ones go elsewhere";
}

// Drain moves a node's pods elsewhere new-before-old: each old pod stays
// until a replacement is ready, so the service never has fewer ready pods
// than its replicas; then the node is empty and says "drained".
TEST_F(ServicesLoopTest, DrainMovesPodsNewBeforeOld) {
  h_.putService(LoopHarness::service("demo", "web", 3));
  h_.pass();
  readyAll();
  h_.putNode("n2");
  types::Node n1 = *h_.get<types::Node>(*keys::nodeKey("n1", keys::Part::kInfo));
  n1.spec.unschedulable = true;
  n1.spec.drain.state = "draining";
  h_.put(*keys::nodeKey("n1", keys::Part::kInfo), n1);
  h_.pass();
  auto onNode = [&](const std::string& node, bool readyOnly) {
    int n = 0;
    for (const auto& p : pods()) n += p.status.node == node && (!readyOnly || p.status.ready);
    return n;
  };
  EXPECT_EQ(onNode("n1", true), 3) << "the old pods serve until replacements are ready";
  EXPECT_EQ(onNode("n2", false), 3) << "replacements placed on the other node";
  auto drain = [&] {
    return h_.get<types::Node>(*keys::nodeKey("n1", keys::Part::kInfo))->spec.drain;
  };
  EXPECT_EQ(drain().state, "draining");
  EXPECT_EQ(drain().pods, 3);
  EXPECT_EQ(stored().status.state, types::State::kReady) << stored().status.message;

  // One replacement ready: one old pod goes, never fewer than 3 ready.
  for (const auto& p : pods()) {
    if (p.status.node == "n2") {
      h_.markReady(p, "172.17.1.2");
      break;
    }
  }
  h_.pass();
  EXPECT_EQ(onNode("n1", true) + onNode("n2", true), 3);
  EXPECT_EQ(onNode("n1", false), 2);
  EXPECT_EQ(drain().pods, 2);

  int ip = 3;
  for (const auto& p : pods())
    if (!p.status.ready) h_.markReady(p, "172.17.1." + std::to_string(ip++));
  h_.pass();
  h_.pass();
  EXPECT_EQ(onNode("n1", false), 0);
  EXPECT_EQ(onNode("n2", true), 3);
  EXPECT_EQ(drain().state, "drained");
  EXPECT_EQ(drain().pods, 0);
  EXPECT_EQ(stored().status.state, types::State::kReady);
}

// With no other node to move to, the drain still empties the node: the
// replacement waits for room (the drain does not wait for room that is not
// there).
TEST_F(ServicesLoopTest, DrainWithNoRoomElsewhereStillEmptiesTheNode) {
  h_.putService(LoopHarness::service("demo", "web", 2));
  h_.pass();
  readyAll();
  types::Node n1 = *h_.get<types::Node>(*keys::nodeKey("n1", keys::Part::kInfo));
  n1.spec.unschedulable = true;
  n1.spec.drain.state = "draining";
  h_.put(*keys::nodeKey("n1", keys::Part::kInfo), n1);
  h_.pass();
  h_.pass();
  ASSERT_EQ(pods().size(), 2u);
  for (const auto& p : pods()) {
    EXPECT_TRUE(p.status.node.empty()) << p.meta.name << " on " << p.status.node;
    EXPECT_NE(p.status.message.find("unschedulable"), std::string::npos) << p.status.message;
  }
  EXPECT_EQ(h_.get<types::Node>(*keys::nodeKey("n1", keys::Part::kInfo))->spec.drain.state,
            "drained");
  h_.putNode("n2");
  h_.after(std::chrono::seconds(1));
  for (const auto& p : pods()) EXPECT_EQ(p.status.node, "n2");
}

// The scheduler places no pod past the namespace's quota, whatever the
// service asks (the api refuses such a write; the store may still hold one).
TEST_F(ServicesLoopTest, NoPodIsPlacedPastTheNamespaceQuota) {
  types::Namespace ns;
  ns.meta.name = ns.meta.selflink = "demo";
  ns.spec.resources.limits.pods = 2;
  h_.put(*keys::namespaceKey("demo"), ns);
  h_.putService(LoopHarness::service("demo", "web", 3));
  h_.pass();
  int placed = 0;
  std::string why;
  for (const auto& p : pods()) {
    if (!p.status.node.empty()) {
      placed++;
    } else {
      why = p.status.message;
    }
  }
  EXPECT_EQ(placed, 2);
  EXPECT_EQ(why,
            "namespace 'demo' quota: spec.resources.limits.pods 2 allowed, 3 asked by its placed "
            "pods and this one");
  EXPECT_NE(stored().status.message.find("spec.resources.limits.pods"), std::string::npos)
      << stored().status.message;
}

// Past the history limit (10 by default) the oldest retired deployments go.
TEST_F(ServicesLoopTest, TheHistoryKeepsTheLastTenReplacedDeployments) {
  auto svc = LoopHarness::service("demo", "web", 1);
  std::vector<std::string> images;
  for (int i = 1; i <= 13; ++i) {
    svc.spec.template_.containers[0].image.name = "web:" + std::to_string(i);
    images.push_back(svc.spec.template_.containers[0].image.name);
    h_.putService(svc);
    h_.pass();
    readyAll();
    h_.heartbeat("n1");
    h_.after(std::chrono::seconds(1));  // distinct creation times
  }
  std::set<std::string> kept;
  int live = 0;
  for (const auto& d : deployments()) {
    if (d.status.state == types::State::kDestroyed) {
      kept.insert(d.spec.template_.containers[0].image.name);
    } else {
      ++live;
      EXPECT_EQ(d.spec.template_.containers[0].image.name, "web:13");
    }
  }
  EXPECT_EQ(live, 1);
  EXPECT_EQ(kept, (std::set<std::string>{images.begin() + 2, images.end() - 1}))
      << "web:3 .. web:12 kept, web:1 and web:2 gone";
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
