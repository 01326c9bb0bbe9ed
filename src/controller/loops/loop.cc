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

types::Meta Context::childMeta(const types::Meta& parent) {
  types::Meta m;
  m.name = newName();
  m.namespace_ = parent.namespace_;
  m.selflink = parent.selflink + ":" + m.name;
  m.labels = parent.labels;
  m.created = m.updated = now();
  return m;
}

}  // namespace lb::controller::loops
