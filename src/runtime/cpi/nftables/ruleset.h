#pragma once

// The nftables CPI's ruleset as text and back: the commands of one
// transaction (run by libnftables as one batch), and what a JSON listing of
// the table says is programmed. No I/O here.
//
//   table ip lastbackend {
//     map endpoints { type ipv4_addr : verdict }        VIP -> goto ep_<vip>
//     set hairpin { type ipv4_addr . ipv4_addr }        "b . b" per backend b
//     chain prerouting  { nat prerouting -100;  ip daddr vmap @endpoints }
//     chain output      { nat output -100;      ip daddr vmap @endpoints }
//     chain postrouting { nat postrouting 100;  ct status dnat ip saddr . ip daddr @hairpin
//     masquerade } chain ep_10_96_0_5 {                              one per VIP, rewritten whole
//       tcp dport 80 dnat ip to numgen inc mod 2 map { 0 : 10.244.1.5 . 8080, 1 : ... } comment
//       "demo:web" tcp dport 81 reject with tcp reset comment "demo:web"     (no ready pod) meta
//       l4proto tcp reject with tcp reset comment "demo:web" (any other port of the VIP) reject
//       comment "demo:web"                                 (ICMP port unreachable)
//     }
//   }
//
// A change of one endpoint touches its chain and its map and set elements
// only. Elements and chains are removed with "add, then delete" in the same
// batch, so removing what a hand already removed does not fail the batch.

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cpi.h"

namespace lb::runtime::cpi::nftables {

inline constexpr const char* kTable = "lastbackend";  // family ip

// "ep_10_96_0_5" for VIP 10.96.0.5; vipOfChain() is its inverse ("" for
// any other name).
std::string chainName(const std::string& vip);
std::string vipOfChain(std::string_view chain);

// What one listing of the table holds.
struct Listing {
  bool table = false;     // the table exists
  bool skeleton = false;  // map, set, base chains and their rules are intact
  // Everything found per endpoint chain or map element, damaged parts
  // included: what update() and destroy() must clean up.
  std::map<std::string, EndpointState> found;
  // What works end to end (info()): a damaged endpoint has no ports, a
  // backend without its hairpin element is left out.
  std::map<std::string, EndpointState> served;
  // VIP -> the chain its map element jumps to.
  std::map<std::string, std::string> targets;
};

// Parses the output of `list table ip lastbackend` in JSON (nft -j).
StatusOr<Listing> parseListing(std::string_view json);

// The commands of one batch, in order.
class Batch {
 public:
  // Table, map, set and base chains (declared if missing), base chains'
  // rules rewritten.
  void skeleton();
  // The VIP's chain rewritten for `state`, its map element and the hairpin
  // elements of its backends added.
  void program(const EndpointState& state);
  // The VIP's map element (jumping to `target`), whether or not it is there.
  void removeElement(const std::string& vip, const std::string& target);
  // The element and the VIP's chain, whether or not they are there.
  void removeVip(const std::string& vip, const std::string& target);
  // The hairpin element of a backend no endpoint uses any more.
  void removeHairpin(const std::string& ip);

  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }

 private:
  void line(const std::string& command);
  std::string text_;
};

// Backend addresses of `state`.
std::set<std::string> backendIps(const EndpointState& state);

}  // namespace lb::runtime::cpi::nftables
