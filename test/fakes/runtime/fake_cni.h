#pragma once

// An in-memory NetworkRuntime that behaves like the vxlan driver: a local
// create() makes a "bridge" and a "device" (each with an index, new when
// made anew), a peer's create() a route, a neighbour and an FDB entry;
// subnets() reports what is there the way the driver does. A test edits
// the "host" as an operator would (removeByHand) and reads it back
// (peer(), host()). Several runtimes can share one host (sibling()): a
// restarted agent over what the first one programmed. Manifests are checked
// with the same validateManifest() the drivers use. Errors can be injected
// per method ("info", "create", "destroy", "replace", "subnets").
// Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/ipv4.h"
#include "fakes/runtime/error_injector.h"
#include "lastbackend/runtime/cni.h"

namespace lb::fakes {

class FakeNetworkRuntime : public runtime::cni::NetworkRuntime {
 public:
  using NetworkInfo = runtime::cni::NetworkInfo;
  using NetworkState = runtime::cni::NetworkState;
  using SubnetManifest = runtime::cni::SubnetManifest;

  // What a peer has programmed on the fake host ("" = absent).
  struct Peer {
    std::string route;      // next hop
    std::string neighbour;  // MAC
    std::string fdb;        // destination
  };
  // The fake host's bridge and device; index 0 = absent.
  struct Host {
    int bridgeIndex = 0;
    std::string bridgeAddress;  // "10.244.1.1/24"
    int deviceIndex = 0;
    std::string deviceMac;
    bool forwarding = false;
    std::map<std::string, Peer> peers;  // by cidr
    int nextIndex = 10;
  };

  // `host` describes this node (underlay, names, MTU); cidr and gateway are
  // filled in by the local create().
  explicit FakeNetworkRuntime(NetworkInfo host = defaultHost())
      : base_(std::move(host)), shared_(std::make_shared<Shared>()) {}

  static NetworkInfo defaultHost() {
    NetworkInfo i;
    i.driver = "vxlan";
    i.node = "node-a";
    i.underlay = "eth0";
    i.underlayAddr = "10.250.0.1";
    i.underlayMtu = 1500;
    i.device = "lb.vxlan";
    i.vni = 1;
    i.port = 4789;
    i.bridge = "lb0";
    i.mtu = 1450;
    return i;
  }

  ErrorInjector& errors() { return errors_; }

  // Another runtime over the same host (its own error injector).
  std::unique_ptr<FakeNetworkRuntime> sibling() const {
    return std::unique_ptr<FakeNetworkRuntime>(new FakeNetworkRuntime(base_, shared_));
  }

  // --- the host, as a test sees and edits it ------------------------------
  Host host() const {
    std::lock_guard lock(shared_->mu);
    return shared_->host;
  }
  std::optional<Peer> peer(const std::string& cidr) const {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->host.peers.find(cidr);
    if (it == shared_->host.peers.end()) return std::nullopt;
    return it->second;
  }
  // Removes one part of a peer ("route", "neighbour", "fdb") or the bridge
  // ("bridge") as `ip ... del` would.
  void removeByHand(const std::string& cidr, const std::string& part) {
    std::lock_guard lock(shared_->mu);
    auto& h = shared_->host;
    if (part == "bridge") {
      h.bridgeIndex = 0;
      h.bridgeAddress.clear();
      return;
    }
    auto it = h.peers.find(cidr);
    if (it == h.peers.end()) return;
    (part == "route"       ? it->second.route
     : part == "neighbour" ? it->second.neighbour
                           : it->second.fdb)
        .clear();
    if (it->second.route.empty() && it->second.neighbour.empty() && it->second.fdb.empty())
      h.peers.erase(it);
  }

  // --- NetworkRuntime -----------------------------------------------------
  StatusOr<NetworkInfo> info() override {
    LB_RETURN_IF_ERROR(errors_.check("info").withContext("fake cni: info"));
    std::lock_guard lock(shared_->mu);
    NetworkInfo i = base_;
    if (auto p = localPrefix()) {
      i.cidr = p->str();
      i.gateway = formatIpv4(p->network + 1);
    }
    return i;
  }

  StatusOr<NetworkState> create(const SubnetManifest& m) override {
    const std::string what = "fake cni: create subnet '" + m.cidr + "'";
    LB_RETURN_IF_ERROR(errors_.check("create").withContext(what));
    std::lock_guard lock(shared_->mu);
    return createLocked(m, what);
  }

  Status destroy(const NetworkState& state) override {
    const std::string what = "fake cni: destroy subnet '" + state.cidr + "'";
    LB_RETURN_IF_ERROR(errors_.check("destroy").withContext(what));
    std::lock_guard lock(shared_->mu);
    return destroyLocked(state, what);
  }

