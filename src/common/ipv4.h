#pragma once

// IPv4 addresses and prefixes as host-order integers: the one parser behind
// the service IPAM, the pod subnets and the network drivers.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb {

// "10.0.0.1" -> 0x0a000001; nullopt for anything but four decimal octets.
std::optional<uint32_t> parseIpv4(std::string_view text);
std::string formatIpv4(uint32_t ip);

// An IPv4 network: its address (host bits zero) and prefix length.
struct Ipv4Prefix {
  uint32_t network = 0;
  int bits = 0;

  uint32_t mask() const { return bits == 0 ? 0 : ~uint32_t(0) << (32 - bits); }
  uint64_t size() const { return uint64_t(1) << (32 - bits); }
  bool contains(uint32_t ip) const { return (ip & mask()) == network; }
  // Whether the two networks share an address.
  bool overlaps(const Ipv4Prefix& o) const {
    return (bits < o.bits ? contains(o.network) : o.contains(network));
  }
  std::string str() const { return formatIpv4(network) + "/" + std::to_string(bits); }
  bool operator==(const Ipv4Prefix&) const = default;
};

// "10.244.1.0/24". kInvalidArgument naming `what` when it is not an IPv4
// CIDR, has host bits set, or its length is outside [minBits, maxBits].
StatusOr<Ipv4Prefix> parseIpv4Prefix(std::string_view cidr, std::string_view what, int minBits = 0,
                                     int maxBits = 32);

}  // namespace lb
