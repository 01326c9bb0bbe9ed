#pragma once

// IPAM: work key "g/ipam". Restart safety for the service-address
// allocator: adopts the addresses endpoints hold and frees those whose
// service and endpoint are both gone. (Services allocate and release their
// own addresses through the endpoints.)

#include "controller/loops/loop.h"

namespace lb::controller::loops {

class IpamLoop final : public Loop {
 public:
  explicit IpamLoop(Context& ctx) : ctx_(ctx) {}

  std::string_view name() const override { return "ipam"; }
  char prefix() const override { return 'g'; }
  std::vector<detail::Kind> kinds() const override { return {detail::Kind::kIpam}; }
  void onChange(const Change&) override { ctx_.queue.enqueue(kKey); }
  void reconcile(const std::string& id) override;
  void resync() override { ctx_.queue.enqueue(kKey); }

 private:
  static constexpr const char* kKey = "g/ipam";
  Context& ctx_;
};

}  // namespace lb::controller::loops