  StatusOr<NetworkState> replace(const NetworkState& state, const SubnetManifest& m) override {
    const std::string what = "fake cni: replace subnet '" + state.cidr + "'";
    LB_RETURN_IF_ERROR(errors_.check("replace").withContext(what));
    std::lock_guard lock(shared_->mu);
    if (state.cidr != m.cidr || state.local != (m.node == base_.node))
      LB_RETURN_IF_ERROR(destroyLocked(state, what));
    return createLocked(m, what);
  }

  StatusOr<std::map<std::string, NetworkState>> subnets() override {
    LB_RETURN_IF_ERROR(errors_.check("subnets").withContext("fake cni: list subnets"));
    std::lock_guard lock(shared_->mu);
    std::map<std::string, NetworkState> out;
    const auto& h = shared_->host;
    auto local = localPrefix();
    if (local) {
      NetworkState s = stateOf(*local, true);
      s.gateway = h.bridgeAddress.substr(0, h.bridgeAddress.find('/'));
      if (!h.deviceIndex)
        s.missing.push_back("device");
      else if (h.deviceMac != s.vtep)
        s.missing.push_back("device address");
      out[s.cidr] = s;
    }
    for (const auto& [cidr, p] : h.peers) {
      auto prefix = parseIpv4Prefix(cidr, "subnet");
      NetworkState s = stateOf(*prefix, false);
      s.addr = p.fdb;
      if (p.route.empty()) s.missing.push_back("route");
      if (p.neighbour != s.vtep) s.missing.push_back("neighbour");
      if (p.fdb.empty()) s.missing.push_back("fdb");
      out[cidr] = s;
    }
    return out;
  }

 private:
  struct Shared {
    std::mutex mu;
    Host host;
  };
  FakeNetworkRuntime(NetworkInfo base, std::shared_ptr<Shared> shared)
      : base_(std::move(base)), shared_(std::move(shared)) {}

  std::optional<Ipv4Prefix> localPrefix() const {
    const auto& a = shared_->host.bridgeAddress;
    if (!shared_->host.bridgeIndex || a.empty()) return std::nullopt;
    size_t slash = a.find('/');
    Ipv4Prefix n{*parseIpv4(a.substr(0, slash)), std::stoi(a.substr(slash + 1))};
    n.network &= n.mask();
    return n;
  }

  NetworkState stateOf(const Ipv4Prefix& p, bool local) const {
    NetworkState s;
    s.cidr = p.str();
    s.local = local;
    s.addr = local ? base_.underlayAddr : "";
    s.iface = local ? base_.bridge : base_.device;
    s.gateway = formatIpv4(local ? p.network + 1 : p.network);
    s.vtep = *runtime::cni::vtepMac(s.cidr);
    return s;
  }

  StatusOr<NetworkState> createLocked(const SubnetManifest& m, const std::string& what) {
    const bool local = m.node == base_.node;
    LB_RETURN_IF_ERROR(runtime::cni::validateManifest(m, base_.driver, local).withContext(what));
    auto p = *parseIpv4Prefix(m.cidr, "subnet");
    auto& h = shared_->host;
    NetworkState s = stateOf(p, local);
    if (local) {
      h.forwarding = true;
      if (!h.deviceIndex) h.deviceIndex = h.nextIndex++;
      h.deviceMac = s.vtep;
      if (!h.bridgeIndex) h.bridgeIndex = h.nextIndex++;
      h.bridgeAddress = formatIpv4(p.network + 1) + "/" + std::to_string(p.bits);
      return s;
    }
    if (auto own = localPrefix(); own && (p.contains(own->network) || own->contains(p.network)))
      return invalidArgument(what + ": overlaps this node's own subnet " + own->str(), "cidr");
    if (!h.deviceIndex) h.deviceIndex = h.nextIndex++;
    h.peers[s.cidr] = {s.gateway, s.vtep, m.addr};
    s.addr = m.addr;
    return s;
  }

  Status destroyLocked(const NetworkState& state, const std::string& what) {
    auto p = parseIpv4Prefix(state.cidr, "subnet");
    if (!p) return invalidArgument(what + ": " + p.status().message(), "cidr");
    auto& h = shared_->host;
    if (state.local) {
      auto own = localPrefix();
      if (own && !(*own == *p)) return Status::ok();
      h.bridgeIndex = 0;
      h.bridgeAddress.clear();
      return Status::ok();
    }
    h.peers.erase(p->str());
    return Status::ok();
  }

  NetworkInfo base_;
  std::shared_ptr<Shared> shared_;
  ErrorInjector errors_;
};

}  // namespace lb::fakes
