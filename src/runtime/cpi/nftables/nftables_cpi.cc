// The nftables CPI: what is programmed is learned from one listing of the
// table (at open and on every info()), and kept up to date by each batch
// this driver runs, so that a change is computed against what is there
// without listing again: old VIPs, backends no endpoint uses any more and
// the UDP flows to gone backends are removed with it.

#include "runtime/cpi/nftables/nftables_cpi.h"

#include <nftables/libnftables.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "runtime/cpi/nftables/conntrack.h"
#include "runtime/cpi/nftables/ruleset.h"

namespace lb::runtime::cpi::nftables {
namespace {

constexpr const char* kWhat = "cpi nftables";

// nft's error text in one line: "Error: ..." and the command it names.
std::string oneLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string out;
  size_t lines = 0;
  for (size_t at = 0; at < text.size() && lines < 3; ++lines) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.find_first_not_of("^ ~") == std::string::npos) continue;  // the caret line
    if (!out.empty()) out += " | ";
    out += line;
  }
  return out.size() > 600 ? out.substr(0, 600) + "..." : out;
}

// One libnftables context: its netlink socket lives in the namespace it was
// made in. Output and errors are buffered, read after each command.
class Nft {
 public:
  static StatusOr<std::unique_ptr<Nft>> open() {
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return internalError("libnftables: no context");
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    return std::unique_ptr<Nft>(new Nft(ctx));
  }
  ~Nft() { nft_ctx_free(ctx_); }
  Nft(const Nft&) = delete;
  Nft& operator=(const Nft&) = delete;

  // Runs `commands` as one batch: all of them or none.
  Status run(const std::string& commands) {
    nft_ctx_output_set_flags(ctx_, 0);
    int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
    std::string err = takeError();
    (void)nft_ctx_get_output_buffer(ctx_);
    if (rc == 0) return Status::ok();
    return classify(err);
  }

  // The table as JSON; "" when there is no such table.
  StatusOr<std::string> listTable() {
    nft_ctx_output_set_flags(ctx_, NFT_CTX_OUTPUT_JSON);
    std::string cmd = std::string("list table ip ") + kTable;
    int rc = nft_run_cmd_from_buffer(ctx_, cmd.c_str());
    nft_ctx_output_set_flags(ctx_, 0);
    std::string err = takeError();
    const char* out = nft_ctx_get_output_buffer(ctx_);
    std::string json = out ? out : "";
    if (rc == 0) return json;
    if (err.find("No such file or directory") != std::string::npos) return std::string();
    return classify(err);
  }

 private:
  explicit Nft(nft_ctx* ctx) : ctx_(ctx) {}

  std::string takeError() {
    const char* e = nft_ctx_get_error_buffer(ctx_);
    return e ? e : "";
  }

  static Status classify(const std::string& err) {
    std::string msg = oneLine(err);
    if (msg.empty()) msg = "nft failed without a message";
    if (err.find("Operation not permitted") != std::string::npos)
      return Status(Code::kPermissionDenied, msg + " (CAP_NET_ADMIN needed)");
    return internalError(msg);
  }

  nft_ctx* ctx_;
};

class NftablesProxy : public ProxyRuntime {
 public:
  NftablesProxy(std::unique_ptr<Nft> nft, std::unique_ptr<Conntrack> ct)
      : nft_(std::move(nft)), ct_(std::move(ct)) {}

  // Adopts what the table holds and makes its skeleton whole.
  Status adopt() {
    std::lock_guard lock(mu_);
    auto listing = list();
    if (!listing.isOk()) return listing.status();
    if (!listing->found.empty())
      spdlog::info("{}: adopted {} endpoints of table ip {}", kWhat, listing->found.size(), kTable);
    if (skeletonOk_) return Status::ok();
    Batch b;
    b.skeleton();
    LB_RETURN_IF_ERROR(nft_->run(b.text()).withContext("declare table ip " + std::string(kTable)));
    skeletonOk_ = true;
    return Status::ok();
  }

  StatusOr<std::map<std::string, EndpointState>> info() override {
    std::lock_guard lock(mu_);
    auto listing = list();
    if (!listing.isOk()) return listing.status().withContext(std::string(kWhat) + ": info");
    return std::move(listing->served);
  }

  StatusOr<EndpointState> create(const types::Endpoint& endpoint) override {
    return apply(nullptr, endpoint, "create");
  }

