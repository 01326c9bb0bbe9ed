#include "runtime/netlink/netlink.h"

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include <cstdio>
#include <cstring>

namespace lb::runtime::netlink {
namespace {

// Owners of libnl objects (each type has its own put/free).
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct RtAddrPut {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NeighPut {
  void operator()(rtnl_neigh* n) const { rtnl_neigh_put(n); }
};
using Cache = std::unique_ptr<nl_cache, CacheFree>;
using NlAddr = std::unique_ptr<nl_addr, AddrPut>;
using NlLink = std::unique_ptr<rtnl_link, LinkPut>;
using NlRtAddr = std::unique_ptr<rtnl_addr, RtAddrPut>;
using NlRoute = std::unique_ptr<rtnl_route, RoutePut>;
using NlNeigh = std::unique_ptr<rtnl_neigh, NeighPut>;

// libnl's error as a Status with `what` as context.
Status nlError(int err, const std::string& what) {
  if (err < 0) err = -err;
  Code code = Code::kInternal;
  switch (err) {
    case NLE_PERM:
    case NLE_NOACCESS:
      code = Code::kPermissionDenied;
      break;
    case NLE_EXIST:
      code = Code::kAlreadyExists;
      break;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
    case NLE_NOADDR:
      code = Code::kNotFound;
      break;
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_AF_NOSUPPORT:
    case NLE_OPNOTSUPP:
      code = Code::kInvalidArgument;
      break;
    case NLE_BAD_SOCK:
    case NLE_NOMEM:
    case NLE_AGAIN:
    case NLE_BUSY:
      code = Code::kUnavailable;
      break;
    default:
      break;
  }
  return Status(code, what + ": " + nl_geterror(err));
}

bool absent(int err) {
  if (err < 0) err = -err;
  return err == NLE_OBJ_NOTFOUND || err == NLE_NODEV || err == NLE_NOADDR;
}

NlAddr ipv4(uint32_t ip, int bits = 32) {
  uint32_t be = htonl(ip);
  NlAddr a(nl_addr_build(AF_INET, &be, sizeof be));
  if (a) nl_addr_set_prefixlen(a.get(), bits);
  return a;
}

uint32_t ipv4Of(const nl_addr* a) {
  if (!a || nl_addr_get_len(a) != 4) return 0;
  uint32_t be;
  std::memcpy(&be, nl_addr_get_binary_addr(a), 4);
  return ntohl(be);
}

StatusOr<NlAddr> mac(const std::string& text) {
  auto bytes = parseMac(text);
  if (!bytes) return invalidArgument("MAC address '" + text + "' is not aa:bb:cc:dd:ee:ff");
  NlAddr a(nl_addr_build(AF_LLC, bytes->data(), bytes->size()));
  if (!a) return unavailable("out of memory");
  return a;
}

std::string macOf(const nl_addr* a) {
  if (!a || nl_addr_get_len(a) != 6) return "";
  return formatMac(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)));
}

// Every object of a fresh cache, as T (the cache is freed at return).
template <typename T, typename Obj, typename Fn>
std::vector<T> each(nl_cache* cache, Fn fn) {
  std::vector<T> out;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    if (auto v = fn(reinterpret_cast<Obj*>(o))) out.push_back(std::move(*v));
  }
  return out;
}

Link toLink(rtnl_link* l) {
  Link o;
  o.index = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) o.name = n;
  if (const char* t = rtnl_link_get_type(l)) o.kind = t;
  o.mtu = static_cast<int>(rtnl_link_get_mtu(l));
  unsigned flags = rtnl_link_get_flags(l);
  o.up = flags & IFF_UP;
  o.loopback = flags & IFF_LOOPBACK;
  o.master = rtnl_link_get_master(l);
  o.mac = macOf(rtnl_link_get_addr(l));
  if (o.kind == "vxlan" && rtnl_link_is_vxlan(l)) {
    Vxlan v;
    uint32_t u = 0;
    if (rtnl_link_vxlan_get_id(l, &u) == 0) v.vni = u;
    if (rtnl_link_vxlan_get_port(l, &u) == 0) v.port = static_cast<int>(u);
    if (rtnl_link_vxlan_get_link(l, &u) == 0) v.underlay = static_cast<int>(u);
    nl_addr* local = nullptr;
    if (rtnl_link_vxlan_get_local(l, &local) == 0) {
      v.local = ipv4Of(local);
      nl_addr_put(local);
    }
    v.learning = rtnl_link_vxlan_get_learning(l) > 0;
    o.vxlan = v;
  }
  return o;
}

}  // namespace

