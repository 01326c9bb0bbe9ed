#include "controller/ipam.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace lb::controller {

StatusOr<Ipam> Ipam::make(std::string_view cidr, std::string_view what, std::string_view field,
                          int blockBits) {
  auto c = parseIpv4Prefix(cidr, what, 8, 30);
  if (!c.isOk()) return invalidArgument(c.status().message(), std::string(field));
  Ipam out;
  out.cidr_ = std::string(cidr);
  out.what_ = std::string(what);
  out.base_ = c->network;
  out.blockBits_ = blockBits;
  const uint32_t units = uint32_t{1} << (std::min(blockBits, 32) - c->bits);
  // Single addresses skip the network and broadcast address; blocks do not.
  out.first_ = blockBits == 32 ? 1 : 0;
  out.last_ = blockBits == 32 ? units - 1 : units;
  out.cursor_ = out.first_;
  return out;
}

StatusOr<Ipam> Ipam::create(std::string_view cidr) {
  return make(cidr, "services CIDR", "servicesCidr", 32);
}

StatusOr<Ipam> Ipam::createBlocks(std::string_view cidr, int blockBits) {
  auto range = parseIpv4Prefix(cidr, "pods CIDR", 8, 30);
  if (range.isOk()) {
    // At most 2^16 blocks: a range of 4 million /30s is a typo, not a plan.
    const int hi = std::min(30, range->bits + 16);
    if (blockBits < range->bits || blockBits > hi)
      return invalidArgument("node subnet size /" + std::to_string(blockBits) +
                                 " does not fit pods CIDR " + std::string(cidr) + " (expected /" +
                                 std::to_string(range->bits) + " to /" + std::to_string(hi) + ")",
                             "nodeSubnetSize");
  }
  return make(cidr, "pods CIDR", "podsCidr", blockBits);
}

std::optional<uint32_t> Ipam::unitOf(std::string_view address) const {
  uint32_t offset = 0;
  if (blockBits_ == 32) {
    auto ip = parseIpv4(address);
    if (!ip || *ip < base_) return std::nullopt;
    offset = *ip - base_;
  } else {
    // Exactly a block of this range: "<aligned ip>/<blockBits>".
    auto c = parseIpv4Prefix(address, "subnet", blockBits_, blockBits_);
    if (!c.isOk() || c->network < base_) return std::nullopt;
    offset = (c->network - base_) >> (32 - blockBits_);
  }
  if (offset < first_ || offset >= last_) return std::nullopt;
  return offset;
}

std::string Ipam::format(uint32_t unit) const {
  if (blockBits_ == 32) return formatIpv4(base_ + unit);
  return formatIpv4(base_ + (unit << (32 - blockBits_))) + "/" + std::to_string(blockBits_);
}

std::optional<std::string> Ipam::addressOf(const std::string& owner) const {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Ipam::ownerOf(const std::string& address) const {
  auto unit = unitOf(address);
  if (!unit) return std::nullopt;
  auto it = byUnit_.find(*unit);
  if (it == byUnit_.end()) return std::nullopt;
  return it->second;
}

StatusOr<std::string> Ipam::allocate(const std::string& owner) {
  if (auto held = addressOf(owner)) return *held;
  if (used() >= capacity()) {
    std::string unit = blockBits_ == 32 ? "addresses" : "subnets of /" + std::to_string(blockBits_);
    return unavailable(what_ + " " + cidr_ + " is exhausted (" + std::to_string(capacity()) + " " +
                       unit + " in use)");
  }
  // Next-fit from a cursor: O(1) amortised while the range is sparse, and a
  // released address is not reused at once (stale DNS answers and peers'
  // routes to a removed node age out first).
  for (uint32_t n = first_; n < last_; ++n) {
    uint32_t unit = cursor_;
    cursor_ = cursor_ + 1 >= last_ ? first_ : cursor_ + 1;
    if (byUnit_.count(unit)) continue;
    std::string text = format(unit);
    byUnit_[unit] = owner;
    owners_[owner] = text;
    return text;
  }
  return internalError(what_ + " " + cidr_ + ": no free address although " +
                       std::to_string(used()) + " of " + std::to_string(capacity()) + " are used");
}

bool Ipam::adopt(const std::string& owner, const std::string& address) {
  auto unit = unitOf(address);
  if (!unit) return false;
  auto held = byUnit_.find(*unit);
  if (held != byUnit_.end()) return held->second == owner;
  release(owner);
  byUnit_[*unit] = owner;
  owners_[owner] = address;
  return true;
}

bool Ipam::release(const std::string& owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return false;
  if (auto unit = unitOf(it->second)) byUnit_.erase(*unit);
  owners_.erase(it);
  return true;
}

std::string Ipam::toJson() const {
  nlohmann::json j;
  j["cidr"] = cidr_;
  j["owners"] = owners_;
  return j.dump();
}

Status Ipam::loadJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalidArgument("IPAM state is not a JSON object");
  owners_.clear();
  byUnit_.clear();
  auto owners = j.find("owners");
  if (owners == j.end() || !owners->is_object()) return Status::ok();
  for (const auto& [owner, ip] : owners->items()) {
    if (ip.is_string()) adopt(owner, ip.get<std::string>());
  }
  return Status::ok();
}

}  // namespace lb::controller
