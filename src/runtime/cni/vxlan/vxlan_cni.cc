#include "runtime/cni/vxlan/vxlan_cni.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "common/ipv4.h"
#include "lastbackend/common/logging.h"

namespace lb::runtime::cni::vxlan {
namespace {

using netlink::Address;
using netlink::FdbEntry;
using netlink::Link;
using netlink::Neighbour;
using netlink::Netlink;
using netlink::Route;

constexpr const char* kForwarding = "/proc/sys/net/ipv4/ip_forward";
constexpr const char* kUnderlayFlag = "--network-driver-iface-external";

std::string ctx(const std::string& op, const std::string& cidr) {
  return std::string("cni vxlan: ") + op + " subnet '" + cidr + "'";
}

// The MAC every host derives for an address: 0a:58 and its four bytes.
std::string macFor(uint32_t ip) { return *vtepMac(formatIpv4(ip) + "/32"); }

std::optional<uint32_t> ipOfMac(const std::string& mac) {
  auto b = netlink::parseMac(mac);
  if (!b || (*b)[0] != 0x0a || (*b)[1] != 0x58) return std::nullopt;
  return (uint32_t((*b)[2]) << 24) | (uint32_t((*b)[3]) << 16) | (uint32_t((*b)[4]) << 8) |
         uint32_t((*b)[5]);
}

struct Underlay {
  Link link;
  uint32_t addr = 0;
};

class VxlanRuntime final : public NetworkRuntime {
 public:
  VxlanRuntime(Options options, std::unique_ptr<Netlink> nl, std::string underlay, int forwardFd,
               std::string forwardError)
      : o_(std::move(options)),
        nl_(std::move(nl)),
        underlay_(std::move(underlay)),
        forwardFd_(forwardFd),
        forwardError_(std::move(forwardError)) {}
  ~VxlanRuntime() override {
    if (forwardFd_ >= 0) ::close(forwardFd_);
  }

  StatusOr<NetworkInfo> info() override {
    std::lock_guard lock(mu_);
    auto u = underlay();
    if (!u) return u.status().withContext("cni vxlan: info");
    NetworkInfo i;
    i.driver = kDriver;
    i.node = o_.node;
    i.underlay = u->link.name;
    i.underlayAddr = formatIpv4(u->addr);
    i.underlayMtu = u->link.mtu;
    i.device = o_.device;
    i.vni = o_.vni;
    i.port = o_.port;
    i.bridge = o_.bridge;
    i.mtu = u->link.mtu - kOverhead;
    auto local = localSubnet();
    if (!local) return local.status().withContext("cni vxlan: info");
    if (*local) {
      i.cidr = (*local)->str();
      i.gateway = formatIpv4((*local)->network + 1);
    }
    return i;
  }

  StatusOr<NetworkState> create(const SubnetManifest& m) override {
    std::lock_guard lock(mu_);
    return createLocked(m);
  }

  Status destroy(const NetworkState& state) override {
    std::lock_guard lock(mu_);
    return destroyLocked(state);
  }

  StatusOr<NetworkState> replace(const NetworkState& state, const SubnetManifest& m) override {
    std::lock_guard lock(mu_);
    if (state.cidr != m.cidr || state.local != isLocal(m)) {
      LB_RETURN_IF_ERROR(destroyLocked(state).withContext(ctx("replace", state.cidr)));
    }
    return createLocked(m);
  }

  StatusOr<std::map<std::string, NetworkState>> subnets() override {
    std::lock_guard lock(mu_);
    auto r = scan();
    if (!r) return r.status().withContext("cni vxlan: list subnets");
    return r;
  }

 private:
  bool isLocal(const SubnetManifest& m) const { return m.node == o_.node; }

  StatusOr<NetworkState> createLocked(const SubnetManifest& m) {
    const bool local = isLocal(m);
    const std::string what = ctx("create", m.cidr);
    LB_RETURN_IF_ERROR(validateManifest(m, kDriver, local).withContext(what));
    auto prefix = parseIpv4Prefix(m.cidr, "subnet");
    auto u = underlay();
    if (!u) return u.status().withContext(what);
    auto s = local ? createLocal(*prefix, *u) : createPeer(*prefix, m, *u);
    if (!s) return s.status().withContext(what);
    return s;
  }