  StatusOr<EndpointState> update(const EndpointState& state,
                                 const types::Endpoint& endpoint) override {
    return apply(&state, endpoint, "update");
  }

  Status destroy(const EndpointState& state) override {
    const std::string ctx = std::string(kWhat) + ": destroy endpoint '" + stateKey(state) + "'";
    LB_RETURN_IF_ERROR(validateState(state).withContext(ctx));
    std::lock_guard lock(mu_);
    std::vector<const EndpointState*> before{&state};
    if (auto it = seen_.find(state.name); !state.name.empty() && it != seen_.end())
      before.push_back(&it->second);
    std::set<std::string> vips;
    for (const auto* s : before) {
      if (!ownedByOther(s->ip, state.name)) vips.insert(s->ip);
    }
    Batch b;
    if (!skeletonOk_) b.skeleton();
    for (const auto& vip : vips) b.removeVip(vip, targetOf(vip));
    removeUnusedHairpins(b, before, {}, state.name, vips);
    std::vector<UdpFlows> flows;
    flows.reserve(vips.size());
    for (const auto& vip : vips) flows.push_back({vip, 0, UdpFlows::Which::kAll, {}});
    LB_RETURN_IF_ERROR(run(b).withContext(ctx));
    if (!state.name.empty()) seen_.erase(state.name);
    forgetVips(vips);
    forgetFlows(flows, ctx);
    return Status::ok();
  }

 private:
  StatusOr<EndpointState> apply(const EndpointState* given, const types::Endpoint& endpoint,
                                const char* verb) {
    auto wanted = programmedState(endpoint);
    std::string ctx = std::string(kWhat) + ": " + verb + " endpoint '" +
                      (wanted.isOk() ? wanted->name : endpoint.meta.selflink) + "'";
    if (!wanted.isOk()) return wanted.status().withContext(ctx);
    const EndpointState& want = *wanted;
    if (given) {
      LB_RETURN_IF_ERROR(validateState(*given).withContext(ctx + ": its state"));
      if (!given->name.empty() && given->name != want.name)
        return invalidArgument(ctx + ": the state given is of endpoint '" + given->name + "'");
    }
    std::lock_guard lock(mu_);
    if (auto other = ownedByOther(want.ip, want.name))
      return conflict(ctx + ": VIP " + want.ip + " is programmed for endpoint '" + *other + "'");
    std::vector<const EndpointState*> before;
    if (given) before.push_back(given);
    if (auto it = seen_.find(want.name); it != seen_.end()) before.push_back(&it->second);
    std::set<std::string> gone;  // VIPs this endpoint had
    for (const auto* s : before) {
      if (s->ip != want.ip && !ownedByOther(s->ip, want.name)) gone.insert(s->ip);
    }
    Batch b;
    if (!skeletonOk_) b.skeleton();
    // An element leading elsewhere (set by hand) cannot be added over.
    if (targetOf(want.ip) != chainName(want.ip)) b.removeElement(want.ip, targetOf(want.ip));
    b.program(want);
    for (const auto& vip : gone) b.removeVip(vip, targetOf(vip));
    std::set<std::string> taken = gone;
    taken.insert(want.ip);
    removeUnusedHairpins(b, before, backendIps(want), want.name, taken);
    std::vector<UdpFlows> flows = flowsToForget(before, want);
    LB_RETURN_IF_ERROR(run(b).withContext(ctx));
    forgetVips(taken);
    seen_[want.name] = want;
    targets_[want.ip] = chainName(want.ip);
    forgetFlows(flows, ctx);
    return want;
  }

  // Hairpin elements of the backends of `before` that neither `keep` nor
  // any other endpoint (not `name`, not on `vips`) still uses.
  void removeUnusedHairpins(Batch& b, const std::vector<const EndpointState*>& before,
                            std::set<std::string> keep, const std::string& name,
                            const std::set<std::string>& vips) {
    for (const auto& [key, s] : seen_) {
      if (key == name || vips.count(s.ip)) continue;
      auto ips = backendIps(s);
      keep.insert(ips.begin(), ips.end());
    }
    std::set<std::string> dropped;
    for (const auto* s : before) {
      for (const auto& ip : backendIps(*s)) {
        if (!keep.count(ip) && dropped.insert(ip).second) b.removeHairpin(ip);
      }
    }
  }

