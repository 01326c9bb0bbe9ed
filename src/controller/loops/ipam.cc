#include "controller/loops/ipam.h"

namespace lb::controller::loops {

void IpamLoop::reconcile(const std::string&) {
  IpamState& state = ctx_.cache.ipam();
  for (const auto& [sl, ep] : ctx_.cache.endpoints()) {
    if (ep.spec.ip.empty() || state.ipam.addressOf(sl) == ep.spec.ip) continue;
    if (state.ipam.adopt(sl, ep.spec.ip)) {
      state.dirty = true;
    } else {
      ctx_.queue.enqueue('s', sl);  // outside the range or taken: the service gets a new one
    }
  }
  std::vector<std::string> gone;
  for (const auto& [owner, ip] : state.ipam.owners()) {
    auto svc = ctx_.cache.services().find(owner);
    bool wants = svc != ctx_.cache.services().end() && !svc->second.spec.network.ports.empty();
    if (!wants && !ctx_.cache.endpoints().count(owner)) gone.push_back(owner);
  }
  for (const auto& owner : gone) {
    state.ipam.release(owner);
    state.dirty = true;
  }
}

}  // namespace lb::controller::loops