std::optional<std::array<uint8_t, 6>> parseMac(std::string_view text) {
  std::array<uint8_t, 6> out{};
  if (text.size() != 17) return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':')) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string formatMac(const uint8_t* b) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4],
                b[5]);
  return buf;
}

StatusOr<std::unique_ptr<Netlink>> Netlink::open() {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return unavailable("netlink: cannot allocate a socket");
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sock);
    return nlError(err, "netlink: connect");
  }
  return std::unique_ptr<Netlink>(new Netlink(sock));
}

Netlink::~Netlink() { nl_socket_free(sock_); }

StatusOr<std::vector<Link>> Netlink::links() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw); err < 0)
    return nlError(err, "list links");
  Cache cache(raw);
  return each<Link, rtnl_link>(cache.get(), [](rtnl_link* l) { return std::optional(toLink(l)); });
}

StatusOr<std::optional<Link>> Netlink::link(const std::string& name) {
  rtnl_link* raw = nullptr;
  int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw);
  if (err < 0) {
    if (absent(err)) return std::optional<Link>();
    return nlError(err, "get link '" + name + "'");
  }
  NlLink l(raw);
  return std::optional(toLink(l.get()));
}

Status Netlink::addBridge(const std::string& name, int mtu) {
  NlLink l(rtnl_link_bridge_alloc());
  if (!l) return unavailable("add bridge '" + name + "': out of memory");
  rtnl_link_set_name(l.get(), name.c_str());
  if (mtu > 0) rtnl_link_set_mtu(l.get(), static_cast<unsigned>(mtu));
  if (int err = rtnl_link_add(sock_, l.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nlError(err, "add bridge '" + name + "'");
  return Status::ok();
}

Status Netlink::addVxlan(const std::string& name, const Vxlan& v, int mtu,
                         const std::string& macText) {
  const std::string what = "add VXLAN device '" + name + "'";
  NlLink l(rtnl_link_vxlan_alloc());
  if (!l) return unavailable(what + ": out of memory");
  rtnl_link_set_name(l.get(), name.c_str());
  if (mtu > 0) rtnl_link_set_mtu(l.get(), static_cast<unsigned>(mtu));
  if (!macText.empty()) {
    auto m = mac(macText);
    if (!m) return m.status().withContext(what);
    rtnl_link_set_addr(l.get(), m->get());
  }
  NlAddr local = ipv4(v.local);
  int err = rtnl_link_vxlan_set_id(l.get(), v.vni);
  if (err == 0) err = rtnl_link_vxlan_set_port(l.get(), static_cast<uint32_t>(v.port));
  if (err == 0) err = rtnl_link_vxlan_set_local(l.get(), local.get());
  if (err == 0) err = rtnl_link_vxlan_set_link(l.get(), static_cast<uint32_t>(v.underlay));
  if (err == 0) err = rtnl_link_vxlan_set_learning(l.get(), v.learning ? 1 : 0);
  if (err == 0) err = rtnl_link_add(sock_, l.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) return nlError(err, what);
  return Status::ok();
}

Status Netlink::changeLink(const Link& link, int mtu, const std::string& macText, bool up) {
  const std::string what = "change link '" + link.name + "'";
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock_, link.index, nullptr, &raw); err < 0)
    return nlError(err, what);
  NlLink orig(raw);
  NlLink change(rtnl_link_alloc());
  if (!change) return unavailable(what + ": out of memory");
  if (mtu > 0) rtnl_link_set_mtu(change.get(), static_cast<unsigned>(mtu));
  if (!macText.empty()) {
    auto m = mac(macText);
    if (!m) return m.status().withContext(what);
    rtnl_link_set_addr(change.get(), m->get());
  }
  if (up) rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock_, orig.get(), change.get(), 0); err < 0)
    return nlError(err, what);
  return Status::ok();
}

Status Netlink::deleteLink(const std::string& name) {
  NlLink l(rtnl_link_alloc());
  if (!l) return unavailable("delete link '" + name + "': out of memory");
  rtnl_link_set_name(l.get(), name.c_str());
  int err = rtnl_link_delete(sock_, l.get());
  if (err < 0 && !absent(err)) return nlError(err, "delete link '" + name + "'");
  return Status::ok();
}

