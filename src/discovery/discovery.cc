#include "discovery/discovery.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "client/api_link.h"
#include "discovery/dns_server.h"
#include "discovery/feed.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/config/run.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/component.h"

namespace lb::discovery {

namespace {

using namespace std::chrono_literals;
constexpr auto kHeartbeat = 5s;
constexpr uint32_t kRecordTtl = 5;  // seconds: a deleted service is gone from caches soon

bool wildcard(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

bool loopback(const std::string& addr) { return addr.rfind("127.", 0) == 0 || addr == "::1"; }

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "discovery";
  return buf;
}

// Upstreams from the config, else /etc/resolv.conf; never ourselves.
StatusOr<std::vector<Upstream>> upstreams(const config::DiscoveryConfig& c) {
  std::vector<std::string> names = c.resolvers;
  if (names.size() == 1 && names.front() == "none") return std::vector<Upstream>{};
  const bool fromFile = names.empty();
  if (fromFile) names = resolvConfServers("/etc/resolv.conf");
  std::vector<Upstream> out;
  for (const auto& n : names) {
    auto u = parseUpstream(n);
    if (!u.isOk()) {
      if (fromFile) continue;  // e.g. a scoped IPv6 address: not ours to refuse
      return u.status();
    }
    const bool self = u->port == c.dns.port &&
                      (u->address == c.dns.host || (wildcard(c.dns.host) && loopback(u->address)));
    if (self) {
      spdlog::warn("discovery: resolver {} is this server itself; not used", u->toString());
      continue;
    }
    out.push_back(*u);
  }
  return out;
}

}  // namespace

std::string advertisedAddress(const std::string& bindHost) {
  if (!wildcard(bindHost)) return bindHost;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    const std::string name = i->ifa_name;
    if (name == "lb0" || name.rfind("lb.", 0) == 0 || name.rfind("docker", 0) == 0 ||
        name.rfind("br-", 0) == 0 || name.rfind("veth", 0) == 0)
      continue;
    char buf[INET_ADDRSTRLEN];
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

class DiscoveryProcess::Impl {
 public:
  Status start(const config::DiscoveryConfig& c, std::shared_ptr<storage::Storage> store) {
    const uint32_t maxTtl = static_cast<uint32_t>(
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(c.ttl).count()));
    address_ = advertisedAddress(c.dns.host);
    ZoneOptions zo;
    zo.domain = c.domain.empty() ? "lb.local" : c.domain;
    zo.ttl = std::min(kRecordTtl, c.ttl.count() > 0 ? maxTtl : kRecordTtl);
    zo.nsAddress = address_;
    auto zone = Zone::create(zo);
    if (!zone.isOk()) return zone.status();
    zone_ = std::move(*zone);

    auto ups = upstreams(c);
    if (!ups.isOk()) return ups.status();
    DnsServerOptions so;
    so.host = c.dns.host.empty() ? "0.0.0.0" : c.dns.host;
    so.port = static_cast<uint16_t>(c.dns.port);
    so.forwarder.upstreams = *ups;
    if (c.ttl.count() > 0) so.forwarder.maxTtl = std::chrono::seconds(maxTtl);
    so.responder.recursion = !ups->empty();
    auto server = DnsServer::start(*zone_, so);
    if (!server.isOk()) return server.status();
    server_ = std::move(*server);

    feed_ = std::make_unique<Feed>(std::move(store), *zone_);
    feed_->start();

    std::string list;
    for (const auto& u : *ups) list += (list.empty() ? "" : ", ") + u.toString();
    spdlog::info("discovery: serving {} on {}:{} (udp, tcp), TTL {} s; outside names {}", zo.domain,
                 so.host, server_->port(), zo.ttl,
                 ups->empty() ? "refused (no resolver)" : "forwarded to " + list);

    name_ = hostName();
    if (c.dns.port != 53) name_ += "-" + std::to_string(server_->port());
    if (!c.api.uri.empty()) {
      client::ClientOptions co = client::apiLinkOptions(c.api, c.token);
      co.requestTimeout = 5s;
      co.maxRetries = 0;
      auto cl = client::Client::create(co);
      if (!cl.isOk()) return cl.status().withContext("the API client");
      client_ = std::move(*cl);
      spec_.hostname = hostName();
      spec_.ip = address_;
      spec_.port = server_->port();
      spec_.domain = zo.domain;
      heartbeat_ = std::thread([this] { beat(); });
    } else {
      spdlog::info("discovery: no --api-uri: not registered with the cluster");
    }
    return Status::ok();
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
    if (server_) server_->stop();
    if (feed_) feed_->stop();
  }

  uint16_t port() const { return server_ ? server_->port() : 0; }
  const std::string& name() const { return name_; }

 private:
  // Registers, then reports status every kHeartbeat; registers again when
  // the API lost us. Failures are logged when the state changes only.
  void beat() {
    bool registered = false, failing = false;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      Status s = Status::ok();
      if (!registered) {
        types::Discovery d;
        d.meta.name = name_;
        d.spec = spec_;
        auto r = client_->put("/discovery/" + name_, types::toJson(d));
        s = r.isOk() ? Status::ok() : r.status();
        registered = s.isOk();
        if (registered) spdlog::info("discovery: registered as '{}' ({}:{})", name_, spec_.ip, spec_.port);
      }
      if (registered) {
        types::Discovery d;
        d.status.online = true;
        d.status.ready = feed_->ready();
        d.status.records = static_cast<int64_t>(zone_->records());
        d.status.queries = static_cast<int64_t>(server_->queries());
        auto r = client_->put("/discovery/" + name_ + "/status", types::toJson(d));
        s = r.isOk() ? Status::ok() : r.status();
        if (s.code() == Code::kNotFound) registered = false;
      }
      if (!s.isOk() && !failing) spdlog::warn("discovery: reporting to the API: {}", s.message());
      if (s.isOk() && failing) spdlog::info("discovery: reporting to the API again");
      failing = !s.isOk();
      lock.lock();
      cv_.wait_for(lock, registered ? kHeartbeat : 1s, [this] { return stopping_; });
    }
  }

