// What the CNI suite (test/conformance) does not cover: the shared checks,
// the underlay choice, the driver's options, and, in a network namespace of
// the test's own, the host settings it touches (forwarding in that
// namespace only) and the device it makes anew when the VNI changes.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lastbackend/runtime/factory.h"
#include "runtime/cni/vxlan/vxlan_cni.h"
#include "support/netns.h"

namespace lb::runtime::cni {
namespace {

using netlink::Address;
using netlink::Link;
using netlink::Route;

TEST(CniNames, InterfaceNamesAreShortAndPlain) {
  for (const char* ok : {"eth0", "lb0", "lb.vxlan", "br-lan_1", "a23456789012345"})
    EXPECT_TRUE(validateInterfaceName(ok, "bridge").isOk()) << ok;
  auto bad = [](const std::string& name) {
    Status s = validateInterfaceName(name, "bridge");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << name;
    EXPECT_EQ(s.field(), "bridge");
    return s.message();
  };
  EXPECT_EQ(bad(""), "bridge interface name is empty");
  EXPECT_EQ(bad("a234567890123456"),
            "bridge interface name 'a234567890123456' is longer than 15 bytes");
  EXPECT_EQ(bad(".."), "bridge interface name '..' is not allowed");
  for (const char* name : {"eth/0", "eth 0", "eth:0", "e\xc3\xa9"}) {
    EXPECT_NE(bad(name).find("has a character other than"), std::string::npos) << name;
  }
}

TEST(CniNames, TheVtepMacIsTheSubnetsNetworkAddress) {
  EXPECT_EQ(*vtepMac("10.244.2.0/24"), "0a:58:0a:f4:02:00");
  EXPECT_EQ(*vtepMac("192.168.255.0/24"), "0a:58:c0:a8:ff:00");
  EXPECT_EQ(vtepMac("10.244.2.1/24").status().code(), Code::kInvalidArgument);
}

TEST(CniNames, ManifestChecks) {
  SubnetManifest m{.cidr = "10.244.2.0/24",
                   .node = "node-b",
                   .type = "vxlan",
                   .iface = "eth0",
                   .addr = "10.250.0.2",
                   .hwaddr = ""};
  EXPECT_TRUE(validateManifest(m, "vxlan", false).isOk());
  m.type = "";
  EXPECT_TRUE(validateManifest(m, "vxlan", false).isOk());  // untyped: this driver's
  m.addr = "";
  EXPECT_EQ(validateManifest(m, "vxlan", false).field(), "addr");
  EXPECT_TRUE(validateManifest(m, "vxlan", true).isOk());  // the local one may omit it
  m.hwaddr = "0a:58:0a:f4:02:00";
  EXPECT_TRUE(validateManifest(m, "vxlan", true).isOk());
  m.hwaddr = "0a:58:0a:f4:02:01";
  EXPECT_EQ(validateManifest(m, "vxlan", true).field(), "hwaddr");
  m.hwaddr = "";
  m.cidr = "10.0.0.0/7";
  EXPECT_EQ(validateManifest(m, "vxlan", true).field(), "cidr");
}

Link link(int index, const std::string& name, const std::string& kind = "", int master = 0) {
  Link l;
  l.index = index;
  l.name = name;
  l.kind = kind;
  l.loopback = name == "lo";
  l.master = master;
  return l;
}

TEST(ChooseUnderlay, TheNamedOneTheDefaultRoutesOrTheOnlyCandidate) {
  std::vector<Link> links{link(1, "lo"),
                          link(2, "eth0"),
                          link(3, "docker0", "bridge"),
                          link(4, "veth1", "veth", 3),
                          link(5, "lb.vxlan", "vxlan"),
                          link(6, "eth1")};
  std::vector<Address> addrs{{1, 0x7f000001, 8}, {2, 0x0afa0001, 24}, {3, 0xac110001, 16}};
  auto pick = [&](const std::string& wanted, const std::vector<Address>& a,
                  const std::vector<Route>& r) {
    return vxlan::chooseUnderlay(wanted, links, a, r, {"lb0", "lb.vxlan"});
  };
  EXPECT_EQ(pick("eth1", addrs, {})->name, "eth1");
  auto missing = pick("eth9", addrs, {});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "underlay interface 'eth9' (--network-driver-iface-external) does not exist");
  Route def;
  def.oif = 6;
  EXPECT_EQ(pick("", addrs, {def})->name, "eth1");  // the default route's, addressed or not
  EXPECT_EQ(pick("", addrs, {})->name, "eth0");     // the only addressed non-bridge link
  auto several = pick("", {{2, 0x0afa0001, 24}, {6, 0x0afb0001, 24}}, {});
  EXPECT_EQ(several.status().code(), Code::kInvalidArgument);
  EXPECT_NE(several.status().message().find("(eth0, eth1)"), std::string::npos)
      << several.status().message();
  auto none = pick("", {{1, 0x7f000001, 8}, {3, 0xac110001, 16}}, {});
  EXPECT_EQ(none.status().code(), Code::kNotFound);
  EXPECT_NE(none.status().message().find("--network-driver-iface-external"), std::string::npos);
}

TEST(VxlanOptions, AreCheckedBeforeAnythingIsTouched) {
  auto refused = [](Options o, const std::string& field) {
    auto r = open(o);
    ASSERT_FALSE(r.isOk());
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().message();
    EXPECT_EQ(r.status().field(), field) << r.status().message();
  };
  Options o;
  o.node = "node-a";
  Options x = o;
  x.node = "";
  refused(x, "node");
  x = o;
  x.vni = 0;
  refused(x, "vni");
  x.vni = 1u << 24;
  refused(x, "vni");
  x = o;
  x.port = 70000;
  refused(x, "port");
  x = o;
  x.bridge = "bad/name";
  refused(x, "bridge");
  x = o;
  x.device = x.bridge;
  refused(x, "bridge");
  x = o;
  x.underlay = "lb0";
  refused(x, "underlay");
  x = o;
  x.driver = "flannel";
  auto r = open(x);
  EXPECT_EQ(r.status().message(), "unknown network driver 'flannel' (valid: vxlan)");
}

// A namespace with an underlay ul0 (10.250.0.1/24, a veth end).
class VxlanNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ns_.error().empty()) {
      const char* ci = std::getenv("CI");
      if (::geteuid() != 0 && !(ci && std::string(ci) == "true")) GTEST_SKIP() << ns_.error();
      FAIL() << ns_.error();
    }
    underlay("ul0", "10.250.0.1/24");
  }
  // A veth pair's end addressed `cidr`, its peer in the namespace too.
  void underlay(const std::string& name, const std::string& cidr) {
    ip({"link", "add", name, "type", "veth", "peer", "name", name + "p"});
    ip({"addr", "add", cidr, "dev", name});
    ip({"link", "set", name + "p", "up"});
    ip({"link", "set", name, "up"});
  }
  void ip(const std::vector<std::string>& args) {
    auto r = ns_.ip(args);
    ASSERT_EQ(r.code, 0) << "ip " << args[0] << ": " << r.err;
  }
  StatusOr<std::unique_ptr<NetworkRuntime>> open(Options o) {
    StatusOr<std::unique_ptr<NetworkRuntime>> out = internalError("not entered");
    o.node = "node-a";
    EXPECT_TRUE(ns_.run([&] { out = cni::open(o); }));
    return out;
  }
  nlohmann::json deviceDetails() {
    auto r = ns_.ip({"-d", "-j", "link", "show", "dev", "lb.vxlan"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_array() && !j.empty() ? j[0] : nlohmann::json::object();
  }
  static SubnetManifest local() {
    return {.cidr = "10.244.1.0/24",
            .node = "node-a",
            .type = "vxlan",
            .iface = "ul0",
            .addr = "",
            .hwaddr = ""};
  }

  lb::testing::Netns ns_{"lbvx"};
};

TEST_F(VxlanNetns, AMissingOrAmbiguousUnderlayIsAClearError) {
  Options o;
  o.underlay = "eth7";
  auto r = open(o);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("'eth7'"), std::string::npos) << r.status().message();
  underlay("ul1", "10.251.0.1/24");
  r = open({});
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("(ul0, ul1)"), std::string::npos) << r.status().message();
  o.underlay = "ul1";
  r = open(o);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ((*r)->info()->underlayAddr, "10.251.0.1");
}

