// The node's cluster network against the CNI, CPI and CRI fakes: the own
// subnet before any pod, peers and endpoints following the spec as deltas,
// drift put back by the full pass, adoption without a change, errors
// retried, and a pod waiting for its network with a message saying why.

#include "node/network_sync.h"

#include <gtest/gtest.h>

#include "agent_fixture.h"
#include "fakes/runtime/fake_cni.h"
#include "fakes/runtime/fake_cpi.h"

namespace lb::node {
namespace {

using namespace std::chrono_literals;

using testing::AgentFixture;
using testing::FakeLink;
using testing::settle;

types::Subnet subnet(const std::string& cidr, const std::string& node, const std::string& addr) {
  types::Subnet s;
  s.meta.name = cidr;
  s.spec.cidr = cidr;
  s.spec.node = node;
  s.spec.type = "vxlan";
  s.spec.addr = addr;
  return s;
}

std::map<std::string, types::Subnet> subnets(std::vector<types::Subnet> list) {
  std::map<std::string, types::Subnet> out;
  for (auto& s : list) out[s.spec.cidr] = s;
  return out;
}

types::Endpoint endpoint(const std::string& name, const std::string& vip,
                         std::vector<std::string> pods) {
  types::Endpoint e;
  e.meta.name = name;
  e.meta.namespace_ = "demo";
  e.meta.selflink = "demo:" + name;
  e.spec.ip = vip;
  e.spec.ports.push_back({80, 8080, "tcp"});
  for (const auto& ip : pods) e.spec.upstreams.push_back({ip, 8080});
  return e;
}

std::map<std::string, types::Endpoint> endpoints(std::vector<types::Endpoint> list) {
  std::map<std::string, types::Endpoint> out;
  for (auto& e : list) out[e.meta.selflink] = e;
  return out;
}

class NetworkSyncTest : public AgentFixture {
 protected:
  NetworkSyncTest() {
    auto host = fakes::FakeNetworkRuntime::defaultHost();
    host.node = "node-1";
    cni_ = std::make_unique<fakes::FakeNetworkRuntime>(host);
  }
  NetworkSyncOptions syncOptions() {
    NetworkSyncOptions o;
    o.node = "node-1";
    o.cni = cni_.get();
    o.cpi = &cpi_;
    o.cri = &cri_;
    o.clock = &clock_;
    o.onEndpointProgrammed = [this](const std::string& name) { programmed_.push_back(name); };
    return o;
  }
  std::vector<std::string> backends(const std::string& key) {
    auto info = cpi_.info();
    EXPECT_TRUE(info.isOk());
    std::vector<std::string> out;
    if (!info->count(key)) return {"<none>"};
    for (const auto& p : info->at(key).ports)
      for (const auto& b : p.backends) out.push_back(b.ip);
    return out;
  }

