#include "common/ipv4.h"

namespace lb {

std::optional<uint32_t> parseIpv4(std::string_view text) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    uint32_t v = 0;
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v = v * 10 + static_cast<uint32_t>(text[i] - '0');
      if (++digits > 3 || v > 255) return std::nullopt;
      ++i;
    }
    out = (out << 8) | v;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return out;
}

std::string formatIpv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

StatusOr<Ipv4Prefix> parseIpv4Prefix(std::string_view cidr, std::string_view what, int minBits,
                                     int maxBits) {
  auto bad = [&](const std::string& why) {
    return invalidArgument(std::string(what) + " '" + std::string(cidr) + "': " + why);
  };
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return bad("not a CIDR (want a.b.c.d/n)");
  auto ip = parseIpv4(cidr.substr(0, slash));
  if (!ip) return bad("not an IPv4 address");
  std::string_view len = cidr.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != len.npos)
    return bad("bad prefix length");
  Ipv4Prefix p{*ip, std::stoi(std::string(len))};
  if (p.bits > 32) return bad("bad prefix length");
  if (p.bits < minBits || p.bits > maxBits)
    return bad("prefix length must be between " + std::to_string(minBits) + " and " +
               std::to_string(maxBits));
  if ((p.network & p.mask()) != p.network)
    return bad("host bits set (the network is " + formatIpv4(p.network & p.mask()) + "/" +
               std::string(len) + ")");
  return p;
}

}  // namespace lb
