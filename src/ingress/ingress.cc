#include "ingress/ingress.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "client/api_link.h"
#include "ingress/haproxy.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/config/run.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/component.h"

namespace lb::ingress {

namespace {

using namespace std::chrono_literals;
constexpr auto kHeartbeat = 5s;
constexpr auto kPollWait = 20s;
constexpr size_t kMaxManifest = 64u << 20;  // bytes of one ingress manifest

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "ingress";
  return buf;
}

}  // namespace

class IngressProcess::Impl {
 public:
  Status start(const config::IngressConfig& c, IngressOptions o) {
    options_ = std::move(o);
    if (c.api.uri.empty())
      return invalidArgument("the ingress follows the cluster through the API: set --api-uri",
                             "api.uri");
    if (::access(c.haproxy.exec.c_str(), X_OK) != 0)
      return invalidArgument("no HAProxy at " + c.haproxy.exec +
                                 " (install Debian's haproxy, or set --haproxy-exec)",
                             "haproxy.exec");
    name_ = options_.name.empty() ? hostName() : options_.name;
    haproxy_ = std::make_unique<Haproxy>(
        HaproxyOptions{c.haproxy.exec, c.haproxy.configPath, c.haproxy.pidPath});
    cfg_.dir = haproxy_->dir();
    cfg_.bindHost = options_.bindHost;
    cfg_.statsPort = c.haproxy.statsPort;
    cfg_.statsUser = c.haproxy.statsUsername;
    cfg_.statsPassword = c.haproxy.statsPassword;
    if (int pid = haproxy_->masterPid())
      spdlog::info("ingress: adopting the running HAProxy (master pid {})", pid);

    client::ClientOptions co = client::apiLinkOptions(c.api, c.token);
    co.requestTimeout = kPollWait + 10s;
    co.maxRetries = 0;
    auto cl = client::Client::create(co);
    if (!cl.isOk()) return cl.status().withContext("the API client");
    client_ = std::move(*cl);
    spec_.hostname = hostName();
    spec_.port = 0;
    feed_ = std::thread([this] { follow(); });
    heartbeat_ = std::thread([this] { beat(); });
    return Status::ok();
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    cancel_.cancel();  // the long-poll in flight ends now
    if (heartbeat_.joinable()) heartbeat_.join();
    if (feed_.joinable()) feed_.join();
    if (haproxy_) haproxy_->stop();
  }

  const std::string& name() const { return name_; }

