// The subnets loop: every registered node leases one subnet of the pod
// range, kept as /subnet/<cidr> and /manifests/cluster/subnet/<cidr>; never
// one subnet for two nodes, released when the node goes, kept across a
// restart; an exhausted range leaves the node not ready, saying so. And the
// start errors of the pod range options.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "controller/loops/subnets.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

Options podRange(const std::string& cidr, int bits) {
  Options o;
  o.podsCidr = cidr;
  o.nodeSubnetSize = bits;
  return o;
}

class SubnetsLoopTest : public ::testing::Test {
 protected:
  explicit SubnetsLoopTest(Options o = {}) : h_(only<loops::SubnetsLoop>(), std::move(o)) {}

  // A node as the api registers it: its underlay address and interface.
  void registerNode(const std::string& name, const std::string& ip, const std::string& iface) {
    types::Node n;
    n.meta.name = name;
    n.meta.selflink = name;
    n.info.hostname = name;
    n.info.internalIp = ip;
    n.info.internalIface = iface;
    h_.put(*keys::nodeKey(name, keys::Part::kInfo), n);
  }
  void registerNode(const std::string& name) { registerNode(name, "192.0.2.1", "eth0"); }
  // The node as stored (its info key: spec.network is the loop's).
  types::Node node(const std::string& name) {
    return h_.get<types::Node>(*keys::nodeKey(name, keys::Part::kInfo)).value_or(types::Node{});
  }
  std::vector<types::Subnet> subnets() { return h_.listOf<types::Subnet>("/subnet/"); }
  // node -> the cidrs of the stored subnets naming it.
  std::map<std::string, std::set<std::string>> leases() {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& s : subnets()) out[s.spec.node].insert(s.spec.cidr);
    return out;
  }
  std::optional<types::Subnet> manifest(const std::string& cidr) {
    return h_.get<types::Subnet>(*keys::clusterSubnetManifestKey(cidr));
  }

  LoopHarness h_;
};

TEST_F(SubnetsLoopTest, EachNodeLeasesASubnetThatFollowsItsAddress) {
  registerNode("n1", "192.0.2.1", "eth0");
  h_.pass();
  auto all = subnets();
  ASSERT_EQ(all.size(), 1u);
  const types::Subnet& s = all[0];
  EXPECT_EQ(s.spec.cidr, "10.244.0.0/24");
  EXPECT_EQ(s.meta.name, s.spec.cidr);
  EXPECT_EQ(s.spec.node, "n1");
  EXPECT_EQ(s.spec.type, "vxlan");
  EXPECT_EQ(s.spec.addr, "192.0.2.1");
  EXPECT_EQ(s.spec.iface, "eth0");
  EXPECT_EQ(s.status.state, types::State::kReady);
  // The manifest the node agents read is the same subnet.
  auto m = manifest(s.spec.cidr);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->spec, s.spec);
  EXPECT_EQ(node("n1").spec.network.cidr, s.spec.cidr);
  EXPECT_EQ(node("n1").spec.network.message, "");

  // The node re-registers from another address (the api keeps its spec).
  types::Node moved = node("n1");
  moved.info.internalIp = "192.0.2.9";
  moved.info.internalIface = "eth1";
  h_.put(*keys::nodeKey("n1", keys::Part::kInfo), moved);
  h_.pass();
  ASSERT_EQ(subnets().size(), 1u);
  EXPECT_EQ(subnets()[0].spec.cidr, s.spec.cidr);  // the same lease
  EXPECT_EQ(subnets()[0].spec.addr, "192.0.2.9");
  EXPECT_EQ(subnets()[0].spec.iface, "eth1");
  EXPECT_EQ(manifest(s.spec.cidr)->spec.addr, "192.0.2.9");
  EXPECT_EQ(h_.core().stats().conflicts, 0u);
}

