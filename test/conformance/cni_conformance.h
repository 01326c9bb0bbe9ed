#pragma once

// The CNI contract (include/lastbackend/runtime/cni.h) as one typed suite,
// instantiated for the vxlan driver in a network namespace the test makes
// and for fakes::FakeNetworkRuntime (test/conformance/cni_conformance_test.cc).
//
// A backend B provides:
//   std::string problem();  why it cannot run here, or ""
//   bool maySkip();          whether that problem skips (else it fails)
//   runtime::cni::NetworkRuntime& cni();
//   std::unique_ptr<runtime::cni::NetworkRuntime> reopen();
//                            a second runtime over the same host (an agent restarted)
//   ObservedPeer peer(const std::string& cidr);
//   ObservedLocal local();   what the host has, seen without the runtime
//   void removeByHand(const std::string& cidr, const std::string& part);
//                            deletes "route", "neighbour" or "fdb" of a peer,
//                            or the "bridge", as an operator would
// The runtime is for node "node-a" on an underlay addressed 10.250.0.1/24.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "conformance/backend_test.h"
#include "lastbackend/runtime/cni.h"

namespace lb::conformance {

// A peer subnet as the host has it; "" = that part is absent.
struct ObservedPeer {
  std::string via;           // the route's next hop (onlink, through the device)
  std::string neighbourMac;  // the next hop's permanent neighbour
  std::string fdbDst;        // the FDB entry of the peer's VTEP MAC
};

// The host's bridge and device; index 0 = absent.
struct ObservedLocal {
  int bridgeIndex = 0;
  std::string bridgeAddress;  // "10.244.1.1/24"
  int bridgeMtu = 0;
  int deviceIndex = 0;
  std::string deviceMac;
  int deviceMtu = 0;
  bool forwarding = false;  // net.ipv4.ip_forward
};

inline constexpr const char* kNode = "node-a";
inline constexpr const char* kUnderlayAddr = "10.250.0.1";

template <typename B>
class CniConformance : public BackendTest<B> {
 protected:
  using Manifest = runtime::cni::SubnetManifest;

  runtime::cni::NetworkRuntime& cni() { return this->backend_.cni(); }

  static Manifest localSubnet(const std::string& cidr = "10.244.1.0/24") {
    return {.cidr = cidr,
            .node = kNode,
            .type = "vxlan",
            .iface = "ul0",
            .addr = kUnderlayAddr,
            .hwaddr = ""};
  }
  static Manifest peerSubnet(const std::string& cidr, const std::string& addr,
                             const std::string& node = "node-b") {
    return {
        .cidr = cidr, .node = node, .type = "vxlan", .iface = "eth0", .addr = addr, .hwaddr = ""};
  }

  runtime::cni::NetworkState create(const Manifest& m) {
    auto s = cni().create(m);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : runtime::cni::NetworkState{};
  }

  std::map<std::string, runtime::cni::NetworkState> subnets(runtime::cni::NetworkRuntime& r) {
    auto s = r.subnets();
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : std::map<std::string, runtime::cni::NetworkState>{};
  }
  std::map<std::string, runtime::cni::NetworkState> subnets() { return subnets(cni()); }