StatusOr<std::vector<Address>> Netlink::addresses(int index) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) return nlError(err, "list addresses");
  Cache cache(raw);
  return each<Address, rtnl_addr>(cache.get(), [&](rtnl_addr* a) -> std::optional<Address> {
    if (rtnl_addr_get_family(a) != AF_INET) return std::nullopt;
    if (index && rtnl_addr_get_ifindex(a) != index) return std::nullopt;
    return Address{rtnl_addr_get_ifindex(a), ipv4Of(rtnl_addr_get_local(a)),
                   rtnl_addr_get_prefixlen(a)};
  });
}

namespace {
NlRtAddr rtAddr(const Address& a) {
  NlRtAddr r(rtnl_addr_alloc());
  if (!r) return r;
  NlAddr local = ipv4(a.ip, a.bits);
  rtnl_addr_set_ifindex(r.get(), a.index);
  rtnl_addr_set_family(r.get(), AF_INET);
  if (rtnl_addr_set_local(r.get(), local.get()) < 0) return nullptr;
  rtnl_addr_set_prefixlen(r.get(), a.bits);
  return r;
}
std::string str(const Address& a) { return formatIpv4(a.ip) + "/" + std::to_string(a.bits); }
}  // namespace

Status Netlink::addAddress(const Address& a) {
  NlRtAddr r = rtAddr(a);
  if (!r) return unavailable("add address " + str(a) + ": out of memory");
  int err = rtnl_addr_add(sock_, r.get(), 0);
  if (err < 0 && err != -NLE_EXIST) return nlError(err, "add address " + str(a));
  return Status::ok();
}

Status Netlink::deleteAddress(const Address& a) {
  NlRtAddr r = rtAddr(a);
  if (!r) return unavailable("delete address " + str(a) + ": out of memory");
  int err = rtnl_addr_delete(sock_, r.get(), 0);
  if (err < 0 && !absent(err)) return nlError(err, "delete address " + str(a));
  return Status::ok();
}

StatusOr<std::vector<Route>> Netlink::routes() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &raw); err < 0)
    return nlError(err, "list routes");
  Cache cache(raw);
  return each<Route, rtnl_route>(cache.get(), [](rtnl_route* r) -> std::optional<Route> {
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(r) != 1)
      return std::nullopt;
    nl_addr* dst = rtnl_route_get_dst(r);
    Route o;
    o.dst = {ipv4Of(dst), dst ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0};
    if (dst && nl_addr_get_len(dst) == 0) o.dst = {0, 0};  // "default"
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    o.oif = rtnl_route_nh_get_ifindex(nh);
    o.gateway = ipv4Of(rtnl_route_nh_get_gateway(nh));
    o.onlink = rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK;
    return o;
  });
}

namespace {
NlRoute rtRoute(const Route& r) {
  NlRoute out(rtnl_route_alloc());
  if (!out) return out;
  NlAddr dst = ipv4(r.dst.network, r.dst.bits);
  rtnl_route_set_family(out.get(), AF_INET);
  rtnl_route_set_table(out.get(), RT_TABLE_MAIN);
  rtnl_route_set_type(out.get(), RTN_UNICAST);
  rtnl_route_set_scope(out.get(), r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_route_set_protocol(out.get(), RTPROT_STATIC);
  if (rtnl_route_set_dst(out.get(), dst.get()) < 0) return nullptr;
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) return nullptr;
  rtnl_route_nh_set_ifindex(nh, r.oif);
  if (r.gateway) {
    NlAddr gw = ipv4(r.gateway);
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  if (r.onlink) rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
  rtnl_route_add_nexthop(out.get(), nh);  // the route owns it now
  return out;
}
}  // namespace

Status Netlink::replaceRoute(const Route& r) {
  const std::string what = "add route " + r.dst.str();
  NlRoute route = rtRoute(r);
  if (!route) return unavailable(what + ": out of memory");
  if (int err = rtnl_route_add(sock_, route.get(), NLM_F_REPLACE); err < 0)
    return nlError(err, what);
  return Status::ok();
}

Status Netlink::deleteRoute(const Route& r) {
  NlRoute route = rtRoute(r);
  if (!route) return unavailable("delete route " + r.dst.str() + ": out of memory");
  int err = rtnl_route_delete(sock_, route.get(), 0);
  if (err < 0 && !absent(err)) return nlError(err, "delete route " + r.dst.str());
  return Status::ok();
}

namespace {
// Every neighbour and FDB entry (AF_INET and AF_BRIDGE dumps).
StatusOr<Cache> neighCache(nl_sock* sock) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_neigh_alloc_cache_flags(sock, &raw, NL_CACHE_AF_ITER); err < 0)
    return nlError(err, "list neighbours");
  return Cache(raw);
}
}  // namespace

