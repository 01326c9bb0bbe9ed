#pragma once

// CNI — the container network interface: the overlay that joins the pod
// subnets of every node into one network. A driver (vxlan) is chosen by name
// from the table in src/runtime/drivers.h.
//
// Every node holds one subnet of the cluster pod range (types::Subnet in
// types/cluster.h, leased by the controller). For its own subnet a driver sets up the bridge the
// node's pods attach to, addressed with the subnet's first IP (the pods'
// gateway); for each peer's subnet it programs the way there (vxlan: one
// route, one neighbour and one FDB entry through the VXLAN device). What a
// driver programs can be read back (subnets()), so an agent that restarts
// adopts it instead of flushing it, and sees drift: an entry removed by hand
// is reported incomplete, and create() puts it back.
//
// Errors are lb::Status with context, e.g.
//   "cni vxlan: create subnet '10.244.2.0/24': add route: Operation not permitted"
// kInvalidArgument: a bad manifest or option; kNotFound: a missing
// interface; kUnavailable: netlink cannot be used. Every method is
// thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/cluster.h"

namespace lb::runtime::cni {

// What create() programs: the subnet's cidr, node and type, that node's
// underlay interface and address (addr: where its subnet's packets go), and
// its VTEP MAC (hwaddr: "" or vtepMac(cidr), which every host derives).
using SubnetManifest = types::SubnetSpec;

// OK, or kInvalidArgument naming what is wrong with `name` as a network
// interface name (`what` names its role in the message, e.g. "bridge"):
// empty, over 15 bytes (IFNAMSIZ - 1), "." or "..", or a character other
// than letters, digits, '.', '-' and '_'.
Status validateInterfaceName(std::string_view name, std::string_view what);

// The VTEP MAC of a subnet: 0a:58 and the four bytes of its network address
// ("10.244.2.0/24" -> "0a:58:0a:f4:02:00"). Every host derives a peer's from
// its cidr alone, so peers need exchange only cidr and underlay address.
// kInvalidArgument when `cidr` is not an IPv4 network.
StatusOr<std::string> vtepMac(std::string_view cidr);

// OK, or kInvalidArgument naming the field of `manifest` that is wrong:
// cidr not an IPv4 network of /8 to /30 (host bits zero), addr not an IPv4
// address (required for a peer: `local` false), type neither empty nor
// `driver`, hwaddr neither empty nor vtepMac(cidr).
Status validateManifest(const SubnetManifest& manifest, std::string_view driver, bool local);

// This host's side of the overlay.
struct NetworkInfo {
  std::string driver;        // "vxlan"
  std::string node;          // this node: a manifest whose node is this one is local
  std::string underlay;      // the interface overlay packets leave by ("eth0")
  std::string underlayAddr;  // its IPv4 address: what peers send this host's subnet to
  int underlayMtu = 0;
  std::string device;  // the VXLAN device ("lb.vxlan")
  uint32_t vni = 0;
  int port = 0;         // UDP port of the VXLAN packets
  std::string bridge;   // the pods' bridge ("lb0")
  std::string cidr;     // this host's subnet once create() set it up, else ""
  std::string gateway;  // the bridge's address, the pods' gateway ("10.244.1.1"), or ""
  int mtu = 0;          // of the bridge, the VXLAN device and pod interfaces: underlayMtu - 50
};

// One subnet as this host has it programmed.
struct NetworkState {
  std::string cidr;     // "10.244.2.0/24"
  bool local = false;   // this host's own subnet (the bridge), not a peer's
  std::string addr;     // underlay IPv4 of the subnet's node ("" when not known)
  std::string iface;    // local: the bridge; peer: the VXLAN device
  std::string gateway;  // local: the bridge's address; peer: the route's next hop
  std::string vtep;     // the subnet's VTEP MAC (vtepMac(cidr))
  // What create() would still have to add; empty = complete. Words:
  // peer "route", "neighbour", "fdb"; local "bridge", "bridge address",
  // "bridge up", "device", "device address" (its MAC), "device ip" (the
  // subnet's network address /32 on it), "device up".
  std::vector<std::string> missing;
  bool complete() const { return missing.empty(); }
  bool operator==(const NetworkState&) const = default;
};

class NetworkRuntime {
 public:
  virtual ~NetworkRuntime() = default;

  // This host's network: driver, underlay, device, bridge, and (after the
  // local create()) its subnet, gateway and MTU.
  virtual StatusOr<NetworkInfo> info() = 0;

  // Programs `manifest` and returns its state. Idempotent: what is in place
  // is kept, what is missing or different is set. A manifest whose node is
  // this host's is local: it enables IPv4 forwarding, makes the VXLAN device
  // (with this subnet's VTEP MAC) and the bridge, addressed with the
  // subnet's first IP. Any other is a peer's: a route to its cidr over the
  // VXLAN device, a neighbour and an FDB entry (its VTEP MAC -> its addr).
  // kInvalidArgument for a manifest validateManifest() refuses.
  virtual StatusOr<NetworkState> create(const SubnetManifest& manifest) = 0;

  // Removes what create() made for `state` (absent parts are fine): a peer's
  // route, neighbour and FDB entry; the local bridge (the VXLAN device stays:
  // it carries the peers).
  virtual Status destroy(const NetworkState& state) = 0;

  // Moves `state` to `manifest`: the same cidr is re-programmed in place (a
  // peer that moved gets its FDB entry replaced, its route stays); another
  // cidr is destroy(state), then create(manifest).
  virtual StatusOr<NetworkState> replace(const NetworkState& state,
                                         const SubnetManifest& manifest) = 0;

  // Every subnet programmed on this host, by cidr, complete or not: a peer
  // whose route was removed but whose neighbour is there is listed with
  // missing {"route"} (its prefix length is the local subnet's, the one
  // every node's lease has, else /32).
  virtual StatusOr<std::map<std::string, NetworkState>> subnets() = 0;
};

}  // namespace lb::runtime::cni
