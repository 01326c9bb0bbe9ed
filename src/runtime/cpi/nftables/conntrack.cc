#include "runtime/cpi/nftables/conntrack.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

namespace lb::runtime::cpi::nftables {
namespace {

// A UdpFlows with its addresses in network byte order, as conntrack has them.
struct Match {
  uint32_t vip = 0;
  uint16_t port = 0;  // 0 = any
  UdpFlows::Which which = UdpFlows::Which::kAll;
  std::vector<std::pair<uint32_t, uint16_t>> to;
};

struct Dump {
  std::vector<Match> matches;
  std::vector<nf_conntrack*> doomed;
};

uint32_t addr(const std::string& ip) {
  in_addr a{};
  ::inet_pton(AF_INET, ip.c_str(), &a);
  return a.s_addr;
}

bool matches(const Match& m, const nf_conntrack* ct) {
  if (nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST) != m.vip) return false;
  if (m.port && nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST) != m.port) return false;
  bool natted = nfct_attr_is_set(ct, ATTR_STATUS) > 0 &&
                (nfct_get_attr_u32(ct, ATTR_STATUS) & IPS_DST_NAT) != 0;
  switch (m.which) {
    case UdpFlows::Which::kAll:
      return true;
    case UdpFlows::Which::kNotNatted:
      return !natted;
    case UdpFlows::Which::kTo: {
      uint32_t ip = nfct_get_attr_u32(ct, ATTR_REPL_IPV4_SRC);
      uint16_t port = nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC);
      for (const auto& [bip, bport] : m.to) {
        if (natted && ip == bip && port == bport) return true;
      }
      return false;
    }
  }
  return false;
}

int onEntry(enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
  auto* dump = static_cast<Dump*>(data);
  if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_UDP) return NFCT_CB_CONTINUE;
  for (const auto& m : dump->matches) {
    if (matches(m, ct)) {
      dump->doomed.push_back(ct);
      return NFCT_CB_STOLEN;  // ours now; freed after the delete
    }
  }
  return NFCT_CB_CONTINUE;
}

Status errnoStatus(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  return e == EPERM ? Status(Code::kPermissionDenied, msg) : internalError(msg);
}

}  // namespace

StatusOr<std::unique_ptr<Conntrack>> Conntrack::open() {
  nfct_handle* h = nfct_open(CONNTRACK, 0);
  if (!h) return errnoStatus("conntrack: open netlink");
  return std::unique_ptr<Conntrack>(new Conntrack(h));
}

Conntrack::~Conntrack() { nfct_close(h_); }

StatusOr<int> Conntrack::forget(const std::vector<UdpFlows>& flows) {
  if (flows.empty()) return 0;
  Dump dump;
  for (const auto& f : flows) {
    Match m{addr(f.vip), htons(static_cast<uint16_t>(f.port)), f.which, {}};
    for (const auto& b : f.backends) m.to.emplace_back(addr(b.ip), htons(b.port));
    dump.matches.push_back(std::move(m));
  }
  nfct_callback_register(h_, NFCT_T_ALL, onEntry, &dump);
  uint32_t family = AF_INET;
  int rc = nfct_query(h_, NFCT_Q_DUMP, &family);
  Status failed = rc < 0 ? errnoStatus("conntrack: dump") : Status::ok();
  nfct_callback_unregister(h_);
  int deleted = 0;
  for (auto* ct : dump.doomed) {
    // Gone meanwhile (ENOENT) is as good as deleted.
    if (failed.isOk() && nfct_query(h_, NFCT_Q_DESTROY, ct) == 0) ++deleted;
    nfct_destroy(ct);
  }
  if (!failed.isOk()) return failed;
  return deleted;
}

}  // namespace lb::runtime::cpi::nftables