  ObservedPeer peer(const std::string& cidr) { return this->backend_.peer(cidr); }
  ObservedLocal local() { return this->backend_.local(); }
};

TYPED_TEST_SUITE_P(CniConformance);

using Missing = std::vector<std::string>;

TYPED_TEST_P(CniConformance, InfoDescribesThisHost) {
  auto i = this->cni().info();
  ASSERT_TRUE(i.isOk()) << i.status().message();
  EXPECT_EQ(i->driver, "vxlan");
  EXPECT_EQ(i->node, kNode);
  EXPECT_EQ(i->underlay, "ul0");
  EXPECT_EQ(i->underlayAddr, kUnderlayAddr);
  EXPECT_GT(i->underlayMtu, 0);
  EXPECT_EQ(i->mtu, i->underlayMtu - 50);
  EXPECT_FALSE(i->device.empty());
  EXPECT_FALSE(i->bridge.empty());
  EXPECT_EQ(i->vni, 1u);
  EXPECT_EQ(i->port, 4789);
  EXPECT_EQ(i->cidr, "");  // no local subnet yet
  EXPECT_EQ(i->gateway, "");
  EXPECT_TRUE(this->subnets().empty());
}

TYPED_TEST_P(CniConformance, LocalSubnetMakesTheBridgeAndTheDevice) {
  auto s = this->create(this->localSubnet());
  auto i = this->cni().info();
  ASSERT_TRUE(i.isOk()) << i.status().message();
  EXPECT_TRUE(s.local);
  EXPECT_EQ(s.cidr, "10.244.1.0/24");
  EXPECT_EQ(s.gateway, "10.244.1.1");
  EXPECT_EQ(s.iface, i->bridge);
  EXPECT_EQ(s.addr, kUnderlayAddr);
  EXPECT_EQ(s.vtep, "0a:58:0a:f4:01:00");
  EXPECT_TRUE(s.complete());
  EXPECT_EQ(i->cidr, "10.244.1.0/24");
  EXPECT_EQ(i->gateway, "10.244.1.1");

  ObservedLocal l = this->local();
  EXPECT_GT(l.bridgeIndex, 0);
  EXPECT_EQ(l.bridgeAddress, "10.244.1.1/24");
  EXPECT_EQ(l.bridgeMtu, i->mtu);
  EXPECT_GT(l.deviceIndex, 0);
  EXPECT_EQ(l.deviceMac, s.vtep);  // peers address this host's VTEP by its subnet
  EXPECT_EQ(l.deviceMtu, i->mtu);
  EXPECT_TRUE(l.forwarding);

  auto all = this->subnets();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.at(s.cidr), s);
}

TYPED_TEST_P(CniConformance, APeerIsARouteANeighbourAndAnFdbEntry) {
  this->create(this->localSubnet());
  auto s = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  auto i = this->cni().info();
  ASSERT_TRUE(i.isOk()) << i.status().message();
  EXPECT_FALSE(s.local);
  EXPECT_EQ(s.cidr, "10.244.2.0/24");
  EXPECT_EQ(s.addr, "10.250.0.2");
  EXPECT_EQ(s.iface, i->device);
  EXPECT_EQ(s.gateway, "10.244.2.0");
  EXPECT_EQ(s.vtep, "0a:58:0a:f4:02:00");
  EXPECT_TRUE(s.complete());

  ObservedPeer p = this->peer("10.244.2.0/24");
  EXPECT_EQ(p.via, "10.244.2.0");
  EXPECT_EQ(p.neighbourMac, "0a:58:0a:f4:02:00");
  EXPECT_EQ(p.fdbDst, "10.250.0.2");
  auto all = this->subnets();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at(s.cidr), s);
}

TYPED_TEST_P(CniConformance, CreateIsIdempotent) {
  auto l1 = this->create(this->localSubnet());
  auto p1 = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  ObservedLocal before = this->local();
  auto l2 = this->create(this->localSubnet());
  auto p2 = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  EXPECT_EQ(l1, l2);
  EXPECT_EQ(p1, p2);
  ObservedLocal after = this->local();
  EXPECT_EQ(after.bridgeIndex, before.bridgeIndex);  // kept, not made anew
  EXPECT_EQ(after.deviceIndex, before.deviceIndex);
  EXPECT_EQ(this->subnets().size(), 2u);
}

