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
using lb::testing::Json;
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
  // The cluster network as the controller writes it.
  void putSubnetManifest(const std::string& cidr, const std::string& node) {
    types::Subnet s;
    s.meta.name = s.meta.selflink = s.spec.cidr = cidr;
    s.spec.node = node;
    s.spec.type = "vxlan";
    s.spec.addr = "192.0.2.7";
    ASSERT_TRUE(store_->set(*keys::clusterSubnetManifestKey(cidr), types::toJson(s)).isOk());
  }
  void putEndpointManifest(const std::string& sl, const std::string& ip) {
    types::Endpoint e;
    e.meta.name = sl.substr(sl.find(':') + 1);
    e.meta.namespace_ = sl.substr(0, sl.find(':'));
    e.meta.selflink = sl;
    e.spec.ip = ip;
    ASSERT_TRUE(store_->set(*keys::clusterEndpointManifestKey(sl), types::toJson(e)).isOk());
  }
  std::unique_ptr<ClusterLink> registered(const std::string& name) {
    auto link = makeApiLink(client_.get(), name);
    types::Node n;
    n.info.hostname = name;
    EXPECT_TRUE(link->registerNode(n).isOk());
    return link;
  }
  std::unique_ptr<ClusterLink> link_;
};

// Every node's answer carries the whole cluster network: every subnet (by
// cidr, each node's own among them) and every endpoint (by selflink).
TEST_F(NodeRoutesTest, SpecCarriesEverySubnetAndEndpointOfTheCluster) {
  putSubnetManifest("10.244.0.0/24", "n1");
  putSubnetManifest("10.244.1.0/24", "n2");
  putEndpointManifest("demo:web", "10.96.0.7");
  putEndpointManifest("other:db", "10.96.0.8");
  auto n2 = registered("n2");
  for (ClusterLink* link : {link_.get(), n2.get()}) {
    auto spec = link->fetchSpec(0, 0ms);
    ASSERT_TRUE(spec.isOk()) << spec.status().toString();
    ASSERT_EQ(spec->subnets.size(), 2u);
    EXPECT_EQ(spec->subnets.at("10.244.0.0/24").spec.node, "n1");
    EXPECT_EQ(spec->subnets.at("10.244.1.0/24").spec.node, "n2");
    EXPECT_EQ(spec->subnets.at("10.244.1.0/24").spec.addr, "192.0.2.7");
    ASSERT_EQ(spec->endpoints.size(), 2u);
    EXPECT_EQ(spec->endpoints.at("demo:web").spec.ip, "10.96.0.7");
    EXPECT_EQ(spec->endpoints.at("other:db").spec.ip, "10.96.0.8");
  }
}

// A subnet or endpoint change is every node's: the parked requests of all
// nodes are answered with it, past the revision they waited on.
TEST_F(NodeRoutesTest, SpecLongPollOfEveryNodeWakesOnASubnetOrEndpointChange) {
  auto n2 = registered("n2");
  for (int round = 0; round < 2; ++round) {
    auto first = link_->fetchSpec(0, 0ms);
    ASSERT_TRUE(first.isOk()) << first.status().toString();
    const int64_t rev = first->revision;
    StatusOr<NodeManifest> got1 = internalError("not answered"), got2 = got1;
    auto t0 = std::chrono::steady_clock::now();
    std::thread w1([&] { got1 = link_->fetchSpec(rev, 10s); });
    std::thread w2([&] { got2 = n2->fetchSpec(rev, 10s); });
    std::this_thread::sleep_for(200ms);  // parked (a change before that answers at once too)
    if (round == 0) {
      putSubnetManifest("10.244.3.0/24", "n3");
    } else {
      putEndpointManifest("demo:web", "10.96.0.9");
    }
    w1.join();
    w2.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    for (auto* got : {&got1, &got2}) {
      ASSERT_TRUE(got->isOk()) << got->status().toString();
      EXPECT_GT((*got)->revision, rev);
      if (round == 0) {
        EXPECT_EQ((*got)->subnets.count("10.244.3.0/24"), 1u);
      } else {
        ASSERT_EQ((*got)->endpoints.count("demo:web"), 1u);
        EXPECT_EQ((*got)->endpoints.at("demo:web").spec.ip, "10.96.0.9");
      }
    }
  }
  // Nothing changed since: a wait on the new revision times out.
  auto now = link_->fetchSpec(0, 0ms);
  ASSERT_TRUE(now.isOk());
  auto t0 = std::chrono::steady_clock::now();
  auto idle = link_->fetchSpec(now->revision, 400ms);
  ASSERT_TRUE(idle.isOk()) << idle.status().toString();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 350ms);
  EXPECT_EQ(idle->revision, now->revision);
}

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

// ?network=N: only the network items changed after N, and the keys of all;
// the link completes the delta, so its caller sees every item, and what
// was removed is gone.
TEST_F(NodeRoutesTest, TheClusterNetworkComesAsADeltaTheLinkCompletes) {
  putSubnetManifest("10.244.0.0/24", "n1");
  putEndpointManifest("demo:web", "10.96.0.7");
  putEndpointManifest("other:db", "10.96.0.8");
  auto first = link_->fetchSpec(0, 0ms);
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  const int64_t since = first->revision;
  putEndpointManifest("demo:web", "10.96.0.17");

  auto raw = send("GET", "/cluster/node/n1/spec?network=" + std::to_string(since));
  ASSERT_EQ(raw.status, 200) << raw.body;
  auto body = Json::parse(raw.body);
  EXPECT_EQ(body["endpoints"].size(), 1u) << raw.body;
  EXPECT_EQ(body["endpoints"]["demo:web"]["spec"]["ip"], "10.96.0.17");
  EXPECT_EQ(body["subnets"].size(), 0u);
  EXPECT_EQ(body["network"]["since"], since);
  EXPECT_EQ(body["network"]["endpoints"], Json::array({"demo:web", "other:db"}));
  EXPECT_EQ(body["network"]["subnets"], Json::array({"10.244.0.0/24"}));
  for (const char* bad : {"x", "-1", "+1", "1x", "9999999999999999999"}) {
    auto r = send("GET", std::string("/cluster/node/n1/spec?network=") + bad);
    EXPECT_EQ(r.status, 422) << bad;
    EXPECT_NE(r.body.find("network"), std::string::npos) << r.body;
  }

  auto second = link_->fetchSpec(since, 2s);
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  ASSERT_EQ(second->endpoints.size(), 2u);
  EXPECT_EQ(second->endpoints.at("demo:web").spec.ip, "10.96.0.17");
  EXPECT_EQ(second->endpoints.at("other:db").spec.ip, "10.96.0.8");
  EXPECT_EQ(second->subnets.size(), 1u);
  EXPECT_FALSE(second->network.has_value());

  ASSERT_TRUE(store_->del(*keys::clusterEndpointManifestKey("other:db")).isOk());
  auto third = link_->fetchSpec(second->revision, 2s);
  ASSERT_TRUE(third.isOk()) << third.status().toString();
  EXPECT_EQ(third->endpoints.size(), 1u);
  EXPECT_EQ(third->endpoints.count("other:db"), 0u);
}

}  // namespace
}  // namespace lb::node
