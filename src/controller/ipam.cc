#include "controller/ipam.h"

#include <nlohmann/json.hpp>

namespace lb::controller {

StatusOr<Ipam> Ipam::create(std::string_view cidr) {
  size_t slash = cidr.find('/');
  auto bad = [&](const std::string& why) {
    return invalidArgument("services CIDR '" + std::string(cidr) + "': " + why, "servicesCidr");
  };
  if (slash == std::string_view::npos) return bad("expected <ipv4>/<bits>");
  auto ip = parseIpv4(cidr.substr(0, slash));
  if (!ip) return bad("not an IPv4 address");
  int bits = 0;
  std::string_view b = cidr.substr(slash + 1);
  if (b.empty() || b.size() > 2) return bad("bad prefix length");
  for (char c : b) {
    if (c < '0' || c > '9') return bad("bad prefix length");
    bits = bits * 10 + (c - '0');
  }
  if (bits < 8 || bits > 30) return bad("prefix length must be 8..30");
  Ipam out;
  out.cidr_ = std::string(cidr);
  out.size_ = 1u << (32 - bits);
  out.base_ = *ip & ~(out.size_ - 1);
  return out;
}

std::optional<std::string> Ipam::addressOf(const std::string& owner) const {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

StatusOr<std::string> Ipam::allocate(const std::string& owner) {
  if (auto ip = addressOf(owner)) return *ip;
  // Next-fit from a cursor: O(1) amortised while the range is sparse, and a
  // released address is not reused at once (stale DNS answers age out first).
  for (uint32_t n = 0; n < size_; ++n) {
    uint32_t off = cursor_;
    cursor_ = cursor_ + 1 >= size_ - 1 ? 1 : cursor_ + 1;
    if (off == 0 || off >= size_ - 1) continue;  // network and broadcast addresses
    uint32_t ip = base_ + off;
    if (byAddress_.count(ip)) continue;
    std::string text = formatIpv4(ip);
    byAddress_[ip] = owner;
    owners_[owner] = text;
    return text;
  }
  return unavailable("services CIDR " + cidr_ + " is exhausted (" + std::to_string(capacity()) +
                     " addresses in use)");
}

bool Ipam::adopt(const std::string& owner, const std::string& text) {
  auto ip = parseIpv4(text);
  if (!ip || *ip <= base_ || *ip >= base_ + size_ - 1) return false;
  auto held = byAddress_.find(*ip);
  if (held != byAddress_.end()) return held->second == owner;
  release(owner);
  byAddress_[*ip] = owner;
  owners_[owner] = text;
  return true;
}

bool Ipam::release(const std::string& owner) {
  auto it = owners_.find(owner);
  if (it == owners_.end()) return false;
  if (auto ip = parseIpv4(it->second)) byAddress_.erase(*ip);
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
  byAddress_.clear();
  auto owners = j.find("owners");
  if (owners == j.end() || !owners->is_object()) return Status::ok();
  for (const auto& [owner, ip] : owners->items()) {
    if (ip.is_string()) adopt(owner, ip.get<std::string>());
  }
  return Status::ok();
}

}  // namespace lb::controller