TYPED_TEST_P(CniConformance, DestroyRemovesExactlyWhatCreateMade) {
  auto l = this->create(this->localSubnet());
  auto b = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  auto c = this->create(this->peerSubnet("10.244.3.0/24", "10.250.0.3", "node-c"));
  ASSERT_TRUE(this->cni().destroy(b).isOk());
  ObservedPeer gone = this->peer(b.cidr);
  EXPECT_EQ(gone.via, "");
  EXPECT_EQ(gone.neighbourMac, "");
  EXPECT_EQ(gone.fdbDst, "");
  EXPECT_EQ(this->peer(c.cidr).fdbDst, "10.250.0.3");
  EXPECT_TRUE(this->cni().destroy(b).isOk());  // gone already: fine
  auto all = this->subnets();
  EXPECT_EQ(all.count(b.cidr), 0u);
  EXPECT_EQ(all.count(c.cidr), 1u);

  // The local subnet takes its bridge; the device stays for the peers.
  ASSERT_TRUE(this->cni().destroy(l).isOk());
  ObservedLocal after = this->local();
  EXPECT_EQ(after.bridgeIndex, 0);
  EXPECT_GT(after.deviceIndex, 0);
  EXPECT_EQ(this->peer(c.cidr).via, "10.244.3.0");
  all = this->subnets();
  EXPECT_EQ(all.count(l.cidr), 0u);
  EXPECT_TRUE(all.at(c.cidr).complete());
  EXPECT_TRUE(this->cni().destroy(l).isOk());
}

TYPED_TEST_P(CniConformance, ReplaceMovesAPeerToItsNewAddress) {
  this->create(this->localSubnet());
  auto b = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  auto moved = this->cni().replace(b, this->peerSubnet("10.244.2.0/24", "10.250.0.9"));
  ASSERT_TRUE(moved.isOk()) << moved.status().message();
  EXPECT_EQ(moved->addr, "10.250.0.9");
  ObservedPeer p = this->peer(b.cidr);
  EXPECT_EQ(p.fdbDst, "10.250.0.9");
  EXPECT_EQ(p.via, "10.244.2.0");
  EXPECT_EQ(this->subnets().at(b.cidr).addr, "10.250.0.9");

  // Another cidr: the old one goes, the new one comes.
  auto other = this->cni().replace(*moved, this->peerSubnet("10.244.4.0/24", "10.250.0.9"));
  ASSERT_TRUE(other.isOk()) << other.status().message();
  EXPECT_EQ(this->peer(b.cidr).via, "");
  EXPECT_EQ(this->peer("10.244.4.0/24").fdbDst, "10.250.0.9");
  auto all = this->subnets();
  EXPECT_EQ(all.count(b.cidr), 0u);
  EXPECT_EQ(all.count("10.244.4.0/24"), 1u);
}

TYPED_TEST_P(CniConformance, ReplaceMovesTheLocalSubnet) {
  auto l = this->create(this->localSubnet());
  auto moved = this->cni().replace(l, this->localSubnet("10.244.5.0/24"));
  ASSERT_TRUE(moved.isOk()) << moved.status().message();
  EXPECT_EQ(moved->gateway, "10.244.5.1");
  ObservedLocal after = this->local();
  EXPECT_EQ(after.bridgeAddress, "10.244.5.1/24");
  EXPECT_EQ(after.deviceMac, "0a:58:0a:f4:05:00");
  auto all = this->subnets();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all.at("10.244.5.0/24").local);
}

TYPED_TEST_P(CniConformance, WhatIsRemovedByHandIsSeenAndCreatePutsItBack) {
  auto l = this->create(this->localSubnet());
  auto b = this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  for (const std::string part : {"route", "neighbour", "fdb"}) {
    SCOPED_TRACE(part);
    this->backend_.removeByHand(b.cidr, part);
    auto all = this->subnets();
    ASSERT_EQ(all.count(b.cidr), 1u);  // still listed, with its prefix
    EXPECT_EQ(all.at(b.cidr).missing, Missing{part});
    this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
    EXPECT_TRUE(this->subnets().at(b.cidr).complete());
    ObservedPeer p = this->peer(b.cidr);
    EXPECT_EQ(p.via, "10.244.2.0");
    EXPECT_EQ(p.neighbourMac, b.vtep);
    EXPECT_EQ(p.fdbDst, "10.250.0.2");
  }
  this->backend_.removeByHand(l.cidr, "bridge");
  EXPECT_EQ(this->subnets().count(l.cidr), 0u);
  this->create(this->localSubnet());
  EXPECT_TRUE(this->subnets().at(l.cidr).complete());
  EXPECT_EQ(this->local().bridgeAddress, "10.244.1.1/24");
}