  // Forwarding, the VXLAN device with this subnet's VTEP MAC, the bridge.
  StatusOr<NetworkState> createLocal(const Ipv4Prefix& p, const Underlay& u) {
    LB_RETURN_IF_ERROR(enableForwarding());
    const std::string vtep = *vtepMac(p.str());
    auto dev = ensureDevice(u, vtep);
    if (!dev) return dev.status();
    LB_RETURN_IF_ERROR(ensureOnlyAddress(*dev, p.network, 32));
    LB_RETURN_IF_ERROR(ensureBridge(p, u.link.mtu - kOverhead));
    NetworkState s;
    s.cidr = p.str();
    s.local = true;
    s.addr = formatIpv4(u.addr);
    s.iface = o_.bridge;
    s.gateway = formatIpv4(p.network + 1);
    s.vtep = vtep;
    return s;
  }

  // FDB and neighbour first: once the route is there, packets find their way.
  StatusOr<NetworkState> createPeer(const Ipv4Prefix& p, const SubnetManifest& m,
                                    const Underlay& u) {
    auto local = localSubnet();
    if (!local) return local.status();
    if (*local && (p.contains((*local)->network) || (*local)->contains(p.network)))
      return invalidArgument("overlaps this node's own subnet " + (*local)->str(), "cidr");
    auto dev = ensureDevice(u, "");
    if (!dev) return dev.status();
    const std::string vtep = *vtepMac(p.str());
    const uint32_t addr = *parseIpv4(m.addr);
    LB_RETURN_IF_ERROR(nl_->replaceFdb({dev->index, vtep, addr}));
    LB_RETURN_IF_ERROR(nl_->replaceNeighbour({dev->index, p.network, vtep, true}));
    LB_RETURN_IF_ERROR(nl_->replaceRoute({p, p.network, dev->index, true}));
    NetworkState s;
    s.cidr = p.str();
    s.addr = m.addr;
    s.iface = o_.device;
    s.gateway = formatIpv4(p.network);
    s.vtep = vtep;
    return s;
  }

  Status destroyLocked(const NetworkState& state) {
    const std::string what = ctx("destroy", state.cidr);
    auto p = parseIpv4Prefix(state.cidr, "subnet");
    if (!p) return invalidArgument(p.status().message(), "cidr").withContext(what);
    if (state.local) {
      // Only a bridge that serves this subnet (or none: half made) goes.
      auto local = localSubnet();
      if (!local) return local.status().withContext(what);
      if (*local && !(**local == *p)) return Status::ok();
      return nl_->deleteLink(o_.bridge).withContext(what);
    }
    auto dev = nl_->link(o_.device);
    if (!dev) return dev.status().withContext(what);
    if (!*dev) return Status::ok();  // with the device went everything on it
    const int idx = (*dev)->index;
    LB_RETURN_IF_ERROR(nl_->deleteRoute({*p, p->network, idx, true}).withContext(what));
    LB_RETURN_IF_ERROR(nl_->deleteNeighbour({idx, p->network, "", true}).withContext(what));
    return nl_->deleteFdb({idx, *vtepMac(p->str()), 0}).withContext(what);
  }

  // The underlay as it is now (its address may have changed since open).
  StatusOr<Underlay> underlay() {
    auto l = nl_->link(underlay_);
    if (!l) return l.status();
    if (!*l) return notFound("underlay interface '" + underlay_ + "' does not exist");
    auto addrs = nl_->addresses((*l)->index);
    if (!addrs) return addrs.status();
    if (addrs->empty())
      return notFound("underlay interface '" + underlay_ + "' has no IPv4 address");
    return Underlay{**l, addrs->front().ip};
  }

  // The subnet the bridge is addressed in, if the bridge has an address.
  StatusOr<std::optional<Ipv4Prefix>> localSubnet() {
    auto br = nl_->link(o_.bridge);
    if (!br) return br.status();
    if (!*br) return std::optional<Ipv4Prefix>();
    auto addrs = nl_->addresses((*br)->index);
    if (!addrs) return addrs.status();
    if (addrs->empty()) return std::optional<Ipv4Prefix>();
    const Address& a = addrs->front();
    Ipv4Prefix p{a.ip, a.bits};
    p.network &= p.mask();
    return std::optional(p);
  }