TEST_F(SubnetsLoopTest, ManyNodesNeverShareASubnet) {
  constexpr int kNodes = 200;
  for (int i = 0; i < kNodes; ++i) registerNode("n" + std::to_string(i));
  h_.pass();
  std::set<std::string> cidrs;
  for (const auto& s : subnets()) {
    EXPECT_TRUE(cidrs.insert(s.spec.cidr).second) << s.spec.cidr << " given twice";
    auto c = parseIpv4Prefix(s.spec.cidr, "subnet", 24, 24);
    ASSERT_TRUE(c.isOk()) << c.status().message();
    EXPECT_TRUE(parseIpv4Prefix("10.244.0.0/16", "pods")->contains(c->network)) << s.spec.cidr;
  }
  auto held = leases();
  ASSERT_EQ(held.size(), size_t{kNodes});
  for (const auto& [n, mine] : held) {
    ASSERT_EQ(mine.size(), 1u) << n;
    EXPECT_EQ(node(n).spec.network.cidr, *mine.begin()) << n;
  }
  EXPECT_EQ(h_.count("/manifests/cluster/subnet/"), size_t{kNodes});

  // More nodes later: still none shared, the old leases untouched.
  for (int i = kNodes; i < kNodes + 20; ++i) registerNode("n" + std::to_string(i));
  h_.pass();
  cidrs.clear();
  for (const auto& s : subnets()) EXPECT_TRUE(cidrs.insert(s.spec.cidr).second) << s.spec.cidr;
  EXPECT_EQ(cidrs.size(), size_t{kNodes + 20});
  EXPECT_EQ(leases()["n0"], held["n0"]);
}

// A subnet in the store is taken, whoever wrote it: a new node never gets
// it, and a node holding two keeps one.
TEST_F(SubnetsLoopTest, StoredSubnetsAreNeverGivenAgain) {
  registerNode("n0");
  for (const char* cidr : {"10.244.0.0/24", "10.244.5.0/24"}) {
    types::Subnet taken;
    taken.meta.name = taken.spec.cidr = cidr;
    taken.spec.node = "n0";
    h_.put(*keys::subnetKey(cidr), taken);
  }
  registerNode("a1");  // reconciled before n0: the first free subnet is n0's
  h_.pass();
  auto held = leases();
  ASSERT_EQ(held["n0"].size(), 1u);
  ASSERT_EQ(held["a1"].size(), 1u);
  const std::string kept = *held["n0"].begin();
  EXPECT_TRUE(kept == "10.244.0.0/24" || kept == "10.244.5.0/24") << kept;
  EXPECT_EQ(*held["a1"].begin(), "10.244.1.0/24");
  EXPECT_EQ(subnets().size(), 2u);
  EXPECT_EQ(h_.count("/manifests/cluster/subnet/"), 2u);
  EXPECT_EQ(node("n0").spec.network.cidr, kept);
}

TEST_F(SubnetsLoopTest, RemovedNodeReleasesItsSubnet) {
  registerNode("n1");
  registerNode("n2");
  h_.pass();
  const std::string gone = node("n1").spec.network.cidr;
  ASSERT_FALSE(gone.empty());
  // As `DELETE /cluster/node/n1` does.
  h_.remove(*keys::nodeKey("n1", keys::Part::kInfo));
  h_.pass();
  EXPECT_FALSE(h_.has(*keys::subnetKey(gone)));
  EXPECT_FALSE(h_.has(*keys::clusterSubnetManifestKey(gone)));
  auto held = leases();
  EXPECT_EQ(held.count("n1"), 0u);
  EXPECT_EQ(held["n2"].size(), 1u);

  // Offline is not removed: the lease stays.
  h_.putNode("n2", /*online=*/false);
  h_.pass();
  EXPECT_EQ(leases()["n2"].size(), 1u);
}

