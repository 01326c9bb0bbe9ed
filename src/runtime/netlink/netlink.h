#pragma once

// A small rtnetlink client over libnl-route-3: links, IPv4 addresses,
// routes of the main table, neighbours and bridge FDB entries, read and
// written as plain values. libnl's errors stop here and become Status
// values ("add route 10.244.2.0/24: Operation not permitted").
//
// The socket belongs to the network namespace of the thread that called
// open(): every call acts there, whichever thread makes it. Not thread-safe
// (one socket, one request at a time): its owner serializes calls.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipv4.h"
#include "lastbackend/common/status.h"

struct nl_sock;

namespace lb::runtime::netlink {

// "0a:58:0a:f4:02:00" <-> 6 bytes.
std::optional<std::array<uint8_t, 6>> parseMac(std::string_view text);
std::string formatMac(const uint8_t* bytes);

struct Vxlan {
  uint32_t vni = 0;
  int port = 0;        // UDP destination port
  uint32_t local = 0;  // source address of the outer packets
  int underlay = 0;    // ifindex the outer packets leave by
  bool learning = false;
  bool operator==(const Vxlan&) const = default;
};

struct Link {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "vxlan", "veth", "dummy"; "" for plain devices
  int mtu = 0;
  bool up = false;  // IFF_UP
  bool loopback = false;
  int master = 0;   // ifindex of the bridge it is a port of, or 0
  std::string mac;  // "" when the link has none
  std::optional<Vxlan> vxlan;
};

struct Address {
  int index = 0;  // the link's
  uint32_t ip = 0;
  int bits = 0;
  bool operator==(const Address&) const = default;
};

// An IPv4 route of the main table with one next hop.
struct Route {
  Ipv4Prefix dst;
  uint32_t gateway = 0;  // 0 = directly connected
  int oif = 0;
  bool onlink = false;
};

struct Neighbour {
  int index = 0;
  uint32_t ip = 0;
  std::string mac;
  bool permanent = false;
};

// An FDB entry of a VXLAN device: inner MAC -> outer destination.
struct FdbEntry {
  int index = 0;
  std::string mac;
  uint32_t dst = 0;  // 0 when the entry has no remote
};

class Netlink {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static StatusOr<std::unique_ptr<Netlink>> open();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  StatusOr<std::vector<Link>> links();
  // nullopt when there is no link of that name.
  StatusOr<std::optional<Link>> link(const std::string& name);

  // New links, down; kAlreadyExists when the name is taken.
  Status addBridge(const std::string& name, int mtu);
  Status addVxlan(const std::string& name, const Vxlan& vxlan, int mtu, const std::string& mac);
  // Changes what is set: MTU (> 0), MAC (non-empty), up.
  Status changeLink(const Link& link, int mtu, const std::string& mac, bool up);
  // Deleting an absent link is OK.
  Status deleteLink(const std::string& name);

  // IPv4 addresses of link `index` (0 = of every link).
  StatusOr<std::vector<Address>> addresses(int index);
  Status addAddress(const Address& address);     // present already: OK
  Status deleteAddress(const Address& address);  // absent: OK

  // IPv4 routes of the main table.
  StatusOr<std::vector<Route>> routes();
  Status replaceRoute(const Route& route);
  Status deleteRoute(const Route& route);  // absent: OK

  // IPv4 neighbours of link `index`.
  StatusOr<std::vector<Neighbour>> neighbours(int index);
  Status replaceNeighbour(const Neighbour& neighbour);  // permanent
  Status deleteNeighbour(const Neighbour& neighbour);   // absent: OK

  // FDB entries of the VXLAN device `index`.
  StatusOr<std::vector<FdbEntry>> fdb(int index);
  Status replaceFdb(const FdbEntry& entry);  // permanent
  Status deleteFdb(const FdbEntry& entry);   // every remote of the MAC; absent: OK

 private:
  explicit Netlink(nl_sock* sock) : sock_(sock) {}
  nl_sock* sock_;
};

}  // namespace lb::runtime::netlink
