// The CNI suite (cni_conformance.h) against fakes::FakeNetworkRuntime and
// against the vxlan driver inside a network namespace each test makes (a
// veth pair's "ul0" with 10.250.0.1/24 as the underlay, its peer in the
// same namespace: nothing leaves it). The
// test sees that namespace with iproute2, apart from the driver's netlink.
// The vxlan run needs root: it skips without, except under CI=true.

#include "conformance/cni_conformance.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fakes/runtime/fake_cni.h"
#include "lastbackend/runtime/factory.h"
#include "support/netns.h"

namespace lb::conformance {
namespace {

using json = nlohmann::json;

class FakeBackend {
 public:
  std::string problem() { return ""; }
  bool maySkip() { return false; }
  runtime::cni::NetworkRuntime& cni() { return cni_; }
  std::unique_ptr<runtime::cni::NetworkRuntime> reopen() { return cni_.sibling(); }
  ObservedPeer peer(const std::string& cidr) {
    auto p = cni_.peer(cidr);
    if (!p) return {};
    return {p->route, p->neighbour, p->fdb};
  }
  ObservedLocal local() {
    auto h = cni_.host();
    const int mtu = host().mtu;
    return {h.bridgeIndex, h.bridgeAddress, h.bridgeIndex ? mtu : 0,
            h.deviceIndex, h.deviceMac,     h.deviceIndex ? mtu : 0,
            h.forwarding};
  }
  void removeByHand(const std::string& cidr, const std::string& part) {
    cni_.removeByHand(cidr, part);
  }

 private:
  static runtime::cni::NetworkInfo host() {
    auto h = fakes::FakeNetworkRuntime::defaultHost();
    h.node = kNode;
    h.underlay = "ul0";
    h.underlayAddr = kUnderlayAddr;
    return h;
  }
  fakes::FakeNetworkRuntime cni_{host()};
};

// The JSON iproute2 prints for `args`, or an empty array.
json ipJson(const lb::testing::Outcome& r) {
  if (r.code != 0) return json::array();
  auto j = json::parse(r.out, nullptr, false);
  return j.is_array() ? j : json::array();
}

class VxlanBackend {
 public:
  std::string problem() {
    if (!ns_.error().empty()) return ns_.error();
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"link", "add", "ul0", "type", "veth", "peer", "name", "ul0p"},
             {"addr", "add", std::string(kUnderlayAddr) + "/24", "dev", "ul0"},
             {"link", "set", "ul0p", "up"},
             {"link", "set", "ul0", "up"}}) {
      auto r = ns_.ip(args);
      if (r.code != 0) return "ip " + args[0] + " " + args[1] + ": " + r.err;
    }
    cni_ = reopen();
    return cni_ ? "" : "cannot open the vxlan driver: " + openError_;
  }
  bool maySkip() {
    const char* ci = std::getenv("CI");
    return ::geteuid() != 0 && !(ci && std::string(ci) == "true");
  }
  runtime::cni::NetworkRuntime& cni() { return *cni_; }

  std::unique_ptr<runtime::cni::NetworkRuntime> reopen() {
    std::unique_ptr<runtime::cni::NetworkRuntime> out;
    bool entered = ns_.run([&] {
      runtime::cni::Options o;
      o.node = kNode;
      auto r = runtime::cni::open(o);  // the underlay is detected: ul0 is the only one
      if (r.isOk()) {
        out = std::move(*r);
      } else {
        openError_ = r.status().message();
      }
    });
    if (!entered) openError_ = "cannot enter netns " + ns_.name();
    return out;
  }

  ObservedPeer peer(const std::string& cidr) {
    ObservedPeer p;
    std::string net = cidr.substr(0, cidr.find('/'));
    for (const auto& r : ipJson(ns_.ip({"-j", "route", "show", cidr, "dev", "lb.vxlan"}))) {
      auto flags = r.value("flags", json::array());
      bool onlink = std::find(flags.begin(), flags.end(), "onlink") != flags.end();
      if (onlink) p.via = r.value("gateway", "");
    }
    for (const auto& n : ipJson(ns_.ip({"-j", "neigh", "show", net, "dev", "lb.vxlan"}))) {
      auto state = n.value("state", json::array());
      if (std::find(state.begin(), state.end(), "PERMANENT") != state.end())
        p.neighbourMac = n.value("lladdr", "");
    }
    auto mac = runtime::cni::vtepMac(cidr);
    for (const auto& e :
         ipJson(ns_.exec({"/usr/sbin/bridge", "-j", "fdb", "show", "dev", "lb.vxlan"}))) {
      if (mac.isOk() && e.value("mac", "") == *mac) p.fdbDst = e.value("dst", "");
    }
    return p;
  }

  ObservedLocal local() {
    ObservedLocal l;
    for (const auto& a : ipJson(ns_.ip({"-j", "addr", "show", "dev", "lb0"}))) {
      l.bridgeIndex = a.value("ifindex", 0);
      l.bridgeMtu = a.value("mtu", 0);
      for (const auto& i : a.value("addr_info", json::array())) {
        if (i.value("family", "") == "inet")
          l.bridgeAddress = i.value("local", "") + "/" + std::to_string(i.value("prefixlen", 0));
      }
    }
    for (const auto& d : ipJson(ns_.ip({"-j", "link", "show", "dev", "lb.vxlan"}))) {
      l.deviceIndex = d.value("ifindex", 0);
      l.deviceMtu = d.value("mtu", 0);
      l.deviceMac = d.value("address", "");
    }
    auto f = ns_.exec({"/bin/cat", "/proc/sys/net/ipv4/ip_forward"});
    l.forwarding = f.code == 0 && f.out.rfind("1", 0) == 0;
    return l;
  }

  void removeByHand(const std::string& cidr, const std::string& part) {
    std::string net = cidr.substr(0, cidr.find('/'));
    lb::testing::Outcome r;
    if (part == "route") {
      r = ns_.ip({"route", "del", cidr, "dev", "lb.vxlan"});
    } else if (part == "neighbour") {
      r = ns_.ip({"neigh", "del", net, "dev", "lb.vxlan"});
    } else if (part == "fdb") {
      r = ns_.exec(
          {"/usr/sbin/bridge", "fdb", "del", *runtime::cni::vtepMac(cidr), "dev", "lb.vxlan"});
    } else if (part == "bridge") {
      r = ns_.ip({"link", "del", "lb0"});
    }
    EXPECT_EQ(r.code, 0) << "removing " << part << " of " << cidr << ": " << r.err;
  }

 private:
  lb::testing::Netns ns_{"lbcni"};
  std::unique_ptr<runtime::cni::NetworkRuntime> cni_;
  std::string openError_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, CniConformance, FakeBackend);
INSTANTIATE_TYPED_TEST_SUITE_P(Vxlan, CniConformance, VxlanBackend);

}  // namespace
}  // namespace lb::conformance
