// The API side of the node protocol (docs/node-protocol.md), through the
// agent's own ApiLink: register, report, the spec long-poll, and the logs
// proxy to a node HTTP server.

#include <gtest/gtest.h>

#include <thread>

#include "http/server.h"
#include "support/api_fixture.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"
#include "node/cluster_link.h"

namespace lb::node {
namespace {

using namespace std::chrono_literals;
namespace keys = storage::keys;

class NodeRoutesTest : public lb::testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    link_ = makeApiLink(client_.get(), "n1");
    types::Node n;
    n.info.hostname = "n1";
    n.info.internalIp = "127.0.0.1";
    n.info.labels["lastbackend.node.port"] = "1";  // set per test
    ASSERT_TRUE(link_->registerNode(n).isOk());
  }
  void putPodManifest(const std::string& sl) {
    types::Pod p;
    p.meta.name = sl.substr(sl.rfind(':') + 1);
    p.meta.selflink = sl;
    types::ContainerSpec c;
    c.name = "c";
    c.image.name = "x";
    p.spec.template_.containers.push_back(c);
    ASSERT_TRUE(
        store_->put(*keys::nodeManifestKey("n1", keys::ManifestKind::kPod, sl), types::toJson(p))
            .isOk());
  }
  std::unique_ptr<ClusterLink> link_;
};