  std::unique_ptr<fakes::FakeNetworkRuntime> cni_;
  fakes::FakeProxyRuntime cpi_;
  std::vector<std::string> programmed_;
};

TEST_F(NetworkSyncTest, ThePodNetworkIsReadyOnceTheOwnSubnetIsProgrammed) {
  NetworkSync net(syncOptions());
  EXPECT_FALSE(net.podNetwork().ready);
  EXPECT_TRUE(net.syncOnce(true));  // no spec yet: nothing happens
  EXPECT_EQ(cni_->errors().calls("create"), 0);

  net.want(subnets({subnet("10.244.2.0/24", "node-2", "10.250.0.2")}), {});
  EXPECT_TRUE(net.syncOnce(false));
  auto state = net.podNetwork();
  EXPECT_FALSE(state.ready);
  EXPECT_NE(state.message.find("waiting for this node's pod subnet"), std::string::npos);
  EXPECT_TRUE(cni_->peer("10.244.2.0/24").has_value()) << "peers do not wait for the own subnet";

  net.want(subnets({subnet("10.244.1.0/24", "node-1", "10.250.0.1"),
                    subnet("10.244.2.0/24", "node-2", "10.250.0.2")}),
           {});
  EXPECT_TRUE(net.syncOnce(false));
  state = net.podNetwork();
  EXPECT_TRUE(state.ready) << state.message;
  EXPECT_EQ(state.name, kPodNetwork);
  EXPECT_EQ(cni_->host().bridgeAddress, "10.244.1.1/24");
  // The runtime's network is on the bridge with the subnet.
  runtime::cri::NetworkSpec spec{kPodNetwork, "lb0", "10.244.1.0/24", "10.244.1.1", 1450, {}};
  EXPECT_TRUE(cri_.ensureNetwork(spec).isOk());
}

TEST_F(NetworkSyncTest, PeersFollowTheSpecAndDriftIsPutBackByTheFullPass) {
  NetworkSync net(syncOptions());
  auto own = subnet("10.244.1.0/24", "node-1", "10.250.0.1");
  auto b = subnet("10.244.2.0/24", "node-2", "10.250.0.2");
  auto c = subnet("10.244.3.0/24", "node-3", "10.250.0.3");
  net.want(subnets({own, b, c}), {});
  ASSERT_TRUE(net.syncOnce(false));
  ASSERT_TRUE(cni_->peer("10.244.3.0/24").has_value());
  EXPECT_EQ(cni_->peer("10.244.3.0/24")->fdb, "10.250.0.3");

  // node-3 left; node-2 moved to another underlay address.
  b.spec.addr = "10.250.0.22";
  net.want(subnets({own, b}), {});
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_FALSE(cni_->peer("10.244.3.0/24").has_value());
  EXPECT_EQ(cni_->peer("10.244.2.0/24")->fdb, "10.250.0.22");

  // A route removed by hand: a delta pass does not look, the full one does.
  cni_->removeByHand("10.244.2.0/24", "route");
  const int creates = cni_->errors().calls("create") + cni_->errors().calls("replace");
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_EQ(cni_->errors().calls("create") + cni_->errors().calls("replace"), creates);
  EXPECT_TRUE(cni_->peer("10.244.2.0/24")->route.empty());
  ASSERT_TRUE(net.syncOnce(true));
  EXPECT_FALSE(cni_->peer("10.244.2.0/24")->route.empty());
}

TEST_F(NetworkSyncTest, EndpointsAreProgrammedUpdatedAndRemoved) {
  NetworkSync net(syncOptions());
  auto web = endpoint("web", "10.96.0.10", {"10.244.1.5"});
  auto db = endpoint("db", "10.96.0.11", {"10.244.2.7"});
  net.want({}, endpoints({web, db}));
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_EQ(backends("demo:web"), std::vector<std::string>{"10.244.1.5"});
  EXPECT_EQ(backends("demo:db"), std::vector<std::string>{"10.244.2.7"});
  EXPECT_EQ(programmed_.size(), 2u);

  web.spec.upstreams.push_back({"10.244.2.9", 8080});
  net.want({}, endpoints({web}));
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_EQ(backends("demo:web"), (std::vector<std::string>{"10.244.1.5", "10.244.2.9"}));
  EXPECT_EQ(backends("demo:db"), std::vector<std::string>{"<none>"});
  EXPECT_EQ(programmed_.back(), "demo:web");

  // Nothing changed: no call but the listing of a full pass.
  const int updates = cpi_.errors().calls("update") + cpi_.errors().calls("create");
  ASSERT_TRUE(net.syncOnce(true));
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_EQ(cpi_.errors().calls("update") + cpi_.errors().calls("create"), updates);

  // An endpoint without a VIP yet, or one that is malformed, is skipped.
  auto novip = endpoint("novip", "", {"10.244.1.6"});
  auto bad = endpoint("bad", "10.96.0.300", {"10.244.1.6"});
  net.want({}, endpoints({web, novip, bad}));
  EXPECT_TRUE(net.syncOnce(false));
  EXPECT_EQ(backends("demo:novip"), std::vector<std::string>{"<none>"});
  EXPECT_EQ(backends("demo:bad"), std::vector<std::string>{"<none>"});
}

TEST_F(NetworkSyncTest, ARestartedAgentAdoptsTheDataPlaneAndRepairsDrift) {
  auto own = subnet("10.244.1.0/24", "node-1", "10.250.0.1");
  auto b = subnet("10.244.2.0/24", "node-2", "10.250.0.2");
  auto web = endpoint("web", "10.96.0.10", {"10.244.1.5", "10.244.2.7"});
  {
    NetworkSync first(syncOptions());
    first.want(subnets({own, b}), endpoints({web}));
    ASSERT_TRUE(first.syncOnce(false));
  }
  auto cni2 = cni_->sibling();
  auto cpi2 = cpi_.reopened();
  auto o = syncOptions();
  o.cni = cni2.get();
  o.cpi = cpi2.get();
  NetworkSync second(o);
  second.want(subnets({own, b}), endpoints({web}));
  ASSERT_TRUE(second.syncOnce(false));  // the first pass is a full one
  EXPECT_EQ(cni2->errors().calls("subnets"), 1);
  EXPECT_EQ(cpi2->errors().calls("info"), 1);
  EXPECT_EQ(cni2->errors().calls("create") + cni2->errors().calls("replace"), 0);
  EXPECT_EQ(cpi2->errors().calls("create") + cpi2->errors().calls("update"), 0);
  EXPECT_TRUE(second.podNetwork().ready);

  cpi_.damage("10.96.0.10");
  ASSERT_TRUE(second.syncOnce(true));
  EXPECT_EQ(backends("demo:web"), (std::vector<std::string>{"10.244.1.5", "10.244.2.7"}));
}

TEST_F(NetworkSyncTest, WaitAppliedReturnsOnceAPassOfThatGenerationSucceeded) {
  NetworkSync net(syncOptions());
  const uint64_t gen = net.want({}, endpoints({endpoint("web", "10.96.0.10", {"10.244.1.5"})}));
  bool waited = false;
  std::thread t([&] { waited = net.waitApplied(gen, 10s); });
  cpi_.errors().fail("create", unavailable("nft: busy"), 1);
  EXPECT_FALSE(net.syncOnce(false));  // a failed pass does not count
  EXPECT_FALSE(settle([&] { return waited; }, 50ms));
  EXPECT_TRUE(net.syncOnce(false));
  t.join();
  EXPECT_TRUE(waited);
  EXPECT_FALSE(net.waitApplied(gen + 1, 0ms)) << "a later generation is not applied yet";
}

TEST_F(NetworkSyncTest, FailuresAreReportedAndRetried) {
  NetworkSync net(syncOptions());
  cni_->errors().fail("create", unavailable("netlink: Operation not permitted"), 1);
  net.want(subnets({subnet("10.244.1.0/24", "node-1", "10.250.0.1")}),
           endpoints({endpoint("web", "10.96.0.10", {"10.244.1.5"})}));
  EXPECT_FALSE(net.syncOnce(false));
  auto state = net.podNetwork();
  EXPECT_FALSE(state.ready);
  EXPECT_NE(state.message.find("Operation not permitted"), std::string::npos) << state.message;
  EXPECT_EQ(backends("demo:web"), std::vector<std::string>{"10.244.1.5"})
      << "the endpoints do not wait for the subnet";

  cpi_.errors().fail("update", unavailable("nft: busy"), 1);
  cpi_.damage("10.96.0.10");
  EXPECT_FALSE(net.syncOnce(true));
  EXPECT_TRUE(net.syncOnce(true));
  EXPECT_TRUE(net.podNetwork().ready);
  EXPECT_EQ(backends("demo:web"), std::vector<std::string>{"10.244.1.5"});
}

TEST_F(NetworkSyncTest, ALeaseThatMovedRecreatesTheRuntimeNetworkAndItsPods) {
  // What an earlier lease left: the runtime's network with another subnet,
  // and a pod's container on it.
  runtime::cri::NetworkSpec old{kPodNetwork, "lb0", "10.244.9.0/24", "10.244.9.1", 1450, {}};
  ASSERT_TRUE(cri_.ensureNetwork(old).isOk());
  runtime::cri::ContainerSpec c;
  c.name = "old";
  c.image = testing::kImage;
  c.network = kPodNetwork;
  c.labels[runtime::cri::kLabelPod] = "demo:web:d1:p0";
  auto id = cri_.create(c);
  ASSERT_TRUE(id.isOk()) << id.status().message();
  ASSERT_TRUE(cri_.start(*id).isOk());

  NetworkSync net(syncOptions());
  net.want(subnets({subnet("10.244.1.0/24", "node-1", "10.250.0.1")}), {});
  ASSERT_TRUE(net.syncOnce(false));
  EXPECT_TRUE(net.podNetwork().ready);
  EXPECT_EQ(cri_.inspect(*id).status().code(), Code::kNotFound);
  runtime::cri::NetworkSpec now{kPodNetwork, "lb0", "10.244.1.0/24", "10.244.1.1", 1450, {}};
  EXPECT_TRUE(cri_.ensureNetwork(now).isOk());
}

// The agent: a pod's first container waits for the pod network, then joins it.
TEST_F(NetworkSyncTest, APodWaitsForThePodNetworkThenGetsAnAddressOfTheSubnet) {
  auto m = testing::manifest({testing::pod("p1")});
  FakeLink link(m);
  auto o = options();
  o.cni = cni_.get();
  o.cpi = &cpi_;
  Agent agent(o, &link, &cri_, &images_, &volumes_);
  ASSERT_TRUE(agent.start().isOk());
  const std::string sl = "demo:web:d1:p1";
  ASSERT_TRUE(advanceUntil([&] {
    auto p = agent.podStatus(sl);
    return p && p->status.message.find("pod subnet") != std::string::npos;
  }));
  EXPECT_EQ(cri_.errors().calls("create"), 0);

  m.subnets = subnets({subnet("10.244.1.0/24", "node-1", "10.250.0.1")});
  m.endpoints = endpoints({endpoint("web", "10.96.0.10", {"10.244.1.2"})});
  link.setManifest(m);
  ASSERT_TRUE(advanceUntil([&] {
    auto p = agent.podStatus(sl);
    return p && p->status.ready;
  }));
  auto p = agent.podStatus(sl);
  EXPECT_EQ(p->status.ip.rfind("10.244.1.", 0), 0u) << p->status.ip;
  EXPECT_TRUE(settle([&] { return backends("demo:web") == std::vector<std::string>{"10.244.1.2"}; }));
  agent.stop();
  EXPECT_EQ(cni_->host().bridgeAddress, "10.244.1.1/24") << "stopping leaves the network";
}

// The pod's first container gets the ready discovery as its resolver; the
// joined ones share its resolv.conf (nothing of their own).
TEST_F(NetworkSyncTest, APodsFirstContainerResolvesThroughTheReadyDiscovery) {
  auto m = testing::manifest({testing::pod("p1", 2)});
  m.subnets = subnets({subnet("10.244.1.0/24", "node-1", "10.250.0.1")});
  FakeLink link(m);
  types::Discovery d;
  d.meta.name = "h1";
  d.spec.ip = "10.250.0.1";
  d.spec.port = 53;
  d.spec.domain = "lb.local";
  d.status.online = d.status.ready = true;
  d.status.heartbeat = formatRfc3339(clock_.now());
  link.setDiscoveries({d});
  auto o = options();
  o.cni = cni_.get();
  o.cpi = &cpi_;
  Agent agent(o, &link, &cri_, &images_, &volumes_);
  ASSERT_TRUE(agent.start().isOk());
  ASSERT_TRUE(advanceUntil([&] {
    auto p = agent.podStatus("demo:web:d1:p1");
    return p && p->status.ready;
  }));
  auto specs = cri_.specs();
  ASSERT_EQ(specs.size(), 2u);
  const auto& owner = specs[0].network.empty() ? specs[1] : specs[0];
  const auto& joined = specs[0].network.empty() ? specs[0] : specs[1];
  EXPECT_EQ(owner.dns, std::vector<std::string>{"10.250.0.1"});
  EXPECT_EQ(owner.dnsSearch, (std::vector<std::string>{"demo.lb.local", "lb.local"}));
  EXPECT_EQ(owner.dnsOptions, std::vector<std::string>{"ndots:1"});
  EXPECT_TRUE(joined.dns.empty());
  agent.stop();
}

}  // namespace
}  // namespace lb::node