  Status enableForwarding() {
    if (forwardFd_ < 0) return Status(Code::kPermissionDenied, forwardError_);
    if (::pwrite(forwardFd_, "1\n", 2, 0) != 2)
      return internalError("enable IPv4 forwarding: write " + std::string(kForwarding) + ": " +
                           std::strerror(errno));
    return Status::ok();
  }

  netlink::Vxlan wantedDevice(const Underlay& u) const {
    return {o_.vni, o_.port, u.addr, u.link.index, false};
  }

  // The VXLAN device as the options and the underlay want it, up; `mac`
  // "" keeps the MAC it has. A device of ours with other parameters
  // (VNI, port, underlay) is made anew: its peer entries go with it.
  StatusOr<Link> ensureDevice(const Underlay& u, const std::string& mac) {
    const netlink::Vxlan want = wantedDevice(u);
    const int mtu = u.link.mtu - kOverhead;
    auto cur = nl_->link(o_.device);
    if (!cur) return cur.status();
    if (*cur && (*cur)->kind != "vxlan")
      return conflict("interface '" + o_.device + "' exists and is not a VXLAN device");
    if (*cur && (*cur)->vxlan != want) {
      spdlog::warn("cni vxlan: device {} has other parameters; making it anew", o_.device);
      LB_RETURN_IF_ERROR(nl_->deleteLink(o_.device));
      cur->reset();
    }
    if (!*cur) {
      LB_RETURN_IF_ERROR(nl_->addVxlan(o_.device, want, mtu, mac));
      cur = nl_->link(o_.device);
      if (!cur) return cur.status();
      if (!*cur) return internalError("VXLAN device '" + o_.device + "' vanished once made");
    }
    Link& d = **cur;
    const bool macOk = mac.empty() || d.mac == mac;
    if (d.mtu != mtu || !macOk || !d.up) {
      LB_RETURN_IF_ERROR(nl_->changeLink(d, d.mtu != mtu ? mtu : 0, macOk ? "" : mac, true));
    }
    return d;
  }

  // `link` has exactly one IPv4 address, ip/bits. The VXLAN device holds
  // the subnet's network address (/32): the source this host's own
  // packets to peers' pods take, which the peers route back here.
  Status ensureOnlyAddress(const Link& link, uint32_t ip, int bits) {
    auto addrs = nl_->addresses(link.index);
    if (!addrs) return addrs.status();
    bool have = false;
    for (const auto& a : *addrs) {
      if (a.ip == ip && a.bits == bits) {
        have = true;
      } else {
        LB_RETURN_IF_ERROR(nl_->deleteAddress(a));
      }
    }
    if (!have) LB_RETURN_IF_ERROR(nl_->addAddress({link.index, ip, bits}));
    return Status::ok();
  }

  // The bridge, up, with `mtu`, a MAC of its own (kept as ports come and
  // go) and exactly one IPv4 address: the subnet's first.
  Status ensureBridge(const Ipv4Prefix& p, int mtu) {
    auto cur = nl_->link(o_.bridge);
    if (!cur) return cur.status();
    if (*cur && (*cur)->kind != "bridge")
      return conflict("interface '" + o_.bridge + "' exists and is not a bridge");
    if (!*cur) {
      LB_RETURN_IF_ERROR(nl_->addBridge(o_.bridge, mtu));
      cur = nl_->link(o_.bridge);
      if (!cur) return cur.status();
      if (!*cur) return internalError("bridge '" + o_.bridge + "' vanished once made");
    }
    Link& br = **cur;
    const uint32_t gw = p.network + 1;
    LB_RETURN_IF_ERROR(ensureOnlyAddress(br, gw, p.bits));
    const std::string mac = macFor(gw);
    if (br.mtu != mtu || br.mac != mac || !br.up)
      LB_RETURN_IF_ERROR(
          nl_->changeLink(br, br.mtu != mtu ? mtu : 0, br.mac != mac ? mac : "", true));
    return Status::ok();
  }

  StatusOr<std::map<std::string, NetworkState>> scan();
  void scanLocal(const Link* br, const Link* dev, const std::optional<Underlay>& u,
                 const std::optional<Ipv4Prefix>& local, std::map<std::string, NetworkState>* out);
  Status scanPeers(const Link& dev, int bits, std::map<std::string, NetworkState>* out);