TEST_F(SubnetsLoopTest, RestartedControllerKeepsEveryLease) {
  for (const char* n : {"a", "b", "c"}) registerNode(n);
  h_.pass();
  auto before = leases();
  std::map<std::string, int64_t> revisions;
  for (const auto& [n, cidrs] : before)
    revisions[n] = h_.store().get(*keys::subnetKey(*cidrs.begin()))->revision;
  ASSERT_EQ(before.size(), 3u);

  h_.restart();
  registerNode("d");
  h_.pass();
  auto after = leases();
  for (const char* n : {"a", "b", "c"}) {
    EXPECT_EQ(after[n], before[n]) << n;
    // Adopted, not rewritten.
    EXPECT_EQ(h_.store().get(*keys::subnetKey(*after[n].begin()))->revision, revisions[n]) << n;
  }
  ASSERT_EQ(after["d"].size(), 1u);
  for (const char* n : {"a", "b", "c"}) EXPECT_NE(after["d"], before[n]);
  EXPECT_EQ(h_.core().stats().conflicts, 0u);
}

class ExhaustedSubnetsTest : public SubnetsLoopTest {
 protected:
  ExhaustedSubnetsTest() : SubnetsLoopTest(podRange("10.244.0.0/23", 24)) {}
};

TEST_F(ExhaustedSubnetsTest, NodeWithoutASubnetIsNotReadyUntilOneFrees) {
  registerNode("n1");
  registerNode("n2");
  h_.pass();
  registerNode("n3");
  h_.pass();
  EXPECT_EQ(subnets().size(), 2u);
  EXPECT_EQ(leases().count("n3"), 0u);
  const types::NodeNetwork net = node("n3").spec.network;
  EXPECT_EQ(net.cidr, "");
  EXPECT_EQ(net.message,
            "no pod subnet: pods CIDR 10.244.0.0/23 is exhausted (2 subnets of /24 in use)");

  h_.remove(*keys::nodeKey("n1", keys::Part::kInfo));
  h_.pass();
  EXPECT_EQ(leases()["n3"].size(), 1u);
  EXPECT_EQ(node("n3").spec.network.message, "");
  EXPECT_FALSE(node("n3").spec.network.cidr.empty());
}

// What Controller::create (the start of `lastbackend controller` and
// `server`) refuses, each error naming the option.
TEST(PodRangeOptions, BadOrOverlappingRangesAreStartErrors) {
  storage::Options so;
  so.driver = "mock";
  std::shared_ptr<storage::Storage> store(std::move(storage::open(so).value()));
  auto create = [&](const std::string& pods, int bits, const std::string& services) {
    Options o;
    o.podsCidr = pods;
    o.nodeSubnetSize = bits;
    o.servicesCidr = services;
    o.id = "c1";
    return Controller::create(store, o).status();
  };
  EXPECT_TRUE(create("10.244.0.0/16", 24, "10.96.0.0/16").isOk());

  Status overlap = create("10.96.0.0/12", 24, "10.96.0.0/16");
  EXPECT_EQ(overlap.code(), Code::kInvalidArgument);
  EXPECT_NE(overlap.message().find("pods.cidr"), std::string::npos) << overlap.message();
  EXPECT_NE(overlap.message().find("service.cidr"), std::string::npos) << overlap.message();
  EXPECT_FALSE(create("10.96.128.0/17", 24, "10.96.0.0/16").isOk());  // inside it

  for (const char* bad : {"10.244.0.0", "10.244.0.0/33", "fd00::/64", "10.244.0.0/31"}) {
    Status s = create(bad, 24, "10.96.0.0/16");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("--pods-cidr (pods.cidr)"), std::string::npos) << s.message();
  }
  for (int bits : {15, 31, 0}) {
    Status s = create("10.244.0.0/16", bits, "10.96.0.0/16");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bits;
    EXPECT_NE(s.message().find("--node-subnet-size (node.subnet_size)"), std::string::npos)
        << s.message();
  }
}

}  // namespace
}  // namespace lb::controller::testing
