#include "controller/loops/loop.h"

namespace lb::controller::loops {

std::string Context::newName() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string out(10, '0');
  for (auto& c : out) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

std::string Context::now() const { return formatRfc3339(clock.now()); }

}  // namespace lb::controller::loops