  std::mutex mu_;
  const Options o_;
  std::unique_ptr<Netlink> nl_;
  const std::string underlay_;
  const int forwardFd_;
  const std::string forwardError_;
};

StatusOr<std::map<std::string, NetworkState>> VxlanRuntime::scan() {
  std::map<std::string, NetworkState> out;
  auto br = nl_->link(o_.bridge);
  if (!br) return br.status();
  auto dev = nl_->link(o_.device);
  if (!dev) return dev.status();
  auto local = localSubnet();
  if (!local) return local.status();
  std::optional<Underlay> u;
  if (auto r = underlay(); r.isOk()) u = *r;
  scanLocal(*br ? &**br : nullptr, *dev ? &**dev : nullptr, u, *local, &out);
  if (*dev) LB_RETURN_IF_ERROR(scanPeers(**dev, *local ? (*local)->bits : 32, &out));
  return out;
}

void VxlanRuntime::scanLocal(const Link* br, const Link* dev, const std::optional<Underlay>& u,
                             const std::optional<Ipv4Prefix>& local,
                             std::map<std::string, NetworkState>* out) {
  if (!br || !local) return;
  auto addrs = nl_->addresses(br->index);
  NetworkState s;
  s.cidr = local->str();
  s.local = true;
  s.addr = u ? formatIpv4(u->addr) : "";
  s.iface = o_.bridge;
  s.gateway = addrs.isOk() && !addrs->empty() ? formatIpv4(addrs->front().ip) : "";
  s.vtep = *vtepMac(s.cidr);
  if (s.gateway != formatIpv4(local->network + 1)) s.missing.emplace_back("bridge address");
  if (!br->up) s.missing.emplace_back("bridge up");
  if (!dev || !u || dev->vxlan != wantedDevice(*u)) {
    s.missing.emplace_back("device");
  } else {
    if (dev->mac != s.vtep) s.missing.emplace_back("device address");
    auto devAddrs = nl_->addresses(dev->index);
    if (!devAddrs.isOk() || devAddrs->size() != 1 || devAddrs->front().ip != local->network ||
        devAddrs->front().bits != 32)
      s.missing.emplace_back("device ip");
    if (!dev->up) s.missing.emplace_back("device up");
  }
  (*out)[s.cidr] = std::move(s);
}

// Peers by network address: a route (which has the prefix length), a
// neighbour (its IP) or an FDB entry (its MAC is the address's) each
// identifies one, so a peer with a part removed by hand is still listed.
Status VxlanRuntime::scanPeers(const Link& dev, int bits,
                               std::map<std::string, NetworkState>* out) {
  struct Parts {
    std::optional<Route> route;
    std::optional<Neighbour> neigh;
    std::optional<FdbEntry> fdb;
  };
  std::map<uint32_t, Parts> peers;
  auto routes = nl_->routes();
  if (!routes) return routes.status();
  for (const auto& r : *routes) {
    if (r.oif == dev.index && r.dst.bits > 0) peers[r.dst.network].route = r;
  }
  auto neighs = nl_->neighbours(dev.index);
  if (!neighs) return neighs.status();
  for (const auto& n : *neighs) {
    if (n.permanent) peers[n.ip].neigh = n;
  }
  auto fdb = nl_->fdb(dev.index);
  if (!fdb) return fdb.status();
  for (const auto& e : *fdb) {
    if (auto ip = ipOfMac(e.mac)) peers[*ip].fdb = e;
  }
  for (const auto& [net, parts] : peers) {
    NetworkState s;
    s.cidr = parts.route ? parts.route->dst.str() : Ipv4Prefix{net, bits}.str();
    s.iface = o_.device;
    s.gateway = formatIpv4(parts.route ? parts.route->gateway : net);
    s.vtep = *vtepMac(s.cidr);
    if (parts.fdb && parts.fdb->dst) s.addr = formatIpv4(parts.fdb->dst);
    if (!parts.route || parts.route->gateway != net || !parts.route->onlink)
      s.missing.emplace_back("route");
    if (!parts.neigh || parts.neigh->mac != s.vtep) s.missing.emplace_back("neighbour");
    if (!parts.fdb || !parts.fdb->dst) s.missing.emplace_back("fdb");
    if (out->count(s.cidr)) continue;  // the local subnet's own address
    (*out)[s.cidr] = std::move(s);
  }
  return Status::ok();
}

Status validateOptions(const Options& o) {
  if (o.node.empty()) return invalidArgument("no node name", "node");
  LB_RETURN_IF_ERROR(validateInterfaceName(o.bridge, "bridge"));
  LB_RETURN_IF_ERROR(validateInterfaceName(o.device, "VXLAN device"));
  if (!o.underlay.empty()) LB_RETURN_IF_ERROR(validateInterfaceName(o.underlay, "underlay"));
  if (o.bridge == o.device)
    return invalidArgument("bridge and VXLAN device are both '" + o.bridge + "'", "bridge");
  if (o.underlay == o.bridge || o.underlay == o.device)
    return invalidArgument(
        "underlay interface '" + o.underlay + "' is the bridge or the VXLAN device", "underlay");
  if (o.vni < 1 || o.vni > 16777215)
    return invalidArgument("VNI " + std::to_string(o.vni) + " out of range 1-16777215", "vni");
  if (o.port < 1 || o.port > 65535)
    return invalidArgument("UDP port " + std::to_string(o.port) + " out of range 1-65535", "port");
  return Status::ok();
}

}  // namespace

StatusOr<Link> chooseUnderlay(const std::string& wanted, const std::vector<Link>& links,
                              const std::vector<Address>& addresses,
                              const std::vector<Route>& routes,
                              const std::vector<std::string>& skip) {
  if (!wanted.empty()) {
    for (const auto& l : links) {
      if (l.name == wanted) return l;
    }
    return notFound("underlay interface '" + wanted + "' (" + kUnderlayFlag + ") does not exist");
  }
  for (const auto& r : routes) {
    if (r.dst.bits != 0) continue;
    for (const auto& l : links) {
      if (l.index == r.oif) return l;
    }
  }
  std::vector<const Link*> found;
  for (const auto& l : links) {
    if (l.loopback || l.kind == "bridge" || l.kind == "vxlan" || l.master != 0) continue;
    if (std::find(skip.begin(), skip.end(), l.name) != skip.end()) continue;
    bool addressed = std::any_of(addresses.begin(), addresses.end(),
                                 [&](const Address& a) { return a.index == l.index; });
    if (addressed) found.push_back(&l);
  }
  if (found.size() == 1) return *found.front();
  if (found.empty()) {
    return notFound(std::string("no underlay interface: no default route, and no interface "
                                "but loopback, bridges and their ports has an IPv4 address; set ") +
                    kUnderlayFlag);
  }
  std::string names;
  for (const Link* l : found) names += (names.empty() ? "" : ", ") + l->name;
  return invalidArgument(std::string("no default route, and several interfaces could carry the "
                                     "overlay (") +
                             names + "); set " + kUnderlayFlag,
                         "underlay");
}

StatusOr<std::unique_ptr<NetworkRuntime>> open(const Options& options) {
  LB_RETURN_IF_ERROR(validateOptions(options).withContext("cni vxlan"));
  auto nl = Netlink::open();
  if (!nl) return nl.status().withContext("cni vxlan");
  auto links = (*nl)->links();
  if (!links) return links.status().withContext("cni vxlan");
  auto addrs = (*nl)->addresses(0);
  if (!addrs) return addrs.status().withContext("cni vxlan");
  auto routes = (*nl)->routes();
  if (!routes) return routes.status().withContext("cni vxlan");
  auto u =
      chooseUnderlay(options.underlay, *links, *addrs, *routes, {options.bridge, options.device});
  if (!u) return u.status().withContext("cni vxlan");
  // Opened now, in this namespace: a write through it reaches this
  // namespace's setting whichever thread makes it.
  int fd = ::open(kForwarding, O_WRONLY | O_CLOEXEC);
  std::string forwardError;
  if (fd < 0)
    forwardError =
        std::string("enable IPv4 forwarding: open ") + kForwarding + ": " + std::strerror(errno);
  return std::unique_ptr<NetworkRuntime>(
      new VxlanRuntime(options, std::move(*nl), u->name, fd, std::move(forwardError)));
}

}  // namespace lb::runtime::cni::vxlan