  std::unique_ptr<Zone> zone_;
  std::unique_ptr<DnsServer> server_;
  std::unique_ptr<Feed> feed_;
  std::unique_ptr<client::Client> client_;
  types::DiscoverySpec spec_;
  std::string name_, address_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

StatusOr<std::unique_ptr<DiscoveryProcess>> DiscoveryProcess::start(
    const config::DiscoveryConfig& config, std::shared_ptr<storage::Storage> store) {
  auto impl = std::make_unique<Impl>();
  if (Status s = impl->start(config, std::move(store)); !s.isOk()) {
    impl->stop();
    return s;
  }
  return std::unique_ptr<DiscoveryProcess>(new DiscoveryProcess(std::move(impl)));
}

DiscoveryProcess::DiscoveryProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiscoveryProcess::~DiscoveryProcess() { stop(); }
void DiscoveryProcess::stop() { impl_->stop(); }
uint16_t DiscoveryProcess::port() const { return impl_->port(); }
const std::string& DiscoveryProcess::name() const { return impl_->name(); }

int run(const config::DiscoveryConfig& config) {
  config::blockShutdownSignals();
  auto store = storage::open(config.storage);
  if (!store.isOk()) {
    spdlog::error("discovery: {}", store.status().withContext("opening the store").message());
    return 1;
  }
  auto process =
      DiscoveryProcess::start(config, std::shared_ptr<storage::Storage>(std::move(*store)));
  if (!process.isOk()) {
    spdlog::error("discovery: {}", process.status().message());
    return process.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  const int sig = config::waitForShutdownSignal();
  spdlog::info("discovery: stopping (signal {})", sig);
  (*process)->stop();
  return 0;
}

}  // namespace lb::discovery