StatusOr<std::vector<Neighbour>> Netlink::neighbours(int index) {
  auto cache = neighCache(sock_);
  if (!cache) return cache.status();
  return each<Neighbour, rtnl_neigh>(cache->get(), [&](rtnl_neigh* n) -> std::optional<Neighbour> {
    if (rtnl_neigh_get_family(n) != AF_INET || rtnl_neigh_get_ifindex(n) != index)
      return std::nullopt;
    return Neighbour{index, ipv4Of(rtnl_neigh_get_dst(n)), macOf(rtnl_neigh_get_lladdr(n)),
                     (rtnl_neigh_get_state(n) & NUD_PERMANENT) != 0};
  });
}

namespace {
StatusOr<NlNeigh> arpEntry(const Neighbour& n, bool withMac) {
  NlNeigh out(rtnl_neigh_alloc());
  if (!out) return unavailable("out of memory");
  NlAddr dst = ipv4(n.ip);
  rtnl_neigh_set_ifindex(out.get(), n.index);
  if (int err = rtnl_neigh_set_dst(out.get(), dst.get()); err < 0) return nlError(err, "dst");
  if (withMac) {
    auto m = mac(n.mac);
    if (!m) return m.status();
    rtnl_neigh_set_lladdr(out.get(), m->get());
  }
  rtnl_neigh_set_state(out.get(), NUD_PERMANENT);
  return out;
}
}  // namespace

Status Netlink::replaceNeighbour(const Neighbour& n) {
  const std::string what = "add neighbour " + formatIpv4(n.ip);
  auto entry = arpEntry(n, true);
  if (!entry) return entry.status().withContext(what);
  if (int err = rtnl_neigh_add(sock_, entry->get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    return nlError(err, what);
  return Status::ok();
}

Status Netlink::deleteNeighbour(const Neighbour& n) {
  const std::string what = "delete neighbour " + formatIpv4(n.ip);
  auto entry = arpEntry(n, false);
  if (!entry) return entry.status().withContext(what);
  int err = rtnl_neigh_delete(sock_, entry->get(), 0);
  if (err < 0 && !absent(err)) return nlError(err, what);
  return Status::ok();
}

StatusOr<std::vector<FdbEntry>> Netlink::fdb(int index) {
  auto cache = neighCache(sock_);
  if (!cache) return cache.status();
  return each<FdbEntry, rtnl_neigh>(cache->get(), [&](rtnl_neigh* n) -> std::optional<FdbEntry> {
    if (rtnl_neigh_get_family(n) != AF_BRIDGE || rtnl_neigh_get_ifindex(n) != index)
      return std::nullopt;
    return FdbEntry{index, macOf(rtnl_neigh_get_lladdr(n)), ipv4Of(rtnl_neigh_get_dst(n))};
  });
}

namespace {
StatusOr<NlNeigh> fdbEntry(const FdbEntry& e, bool withDst) {
  NlNeigh out(rtnl_neigh_alloc());
  if (!out) return unavailable("out of memory");
  rtnl_neigh_set_ifindex(out.get(), e.index);
  if (withDst) {
    // The destination first: it sets the family to AF_INET, which the
    // bridge family then overrides (set the other way round, libnl
    // refuses the address as a family mismatch).
    NlAddr dst = ipv4(e.dst);
    if (int err = rtnl_neigh_set_dst(out.get(), dst.get()); err < 0) return nlError(err, "dst");
  }
  rtnl_neigh_set_family(out.get(), AF_BRIDGE);
  auto m = mac(e.mac);
  if (!m) return m.status();
  rtnl_neigh_set_lladdr(out.get(), m->get());
  rtnl_neigh_set_flags(out.get(), NTF_SELF);
  rtnl_neigh_set_state(out.get(), NUD_PERMANENT);
  return out;
}
}  // namespace

Status Netlink::replaceFdb(const FdbEntry& e) {
  const std::string what = "add FDB entry " + e.mac + " -> " + formatIpv4(e.dst);
  auto entry = fdbEntry(e, true);
  if (!entry) return entry.status().withContext(what);
  if (int err = rtnl_neigh_add(sock_, entry->get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0)
    return nlError(err, what);
  return Status::ok();
}

Status Netlink::deleteFdb(const FdbEntry& e) {
  const std::string what = "delete FDB entry " + e.mac;
  auto entry = fdbEntry(e, false);
  if (!entry) return entry.status().withContext(what);
  int err = rtnl_neigh_delete(sock_, entry->get(), 0);
  if (err < 0 && !absent(err)) return nlError(err, what);
  return Status::ok();
}

}  // namespace lb::runtime::netlink
