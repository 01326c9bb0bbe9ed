#pragma once

// Forgetting UDP flows through a VIP (libnetfilter_conntrack). A UDP "flow"
// lives in conntrack for as long as packets keep coming, and NAT is decided
// once per flow: a client that keeps sending to VIP:port would keep going to
// a backend that is gone (or, for a flow that began before the VIP was
// programmed, never be DNATed at all). Deleting the entry makes the next
// packet a new flow that the rules place again. TCP is left alone: its
// connections end by themselves, and the rules refuse new ones.

#include <memory>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cpi.h"

struct nfct_handle;

namespace lb::runtime::cpi::nftables {

// Which UDP flows to VIP[:port] to forget.
struct UdpFlows {
  enum class Which {
    kAll,        // every flow (the port or the VIP is gone)
    kTo,         // flows DNATed to one of `backends` (they left)
    kNotNatted,  // flows never DNATed (the port had no backend until now)
  };
  std::string vip;
  int port = 0;  // 0 = every port
  Which which = Which::kAll;
  std::vector<Backend> backends;  // kTo only
};

// One netlink conntrack handle, opened in the network namespace of the
// calling thread and acting there from then on. Not thread-safe.
class Conntrack {
 public:
  static StatusOr<std::unique_ptr<Conntrack>> open();
  ~Conntrack();
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  // Deletes the UDP entries any of `flows` matches (one dump of the table);
  // the number deleted.
  StatusOr<int> forget(const std::vector<UdpFlows>& flows);

 private:
  explicit Conntrack(nfct_handle* h) : h_(h) {}
  nfct_handle* h_;
};

}  // namespace lb::runtime::cpi::nftables