TEST_F(NodeRoutesTest, SpecLongPollWakesOnAChangeOfThisNodeOnly) {
  auto first = link_->fetchSpec(0, 0ms);
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_TRUE(first->pods.empty());
  const int64_t rev = first->revision;

  // Nothing changes: the answer comes after the timeout, same revision.
  auto t0 = std::chrono::steady_clock::now();
  auto idle = link_->fetchSpec(rev, 400ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(idle.isOk()) << idle.status().toString();
  EXPECT_GE(took, 350ms);
  EXPECT_TRUE(idle->pods.empty());

  // A write elsewhere does not wake it; one under the node's manifests does.
  std::thread writer([&] {
    std::this_thread::sleep_for(200ms);
    EXPECT_TRUE(store_->put("/manifest/node/other/pod/demo:web:d:x", "{}").isOk());
    std::this_thread::sleep_for(200ms);
    putPodManifest("demo:web:d:p1");
  });
  t0 = std::chrono::steady_clock::now();
  auto changed = link_->fetchSpec(rev, 10s);
  took = std::chrono::steady_clock::now() - t0;
  writer.join();
  ASSERT_TRUE(changed.isOk()) << changed.status().toString();
  EXPECT_GE(took, 350ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(changed->pods.count("demo:web:d:p1"), 1u);
  EXPECT_GT(changed->revision, rev);
}

TEST_F(NodeRoutesTest, SpecLongPollRejectsBadParameters) {
  EXPECT_EQ(send("GET", "/cluster/node/n1/spec?revision=abc").status, 422);
  EXPECT_EQ(send("GET", "/cluster/node/n1/spec?revision=1&timeout=soon").status, 422);
  EXPECT_EQ(send("GET", "/cluster/node/nope/spec?revision=1").status, 404);
}

TEST_F(NodeRoutesTest, ReportWritesPodStatusOfPodsOnThisNode) {
  types::Pod p;
  p.meta.name = "p1";
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:d:p1";
  p.status.node = "n1";
  auto key = *keys::objectKey(keys::Collection::kPod, p.meta.selflink);
  ASSERT_TRUE(store_->put(key, types::toJson(p)).isOk());
  types::NodeStatus ns;
  ns.capacity.cpu = 2000;
  types::Pod report;
  report.meta.selflink = p.meta.selflink;
  report.status.state = types::State::kReady;
  report.status.ready = true;
  report.status.ip = "10.0.0.9";
  report.status.containers.push_back({"id1", "c", "x", "started", true, 2, ""});
  ASSERT_TRUE(link_->report(ns, {report}, {}).isOk());
  types::Pod stored;
  ASSERT_TRUE(types::fromJson(store_->get(key)->value, &stored).isOk());
  EXPECT_TRUE(stored.status.ready);
  EXPECT_EQ(stored.status.ip, "10.0.0.9");
  EXPECT_EQ(stored.status.containers.at(0).restarts, 2);
  EXPECT_EQ(stored.status.node, "n1");
}

// Volume statuses of a report land in the stored Volumes (what `lb volume
// ls/inspect` read); a removed Volume is skipped, and the link tells it
// from one that exists.
TEST_F(NodeRoutesTest, ReportWritesVolumeStatusAndTheLinkSeesRemovedVolumes) {
  types::Volume v;
  v.meta.name = "data";
  v.meta.namespace_ = "demo";
  v.meta.selflink = "demo:data";
  auto key = *keys::objectKey(keys::Collection::kVolume, v.meta.selflink);
  ASSERT_TRUE(store_->put(key, types::toJson(v)).isOk());
  types::Volume report, gone;
  report.meta.selflink = "demo:data";
  report.status.state = types::State::kReady;
  report.status.ready = true;
  report.status.path = "/var/lib/lastbackend/volumes/demo:data";
  gone.meta.selflink = "demo:gone";
  ASSERT_TRUE(link_->report({}, {}, {report, gone}).isOk());
  types::Volume stored;
  ASSERT_TRUE(types::fromJson(store_->get(key)->value, &stored).isOk());
  EXPECT_EQ(stored.status.state, types::State::kReady);
  EXPECT_TRUE(stored.status.ready);
  EXPECT_EQ(stored.status.path, report.status.path);
  EXPECT_EQ(stored.spec, v.spec);
  EXPECT_FALSE(store_->get(*keys::objectKey(keys::Collection::kVolume, "demo:gone")).isOk());
  auto there = link_->volumeExists("demo:data");
  ASSERT_TRUE(there.isOk()) << there.status().toString();
  EXPECT_TRUE(*there);
  auto removed = link_->volumeExists("demo:gone");
  ASSERT_TRUE(removed.isOk()) << removed.status().toString();
  EXPECT_FALSE(*removed);
  // A volume selflink without a namespace is refused.
  types::Volume bad;
  bad.meta.selflink = "data";
  EXPECT_FALSE(link_->report({}, {}, {bad}).isOk());
}

TEST_F(NodeRoutesTest, ServiceLogsAreProxiedToTheNodeWithTheCallersToken) {
  // A node HTTP server stand-in that needs the cluster token.
  http::ServerOptions so;
  so.address = "127.0.0.1";
  so.port = 0;
  so.token = lb::testing::kToken;
  auto node = http::Server::create(so);
  ASSERT_TRUE(node.isOk());
  std::string seenPod, seenFollow;
  Status routed = (*node)->router().get("/pod/{pod}/logs", [&](const http::Request& r) {
    seenPod = r.param("pod");
    seenFollow = r.queryParam("follow").value_or("");
    return http::Response::streaming([](http::StreamWriter& w) {
      w.write("line one\nline ");
      w.write("two\n");
    });
  });
  ASSERT_TRUE(routed.isOk());
  ASSERT_TRUE((*node)->start().isOk());
  types::Node n;
  n.info.hostname = "n1";
  n.info.internalIp = "127.0.0.1";
  n.info.labels["lastbackend.node.port"] = std::to_string((*node)->port());
  ASSERT_TRUE(link_->registerNode(n).isOk());

  seed("/namespace/demo", R"({"meta":{"name":"demo","selflink":"demo"}})");
  seed("/service/demo:web", R"({"meta":{"name":"web","namespace":"demo","selflink":"demo:web"}})");
  // No pod on a node yet: 503.
  auto none = send("GET", "/namespace/demo/service/web/logs");
  EXPECT_EQ(none.status, 503);
  EXPECT_NE(none.body.find("no node agent reachable"), std::string::npos);
  types::Pod p;
  p.meta.name = "p1";
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:d:p1";
  p.status.node = "n1";
  ASSERT_TRUE(
      store_->put(*keys::objectKey(keys::Collection::kPod, p.meta.selflink), types::toJson(p))
          .isOk());
  std::string body;
  Status s = client_->stream("/namespace/demo/service/web/logs", {{"follow", "true"}},
                             [&](std::string_view chunk) {
                               body.append(chunk);
                               return true;
                             });
  ASSERT_TRUE(s.isOk()) << s.toString();
  EXPECT_EQ(body, "line one\nline two\n");
  EXPECT_EQ(seenPod, "demo:web:d:p1");
  EXPECT_EQ(seenFollow, "true");
  (*node)->stop();
}

}  // namespace
}  // namespace lb::node
