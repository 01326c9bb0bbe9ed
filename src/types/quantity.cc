#include "lastbackend/types/quantity.h"

#include <cctype>
#include <limits>

namespace lb::types {

namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct Decimal {
  int64_t whole = 0;
  int64_t frac = 0;       // fractional digits as an integer
  int64_t fracScale = 1;  // 10^digits
};

// "12.5" -> {12, 5, 10}. Rejects signs, exponents, empty parts and more than
// nine fractional digits (more would not change any byte or millicore count
// we can represent meaningfully, and keeps the arithmetic in int64).
bool parseDecimal(std::string_view s, Decimal* d) {
  size_t i = 0;
  bool digits = false;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
    if (d->whole > (kMax - 9) / 10) return false;
    d->whole = d->whole * 10 + (s[i] - '0');
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    bool fracDigits = false;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      if (d->fracScale >= 1000000000) return false;
      d->frac = d->frac * 10 + (s[i] - '0');
      d->fracScale *= 10;
      fracDigits = true;
    }
    if (!fracDigits) return false;
  }
  return digits && i == s.size();
}

// value * mult, exactly; false on overflow or when a fraction of a unit remains.
bool scale(const Decimal& d, int64_t mult, int64_t* out) {
  if (d.whole > kMax / mult) return false;
  int64_t w = d.whole * mult;
  // frac/fracScale * mult: frac < fracScale <= 1e9 and mult <= 2^40 could
  // overflow, so divide first when the scale allows it.
  __int128 f = static_cast<__int128>(d.frac) * mult;
  if (f % d.fracScale != 0) return false;
  f /= d.fracScale;
  if (f > kMax - w) return false;
  *out = w + static_cast<int64_t>(f);
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Unit {
  const char* name;
  int64_t mult;
};

// Units are binary, the way container limits are meant ("512MB" of RAM is
// 512 MiB, as docker reads it); the k8s-style "Mi" spellings are accepted too.
constexpr Unit kMemoryUnits[] = {
    {"", 1},           {"b", 1},           {"k", 1LL << 10}, {"kb", 1LL << 10},
    {"ki", 1LL << 10}, {"kib", 1LL << 10}, {"m", 1LL << 20}, {"mb", 1LL << 20},
    {"mi", 1LL << 20}, {"mib", 1LL << 20}, {"g", 1LL << 30}, {"gb", 1LL << 30},
    {"gi", 1LL << 30}, {"gib", 1LL << 30}, {"t", 1LL << 40}, {"tb", 1LL << 40},
    {"ti", 1LL << 40}, {"tib", 1LL << 40},
};

}  // namespace

StatusOr<int64_t> parseMemory(std::string_view text) {
  size_t split = 0;
  while (split < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.'))
    ++split;
  Decimal d;
  const std::string bad =
      "invalid memory quantity '" + std::string(text) + "' (expected e.g. 512MB, 1GB, 256Mi)";
  if (!parseDecimal(text.substr(0, split), &d)) return invalidArgument(bad);
  std::string unit = lower(text.substr(split));
  for (const auto& u : kMemoryUnits) {
    if (unit != u.name) continue;
    int64_t bytes = 0;
    if (!scale(d, u.mult, &bytes)) return invalidArgument(bad);
    return bytes;
  }
  return invalidArgument(bad);
}

StatusOr<int64_t> parseCpu(std::string_view text) {
  const std::string bad = "invalid cpu quantity '" + std::string(text) +
                          "' (expected cores like 0.5 or millicores like 500m)";
  bool milli = !text.empty() && text.back() == 'm';
  Decimal d;
  if (!parseDecimal(milli ? text.substr(0, text.size() - 1) : text, &d))
    return invalidArgument(bad);
  int64_t out = 0;
  if (!scale(d, milli ? 1 : 1000, &out)) return invalidArgument(bad);
  return out;
}

std::string formatMemory(int64_t bytes) {
  static constexpr Unit kOut[] = {
      {"TB", 1LL << 40}, {"GB", 1LL << 30}, {"MB", 1LL << 20}, {"KB", 1LL << 10}};
  if (bytes > 0) {
    for (const auto& u : kOut)
      if (bytes % u.mult == 0) return std::to_string(bytes / u.mult) + u.name;
  }
  return std::to_string(bytes);
}

std::string formatCpu(int64_t millicores) {
  if (millicores % 1000 == 0) return std::to_string(millicores / 1000);
  return std::to_string(millicores) + "m";
}

}  // namespace lb::types