TYPED_TEST_P(CniConformance, ASecondRuntimeAdoptsWhatIsProgrammed) {
  this->create(this->localSubnet());
  this->create(this->peerSubnet("10.244.2.0/24", "10.250.0.2"));
  this->create(this->peerSubnet("10.244.3.0/24", "10.250.0.3", "node-c"));
  auto first = this->subnets();
  ObservedLocal before = this->local();

  auto again = this->backend_.reopen();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(this->subnets(*again), first);
  for (const auto& m : {this->localSubnet(), this->peerSubnet("10.244.2.0/24", "10.250.0.2"),
                        this->peerSubnet("10.244.3.0/24", "10.250.0.3", "node-c")}) {
    auto s = again->create(m);
    ASSERT_TRUE(s.isOk()) << s.status().message();
    EXPECT_EQ(*s, first.at(m.cidr));
  }
  ObservedLocal after = this->local();
  EXPECT_EQ(after.bridgeIndex, before.bridgeIndex);  // nothing flushed and made anew
  EXPECT_EQ(after.deviceIndex, before.deviceIndex);
  EXPECT_EQ(this->subnets(*again), first);
}

TYPED_TEST_P(CniConformance, BadManifestsAreRefused) {
  this->create(this->localSubnet());
  auto refused = [&](const runtime::cni::SubnetManifest& m, const std::string& field) {
    auto s = this->cni().create(m);
    ASSERT_FALSE(s.isOk()) << m.cidr;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << s.status().message();
    EXPECT_EQ(s.status().field(), field) << s.status().message();
    EXPECT_NE(s.status().message().find(m.cidr), std::string::npos) << s.status().message();
  };
  refused(this->peerSubnet("10.244.2.0/33", "10.250.0.2"), "cidr");
  refused(this->peerSubnet("10.244.2.1/24", "10.250.0.2"), "cidr");  // host bits
  refused(this->peerSubnet("10.244.2.0/31", "10.250.0.2"), "cidr");  // no room for pods
  refused(this->peerSubnet("nonsense", "10.250.0.2"), "cidr");
  refused(this->peerSubnet("10.244.2.0/24", ""), "addr");
  refused(this->peerSubnet("10.244.2.0/24", "10.250.0.300"), "addr");
  refused(this->peerSubnet("10.244.1.0/24", "10.250.0.2"), "cidr");  // this node's own
  refused(this->peerSubnet("10.244.0.0/16", "10.250.0.2"), "cidr");  // covers it
  auto typed = this->peerSubnet("10.244.2.0/24", "10.250.0.2");
  typed.type = "flannel";
  refused(typed, "type");
  auto mac = this->peerSubnet("10.244.2.0/24", "10.250.0.2");
  mac.hwaddr = "0a:58:0a:f4:09:00";  // another subnet's
  refused(mac, "hwaddr");
  mac.hwaddr = "0a:58:0a:f4:02:00";
  EXPECT_TRUE(this->cni().create(mac).isOk());
  ASSERT_TRUE(this->cni().destroy(this->subnets().at(mac.cidr)).isOk());
  runtime::cni::NetworkState bad;
  bad.cidr = "10.244.2.0";
  EXPECT_EQ(this->cni().destroy(bad).code(), Code::kInvalidArgument);
  EXPECT_EQ(this->subnets().size(), 1u);  // nothing half made
}

REGISTER_TYPED_TEST_SUITE_P(CniConformance, InfoDescribesThisHost,
                            LocalSubnetMakesTheBridgeAndTheDevice,
                            APeerIsARouteANeighbourAndAnFdbEntry, CreateIsIdempotent,
                            DestroyRemovesExactlyWhatCreateMade, ReplaceMovesAPeerToItsNewAddress,
                            ReplaceMovesTheLocalSubnet,
                            WhatIsRemovedByHandIsSeenAndCreatePutsItBack,
                            ASecondRuntimeAdoptsWhatIsProgrammed, BadManifestsAreRefused);

}  // namespace lb::conformance