TEST_F(VxlanNetns, ForwardingIsEnabledInItsNamespaceOnly) {
  auto hostForwarding = [] {
    std::ifstream in("/proc/sys/net/ipv4/ip_forward");
    std::string v;
    in >> v;
    return v;
  };
  const std::string before = hostForwarding();
  auto r = open({});
  ASSERT_TRUE(r.isOk()) << r.status().message();
  auto s = (*r)->create(local());  // from this thread, in the host's namespace
  ASSERT_TRUE(s.isOk()) << s.status().message();
  auto f = ns_.exec({"/bin/cat", "/proc/sys/net/ipv4/ip_forward"});
  EXPECT_EQ(f.out, "1\n");
  EXPECT_EQ(hostForwarding(), before);
}

TEST_F(VxlanNetns, TheDeviceCarriesTheOptionsAndIsMadeAnewWhenTheyChange) {
  Options o;
  o.vni = 7;
  o.port = 8472;
  auto r = open(o);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  ASSERT_TRUE((*r)->create(local()).isOk());
  auto d = deviceDetails();
  auto info =
      d.value("linkinfo", nlohmann::json::object()).value("info_data", nlohmann::json::object());
  EXPECT_EQ(info.value("id", 0), 7);
  EXPECT_EQ(info.value("port", 0), 8472);
  EXPECT_EQ(info.value("local", ""), "10.250.0.1");
  EXPECT_EQ(info.value("link", ""), "ul0");
  EXPECT_FALSE(info.value("learning", true));
  EXPECT_EQ(d.value("mtu", 0), 1450);
  const int index = d.value("ifindex", 0);

  o.vni = 8;
  auto again = open(o);
  ASSERT_TRUE(again.isOk()) << again.status().message();
  auto listed = (*again)->subnets();
  ASSERT_TRUE(listed.isOk());
  EXPECT_EQ(listed->at("10.244.1.0/24").missing, std::vector<std::string>{"device"});
  ASSERT_TRUE((*again)->create(local()).isOk());
  d = deviceDetails();
  EXPECT_NE(d.value("ifindex", 0), index);
  EXPECT_EQ(d["linkinfo"]["info_data"].value("id", 0), 8);
  EXPECT_TRUE((*again)->subnets()->at("10.244.1.0/24").complete());
}

TEST_F(VxlanNetns, AForeignInterfaceWithItsNameIsLeftAlone) {
  ip({"link", "add", "lb.vxlan", "type", "bridge"});
  auto r = open({});
  ASSERT_TRUE(r.isOk()) << r.status().message();
  auto s = (*r)->create(local());
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), Code::kConflict);
  EXPECT_NE(s.status().message().find("is not a VXLAN device"), std::string::npos);
  EXPECT_EQ(deviceDetails()["linkinfo"].value("info_kind", ""), "bridge");
}

}  // namespace
}  // namespace lb::runtime::cni
