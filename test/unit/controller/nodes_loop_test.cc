// The nodes loop alone: health (a node whose heartbeat is older than the
// offline timeout is marked offline) and the node's manifests (its pods and
// what they reference; nothing once it is offline).

#include <gtest/gtest.h>

#include "controller/loops/nodes.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

Options healthOptions() {
  Options o;
  o.nodeOfflineTimeout = 5s;
  o.healthInterval = 1s;
  return o;
}

class NodesLoopTest : public ::testing::Test {
 protected:
  NodesLoopTest() : h_(only<loops::NodesLoop>(), healthOptions()) {}

  bool online(const std::string& node) {
    auto n = h_.get<types::Node>(*keys::nodeKey(node, keys::Part::kStatus));
    return n && n->status.online;
  }
  // A pod the services loop placed on `node`, its image pulled with `secret`.
  types::Pod putPod(const std::string& name, const std::string& node, const std::string& secret) {
    types::Pod p;
    p.meta.name = name;
    p.meta.namespace_ = "demo";
    p.meta.selflink = "demo:web:d1:" + name;
    types::ContainerSpec c;
    c.name = "main";
    c.image.name = "web:1";
    c.image.secret = secret;
    p.spec.template_.containers.push_back(c);
    p.status.node = node;
    p.status.state = types::State::kProvision;
    h_.put(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), p);
    return p;
  }
  void putSecret(const std::string& name) {
    types::Secret s;
    s.meta.name = name;
    s.meta.namespace_ = "demo";
    s.meta.selflink = "demo:" + name;
    s.spec.data["token"] = "abc";
    h_.put(*keys::secretKey("demo", name), s);
  }
  std::string manifest(const std::string& node, keys::ManifestKind kind, const std::string& sl) {
    return *keys::nodeManifestKey(node, kind, sl);
  }

  LoopHarness h_;
};

TEST_F(NodesLoopTest, StaleHeartbeatMarksTheNodeOfflineFreshOneDoesNot) {
  h_.putNode("n1");
  h_.putNode("n2");
  h_.pass();
  for (int i = 0; i < 4; ++i) {
    h_.after(1500ms);
    h_.heartbeat("n2");  // n2 keeps reporting
  }
  h_.pass();
  EXPECT_FALSE(online("n1"));  // 6 s without a heartbeat
  EXPECT_TRUE(online("n2"));
}

// The health check is the one periodic thing an idle controller wakes for.
TEST_F(NodesLoopTest, IdleControllerWakesForTheNextHealthCheck) {
  h_.pass();
  auto w = h_.core().idleWait(10s);
  EXPECT_GT(w, 0ms);
  EXPECT_LE(w, 1000ms);
  h_.clock().advance(w);
  EXPECT_EQ(h_.core().idleWait(10s), 0ms);
  h_.pass();
  EXPECT_EQ(h_.core().idleWait(10s), 1000ms);
}

TEST_F(NodesLoopTest, HeartbeatWithinTheTimeoutKeepsTheNodeOnline) {
  h_.putNode("n1");
  h_.after(4900ms);
  EXPECT_TRUE(online("n1"));
}

TEST_F(NodesLoopTest, ManifestsFollowThePodsOfAnOnlineNode) {
  h_.putNode("n1");
  putSecret("pull");
  types::Pod p = putPod("p1", "n1", "pull");
  h_.pass();
  const std::string podKey = manifest("n1", keys::ManifestKind::kPod, p.meta.selflink);
  const std::string secretKey = manifest("n1", keys::ManifestKind::kSecret, "demo:pull");
  auto m = h_.get<types::Pod>(podKey);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->status.node, "n1");
  EXPECT_FALSE(m->status.ready);
  EXPECT_TRUE(h_.has(secretKey));

  // The pod reports ready: its manifest (the spec as scheduled) stays.
  p.status.ready = true;
  h_.put(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), p);
  h_.pass();
  EXPECT_FALSE(h_.get<types::Pod>(podKey)->status.ready);

  // The node goes offline: it needs nothing.
  h_.heartbeat("n1", false);
  h_.pass();
  EXPECT_EQ(h_.count(*keys::nodeManifestsPrefix("n1")), 0u);
}

TEST_F(NodesLoopTest, DeletedPodTakesItsManifestAndUnusedSecretAlong) {
  h_.putNode("n1");
  putSecret("pull");
  types::Pod p = putPod("p1", "n1", "pull");
  h_.pass();
  EXPECT_EQ(h_.count(*keys::nodeManifestsPrefix("n1")), 2u);
  h_.remove(*keys::objectKey(keys::Collection::kPod, p.meta.selflink));
  h_.pass();
  EXPECT_EQ(h_.count(*keys::nodeManifestsPrefix("n1")), 0u);
}

}  // namespace
}  // namespace lb::controller::testing
