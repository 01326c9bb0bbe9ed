#pragma once

// IPAM over one IPv4 CIDR, in one of two shapes:
//
// - service VIPs (create): single addresses of `--services-cidr`, whose
//   state lives at /system/ipam as {"cidr": ..., "owners": {"ns:svc": "ip"}}.
//   The controller stages every change of it in the same store transaction
//   as the endpoint that holds the address, so an address is never held
//   without its endpoint (no leak) nor given twice.
// - pod subnets (createBlocks): equal blocks tiling `--pods-cidr`, one per
//   node ("10.244.3.0/24"); their state is the subnet keys themselves, each
//   created on the condition that it does not exist (loops/subnets.h).
//
// Allocation is next-fit from a cursor either way. Not thread-safe (the
// loop owns it).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/ipv4.h"
#include "lastbackend/common/status.h"

namespace lb::controller {

class Ipam {
 public:
  // Service addresses: every address of `cidr` but its network and
  // broadcast. kInvalidArgument (field "servicesCidr") for anything but an
  // IPv4 CIDR with 8..30 bits.
  static StatusOr<Ipam> create(std::string_view cidr);
  // Pod subnets: the blocks of prefix length `blockBits` that tile `cidr`,
  // every one usable. kInvalidArgument (field "podsCidr" or
  // "nodeSubnetSize") for anything but an IPv4 CIDR of 8..30 bits, or a
  // block size that is shorter than the range, longer than /30 (no room for
  // a bridge and pods) or makes more than 65536 blocks.
  static StatusOr<Ipam> createBlocks(std::string_view cidr, int blockBits);

  // The address (block) of `owner`, if it holds one.
  std::optional<std::string> addressOf(const std::string& owner) const;
  // Who holds `address` (an address or a block, as allocate() writes it).
  std::optional<std::string> ownerOf(const std::string& address) const;
  // The address of `owner`, allocating the next free one if it holds none.
  // kUnavailable when the range is exhausted.
  StatusOr<std::string> allocate(const std::string& owner);
  // Adopts `address` for `owner` (one found in the store that IPAM does not
  // know, e.g. after a restart), giving up what `owner` held before. False
  // if the address is not one of this range's or is held by another owner.
  bool adopt(const std::string& owner, const std::string& address);
  // Frees the address of `owner`; false if it held none.
  bool release(const std::string& owner);

  const std::map<std::string, std::string>& owners() const { return owners_; }
  size_t capacity() const { return last_ > first_ ? last_ - first_ : 0; }
  size_t used() const { return byUnit_.size(); }
  const std::string& cidr() const { return cidr_; }

  std::string toJson() const;
  // Replaces the allocations with the stored state. Allocations outside this
  // range (the CIDR was changed) are dropped; the owners' endpoints get new
  // addresses when reconciled.
  Status loadJson(std::string_view text);

 private:
  static StatusOr<Ipam> make(std::string_view cidr, std::string_view what, std::string_view field,
                             int blockBits);
  std::optional<uint32_t> unitOf(std::string_view address) const;
  std::string format(uint32_t unit) const;

  std::string cidr_;
  std::string what_;  // "services CIDR", "pods CIDR": for errors
  uint32_t base_ = 0;
  int blockBits_ = 32;  // 32: single addresses
  uint32_t first_ = 0;  // usable units: [first_, last_)
  uint32_t last_ = 0;
  uint32_t cursor_ = 0;
  std::map<std::string, std::string> owners_;         // owner -> address
  std::unordered_map<uint32_t, std::string> byUnit_;  // unit -> owner
};

using lb::formatIpv4;
using lb::parseIpv4;

}  // namespace lb::controller