 private:
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  bool sleepFor(std::chrono::milliseconds d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return stopping_; });
  }

  // Long-polls the manifest and applies every new one.
  void follow() {
    int64_t revision = -1;
    bool failing = false;
    while (!stopping()) {
      if (!registered_.load()) {
        if (!sleepFor(200ms)) return;
        continue;
      }
      auto body = poll(revision);
      if (stopping()) return;
      if (!body.isOk()) {
        if (!failing) spdlog::warn("ingress: reading the manifest: {}", body.status().message());
        failing = true;
        if (body.status().code() == Code::kNotFound) registered_ = false;
        if (!sleepFor(1s)) return;
        continue;
      }
      if (failing) spdlog::info("ingress: reading the manifest again");
      failing = false;
      int64_t next = 0;
      auto m = decodeManifest(*body, &next);
      if (!m.isOk()) {
        spdlog::warn("ingress: {}", m.status().message());
        if (!sleepFor(1s)) return;
        continue;
      }
      revision = next;
      apply(*m);
    }
  }

  // One answer of the manifest long-poll (the whole manifest without a
  // revision), read as a stream so stop() can cut it; at most kMaxManifest.
  StatusOr<std::string> poll(int64_t revision) {
    http::QueryParams q;
    if (revision >= 0) q = {{"revision", std::to_string(revision)}, {"timeout", "20s"}};
    std::string body;
    bool tooBig = false;
    Status s = client_->stream(
        "/ingress/" + name_ + "/spec", q,
        [&](std::string_view chunk) {
          tooBig = body.size() + chunk.size() > kMaxManifest;
          if (!tooBig) body.append(chunk);
          return !tooBig;
        },
        &cancel_);
    if (tooBig) return unavailable("the ingress manifest is over 64 MiB");
    if (!s.isOk()) return s;
    return body;
  }

  // Makes HAProxy serve `m`: the Runtime API when only servers changed,
  // else a checked reload. Then the route states are reported.
  void apply(const Manifest& m) {
    Model next = buildModel(m, options_.fallbackDomain);
    keepSlots(next, running_);
    std::vector<types::IngressRouteState> states;
    std::string nextLayout = layout(next, cfg_);
    const bool sameLayout =
        applied_ && nextLayout == runningLayout_ && haproxy_->masterPid() != 0;
    Status s = Status::ok();
    if (sameLayout) {
      std::vector<std::string> cmds;
      auto assign = assign_;
      for (const auto& b : next.backends) {
        auto more = runtimeCommands(b, assign[b.name]);
        cmds.insert(cmds.end(), more.begin(), more.end());
      }
      s = haproxy_->runtime(cmds);
      if (s.isOk()) {
        assign_ = std::move(assign);
        if (!cmds.empty()) spdlog::debug("ingress: {} runtime commands", cmds.size());
      } else {
        spdlog::warn("ingress: {}; reloading instead", s.message());
      }
    }
    if (!sameLayout || !s.isOk()) {
      s = haproxy_->apply(renderConfig(next, cfg_), next.certs);
      if (s.isOk()) {
        assign_.clear();
        for (const auto& b : next.backends) assign_[b.name] = initialAssignment(b);
        spdlog::info("ingress: HAProxy serves {} routes ({} backends){}", next.routes.size(),
                     next.backends.size(), applied_ ? " after a reload" : "");
      } else {
        spdlog::error("ingress: {}", s.message());
      }
    }
    if (s.isOk()) {
      running_ = next;
      runningLayout_ = std::move(nextLayout);
      applied_ = true;
      for (const auto& sl : next.routes) states.push_back({sl, "ready", ""});
    } else {
      // The previous config keeps serving; the routes of this one say why not.
      for (const auto& sl : next.routes) states.push_back({sl, "error", s.message()});
    }
    for (const auto& [sl, why] : next.errors) states.push_back({sl, "error", why});
    {
      std::lock_guard lock(mu_);
      states_ = std::move(states);
      ready_ = s.isOk();
      dirty_ = true;
    }
    cv_.notify_all();
  }

  // Registers, then reports status every kHeartbeat and after each apply.
  void beat() {
    bool failing = false;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      types::Ingress st;
      st.status.online = true;
      st.status.ready = ready_;
      st.status.routes = states_;
      dirty_ = false;
      lock.unlock();
      Status s = Status::ok();
      if (!registered_.load()) {
        types::Ingress reg;
        reg.meta.name = name_;
        reg.spec = spec_;
        auto r = client_->put("/ingress/" + name_, types::toJson(reg));
        s = r.isOk() ? Status::ok() : r.status();
        if (s.isOk()) {
          registered_ = true;
          spdlog::info("ingress: registered as '{}'", name_);
        }
      }
      if (registered_.load()) {
        auto r = client_->put("/ingress/" + name_ + "/status", types::toJson(st));
        s = r.isOk() ? Status::ok() : r.status();
        if (s.code() == Code::kNotFound) registered_ = false;
      }
      if (!s.isOk() && !failing) spdlog::warn("ingress: reporting to the API: {}", s.message());
      if (s.isOk() && failing) spdlog::info("ingress: reporting to the API again");
      failing = !s.isOk();
      lock.lock();
      cv_.wait_for(lock, registered_.load() ? kHeartbeat : 1s,
                   [this] { return stopping_ || dirty_; });
    }
  }

  IngressOptions options_;
  std::string name_;
  std::unique_ptr<Haproxy> haproxy_;
  ConfigOptions cfg_;
  std::unique_ptr<client::Client> client_;
  types::ComponentSpec spec_;
  // The feed thread's own: what HAProxy runs.
  Model running_;
  std::string runningLayout_;  // layout(running_), kept: every endpoint change compares it
  bool applied_ = false;
  std::map<std::string, std::map<std::string, int>> assign_;  // backend -> server -> slot
  std::atomic<bool> registered_{false};
  runtime::CancelToken cancel_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, ready_ = false, dirty_ = false;
  std::vector<types::IngressRouteState> states_;
  std::thread feed_, heartbeat_;
};

StatusOr<std::unique_ptr<IngressProcess>> IngressProcess::start(
    const config::IngressConfig& config, IngressOptions options) {
  auto impl = std::make_unique<Impl>();
  if (Status s = impl->start(config, std::move(options)); !s.isOk()) {
    impl->stop();
    return s;
  }
  return std::unique_ptr<IngressProcess>(new IngressProcess(std::move(impl)));
}

IngressProcess::IngressProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngressProcess::~IngressProcess() { stop(); }
void IngressProcess::stop() { impl_->stop(); }
const std::string& IngressProcess::name() const { return impl_->name(); }

int run(const config::IngressConfig& config) {
  config::blockShutdownSignals();
  IngressOptions o;
  o.fallbackDomain = "lb.localhost";
  auto process = IngressProcess::start(config, o);
  if (!process.isOk()) {
    spdlog::error("ingress: {}", process.status().message());
    return process.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  const int sig = config::waitForShutdownSignal();
  spdlog::info("ingress: stopping (signal {})", sig);
  (*process)->stop();
  return 0;
}

}  // namespace lb::ingress
