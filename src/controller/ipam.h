#pragma once

// IPAM for service VIPs: a pool over one IPv4 CIDR (`--services-cidr`) whose
// state lives at /system/ipam as {"cidr": ..., "owners": {"ns:svc": "ip"}}.
// The controller stages every change of it in the same store transaction as
// the endpoint that holds the address, so an address is never held without
// its endpoint (no leak) nor given twice. Not thread-safe (the loop owns it).

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
  // kInvalidArgument for anything but an IPv4 CIDR with at most 30 bits.
  static StatusOr<Ipam> create(std::string_view cidr);

  // The address of `owner`, if it holds one.
  std::optional<std::string> addressOf(const std::string& owner) const;
  // The address of `owner`, allocating the next free one if it holds none.
  // kUnavailable when the range is exhausted.
  StatusOr<std::string> allocate(const std::string& owner);
  // Adopts `ip` for `owner` (an endpoint found in the store that IPAM does
  // not know, e.g. after a crash between releases). False if the address is
  // outside the range or held by another owner.
  bool adopt(const std::string& owner, const std::string& ip);
  // Frees the address of `owner`; false if it held none.
  bool release(const std::string& owner);

  const std::map<std::string, std::string>& owners() const { return owners_; }
  size_t capacity() const { return size_ >= 2 ? size_ - 2 : 0; }
  const std::string& cidr() const { return cidr_; }

  std::string toJson() const;
  // Replaces the allocations with the stored state. Allocations outside this
  // range (the CIDR was changed) are dropped; the owners' endpoints get new
  // addresses when reconciled.
  Status loadJson(std::string_view text);

 private:
  std::string cidr_;
  uint32_t base_ = 0;
  uint32_t size_ = 0;
  uint32_t cursor_ = 1;
  std::map<std::string, std::string> owners_;            // owner -> ip
  std::unordered_map<uint32_t, std::string> byAddress_;  // ip -> owner
};

using lb::formatIpv4;
using lb::parseIpv4;

}  // namespace lb::controller