  // The UDP flows that a move from `before` to `want` leaves pointing at
  // nothing (or at no DNAT at all).
  static std::vector<UdpFlows> flowsToForget(const std::vector<const EndpointState*>& before,
                                             const EndpointState& want) {
    std::vector<UdpFlows> out;
    auto wanted = [&](int port) -> const PortState* {
      for (const auto& p : want.ports) {
        if (p.protocol == "udp" && p.port == port) return &p;
      }
      return nullptr;
    };
    std::set<int> served;  // udp ports of the VIP that had a backend
    for (const auto* s : before) {
      for (const auto& p : s->ports) {
        if (p.protocol != "udp") continue;
        const PortState* w = s->ip == want.ip ? wanted(p.port) : nullptr;
        if (!w) {
          out.push_back({s->ip, p.port, UdpFlows::Which::kAll, {}});
          continue;
        }
        if (!p.backends.empty()) served.insert(p.port);
        UdpFlows to{want.ip, p.port, UdpFlows::Which::kTo, {}};
        for (const auto& bk : p.backends) {
          if (std::find(w->backends.begin(), w->backends.end(), bk) == w->backends.end())
            to.backends.push_back(bk);
        }
        if (!to.backends.empty()) out.push_back(std::move(to));
      }
    }
    for (const auto& p : want.ports) {
      if (p.protocol == "udp" && !p.backends.empty() && !served.count(p.port))
        out.push_back({want.ip, p.port, UdpFlows::Which::kNotNatted, {}});
    }
    return out;
  }

  // Lists the table and takes it as the truth.
  StatusOr<Listing> list() {
    auto json = nft_->listTable();
    if (!json.isOk()) return json.status();
    Listing listing;
    if (!json->empty()) {
      auto parsed = parseListing(*json);
      if (!parsed.isOk()) return parsed.status();
      listing = std::move(*parsed);
    }
    seen_ = listing.found;
    targets_ = listing.targets;
    skeletonOk_ = listing.skeleton;
    return listing;
  }

  Status run(const Batch& b) {
    Status s = nft_->run(b.text());
    // A failed batch changed nothing, but what failed may be the skeleton
    // (removed by hand): the next batch declares it again.
    skeletonOk_ = s.isOk();
    return s;
  }

  // The name of another endpoint programmed on `vip` (a stale state must
  // not take its VIP away), or nullopt.
  std::optional<std::string> ownedByOther(const std::string& vip, const std::string& name) const {
    for (const auto& [key, s] : seen_) {
      if (s.ip == vip && !s.name.empty() && s.name != name) return s.name;
    }
    return std::nullopt;
  }

  std::string targetOf(const std::string& vip) const {
    auto it = targets_.find(vip);
    return it != targets_.end() ? it->second : chainName(vip);
  }

  void forgetVips(const std::set<std::string>& vips) {
    std::erase_if(seen_, [&](const auto& kv) { return vips.count(kv.second.ip) > 0; });
    for (const auto& vip : vips) targets_.erase(vip);
  }

  void forgetFlows(const std::vector<UdpFlows>& flows, const std::string& ctx) {
    auto n = ct_->forget(flows);
    if (!n.isOk()) {
      spdlog::warn("{}: UDP flows of removed backends not forgotten: {}", ctx,
                   n.status().message());
    } else if (*n > 0) {
      spdlog::debug("{}: {} UDP flows forgotten", ctx, *n);
    }
  }

  std::mutex mu_;
  std::unique_ptr<Nft> nft_;
  std::unique_ptr<Conntrack> ct_;
  std::map<std::string, EndpointState> seen_;   // by stateKey, damaged parts included
  std::map<std::string, std::string> targets_;  // VIP -> chain of its map element
  bool skeletonOk_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<ProxyRuntime>> open() {
  auto nft = Nft::open();
  if (!nft.isOk()) return nft.status();
  auto ct = Conntrack::open();
  if (!ct.isOk()) return ct.status();
  auto proxy = std::make_unique<NftablesProxy>(std::move(*nft), std::move(*ct));
  LB_RETURN_IF_ERROR(proxy->adopt());
  return std::unique_ptr<ProxyRuntime>(std::move(proxy));
}

}  // namespace lb::runtime::cpi::nftables
