#include "api/handlers/node_agent.h"

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include "api/registered.h"
#include "client/client.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/http/errors.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/types/node.h"
#include "lastbackend/types/pod.h"

namespace lb::api {

namespace keys = storage::keys;
using http::Request;
using http::Response;

std::optional<int64_t> parseRevision(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0)
    return std::nullopt;
  return n;
}

std::optional<std::chrono::milliseconds> parseWait(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t end = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &end);
  } catch (...) {
    return std::nullopt;
  }
  if (n < 0) return std::nullopt;
  std::string unit = text.substr(end);
  if (unit.empty() || unit == "s") return std::chrono::milliseconds(n * 1000);
  if (unit == "ms") return std::chrono::milliseconds(n);
  return std::nullopt;
}

NodeSpecWaiters::NodeSpecWaiters(storage::Storage* store) : store_(store) {}

NodeSpecWaiters::~NodeSpecWaiters() { stop(); }

size_t NodeSpecWaiters::waiting() const {
  std::lock_guard lock(mu_);
  return count_;
}

namespace {

// One watch serves both: "/manifest/node/<node>/..." (one node's) and
// "/manifests/cluster/..." (every node's).
constexpr std::string_view kManifests = "/manifest";
constexpr std::string_view kNodeManifests = "/manifest/node/";

bool isRouteManifest(std::string_view key) {
  static const std::string kRoutes = keys::clusterRouteManifestsPrefix();
  return key.starts_with(kRoutes);
}

bool isClusterNetwork(std::string_view key) {
  static const std::string kEndpoints = keys::clusterEndpointManifestsPrefix();
  static const std::string kSubnets = keys::clusterSubnetManifestsPrefix();
  return key.starts_with(kEndpoints) || key.starts_with(kSubnets);
}

}  // namespace

// From the oldest revision the store keeps: the replay fills lastChange_, so
// a node that took its listing at any revision still in the history waits
// exactly for the changes after it. Store calls only: the caller holds no lock.
StatusOr<NodeSpecWaiters::OpenedWatch> NodeSpecWaiters::openWatch() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto info = store_->info();
    if (!info.isOk()) return info.status();
    auto w = store_->watch(kManifests, info->oldestRevision);
    if (w.isOk()) return OpenedWatch{std::move(*w), info->oldestRevision};
    if (w.status().code() != Code::kOutOfRange) return w.status();  // compacted meanwhile: again
  }
  return unavailable("the manifest history moves faster than a watch can start");
}

// Runs on an I/O thread (the parked request's callback): no store call here.
// The watch thread opens the watch; a request that comes meanwhile parks and
// is sorted once the watch is open (ensureWatch).
void NodeSpecWaiters::wait(const std::string& node, int64_t revision,
                           std::chrono::steady_clock::time_point deadline,
                           std::shared_ptr<http::Responder> responder,
                           std::function<http::Response()> answer) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && !thread_.joinable()) thread_ = std::thread([this] { run(); });
    auto last = lastChange_.find(node);
    bool changed =
        (last != lastChange_.end() && last->second > revision) || lastClusterChange_ > revision;
    if (!stopping_ && (!watch_ || (revision >= since_ && !changed))) {
      waiting_[node].push_back({revision, deadline, std::move(responder), std::move(answer)});
      ++count_;
      return;
    }
  }
  responder->respondFrom(std::move(answer));
}

// Opens the watch when there is none. The new watch replays from the oldest
// revision kept (since_), so a waiter at or after it is woken by the replay
// if its node changed; one before it may have missed changes and gets its
// listing now, as does everyone when no watch can be opened. False when
// stopping.
bool NodeSpecWaiters::ensureWatch() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (watch_) return true;
  }
  auto opened = openWatch();
  std::vector<Waiter> ready;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (opened.isOk()) {
      watch_ = std::move(opened->stream);
      since_ = opened->since;
    } else {
      spdlog::warn("api: node spec watch: {}", opened.status().toString());
    }
    sweepLocked([&](const Waiter& w) { return !watch_ || w.revision < since_ ? kAnswer : kKeep; },
                ready);
  }
  for (auto& w : ready) w.responder->respondFrom(std::move(w.answer));
  return true;
}

// Under mu_: moves the waiters that `events` or the clock answered to `ready`.
void NodeSpecWaiters::collectLocked(const std::vector<storage::Event>& events,
                                    std::chrono::steady_clock::time_point now,
                                    std::vector<Waiter>& ready) {
  int64_t cluster = 0;  // the last change of the cluster network among `events`
  for (const auto& e : events) {
    if (isClusterNetwork(e.key)) {
      cluster = std::max(cluster, e.revision);
      continue;
    }
    std::string node = kIngresses;  // route manifests: the ingresses' group
    if (!isRouteManifest(e.key)) {
      if (!std::string_view(e.key).starts_with(kNodeManifests)) continue;
      std::string_view rest = std::string_view(e.key).substr(kNodeManifests.size());
      node = std::string(rest.substr(0, rest.find('/')));
    }
    auto& last = lastChange_[node];
    last = std::max(last, e.revision);
    auto it = waiting_.find(node);
    if (it == waiting_.end()) continue;
    auto& ws = it->second;
    for (auto w = ws.begin(); w != ws.end();) {
      if (w->revision < e.revision) {
        ready.push_back(std::move(*w));
        w = ws.erase(w);
        --count_;
      } else {
        ++w;
      }
    }
    if (ws.empty()) waiting_.erase(it);
  }
  lastClusterChange_ = std::max(lastClusterChange_, cluster);
  // A subnet or endpoint changed: every node's answer did. Then timeouts
  // and clients that went away.
  sweepLocked(
      [&](const Waiter& w) {
        if (w.responder->cancelled()) return kDrop;
        return now >= w.deadline || w.revision < cluster ? kAnswer : kKeep;
      },
      ready);
}

template <class Decide>
void NodeSpecWaiters::sweepLocked(Decide decide, std::vector<Waiter>& ready) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& ws = it->second;
    for (auto w = ws.begin(); w != ws.end();) {
      Sweep d = decide(*w);
      if (d == kKeep) {
        ++w;
        continue;
      }
      if (d == kAnswer) ready.push_back(std::move(*w));
      w = ws.erase(w);
      --count_;
    }
    it = ws.empty() ? waiting_.erase(it) : std::next(it);
  }
}

// Under mu_: how long the watch may wait before the first parked request is
// due, at most a second (which also bounds how long a client that went away
// keeps its parked slot). A request parked meanwhile with a sooner deadline
// is answered at the next wake-up, at most that second late.
std::chrono::milliseconds NodeSpecWaiters::nextWaitLocked(
    std::chrono::steady_clock::time_point now) const {
  constexpr std::chrono::milliseconds kMaxWait{1'000};
  auto first = now + kMaxWait;
  for (const auto& [node, ws] : waiting_)
    for (const auto& w : ws) first = std::min(first, w.deadline);
  if (first <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(first - now);
}

void NodeSpecWaiters::run() {
  std::vector<Waiter> ready;
  while (ensureWatch()) {
    for (auto& w : ready) w.responder->respondFrom(std::move(w.answer));
    ready.clear();
    storage::WatchStream* watch;
    std::chrono::milliseconds wait;
    {
      std::lock_guard lock(mu_);
      watch = watch_.get();
      wait = nextWaitLocked(std::chrono::steady_clock::now());
    }
    if (!watch) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    auto events = watch->next(wait);  // only run() replaces watch_, stop() only cancels it
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    if (stopping_) break;
    if (!events.isOk()) {
      spdlog::info("api: node spec watch ended ({}); restarting", events.status().toString());
      watch_.reset();
      continue;
    }
    collectLocked(*events, now, ready);
    // Answers go out after the lock is released (loop top).
  }
  for (auto& w : ready) w.responder->respondFrom(std::move(w.answer));
}

void NodeSpecWaiters::stop() {
  std::vector<Waiter> left;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    if (watch_) watch_->cancel();
  }
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(mu_);
    for (auto& [node, ws] : waiting_)
      for (auto& w : ws) left.push_back(std::move(w));
    waiting_.clear();
    count_ = 0;
    watch_.reset();
  }
  for (auto& w : left) w.responder->respondFrom(std::move(w.answer));
}

Response longPollNodeSpec(NodeSpecWaiters& waiters, const Request& req, std::string node,
                          std::function<StatusOr<std::string>()> body) {
  auto parsed = parseRevision(req.queryParam("revision").value_or("0"));
  if (!parsed) return Response::error(invalidArgument("expected a revision number", "revision"));
  const int64_t revision = *parsed;
  auto wait = parseWait(req.queryParam("timeout").value_or("25s"));
  if (!wait) return Response::error(invalidArgument("expected e.g. 25s or 500ms", "timeout"));
  *wait = std::min(*wait, std::chrono::milliseconds(60'000));
  auto deadline = std::chrono::steady_clock::now() + *wait;
  auto answer = [body = std::move(body)] {
    auto out = body();
    if (!out.isOk()) return Response::error(out.status());
    return Response::json(200, std::move(*out));
  };
  return Response::later([&waiters, node, revision, deadline,
                          answer = std::move(answer)](std::shared_ptr<http::Responder> r) mutable {
    waiters.wait(node, revision, deadline, std::move(r), std::move(answer));
  });
}

namespace {

// Writes complete lines to the shared writer, prefixed when several pods.
class LineSink {
 public:
  LineSink(http::StreamWriter& w, std::mutex& mu, std::string prefix)
      : w_(w), mu_(mu), prefix_(std::move(prefix)) {}
  bool add(std::string_view chunk) {
    if (prefix_.empty()) {
      std::lock_guard lock(mu_);
      return w_.write(chunk);
    }
    buf_.append(chunk);
    size_t nl;
    std::string out;
    while ((nl = buf_.find('\n')) != std::string::npos) {
      out += prefix_ + buf_.substr(0, nl + 1);
      buf_.erase(0, nl + 1);
    }
    if (out.empty()) return !w_.cancelled();
    std::lock_guard lock(mu_);
    return w_.write(out);
  }
  void flush() {
    if (buf_.empty()) return;
    std::lock_guard lock(mu_);
    w_.write(prefix_ + buf_ + "\n");
    buf_.clear();
  }

 private:
  http::StreamWriter& w_;
  std::mutex& mu_;
  std::string prefix_;
  std::string buf_;
};

struct PodSource {
  std::string pod;       // selflink
  std::string endpoint;  // http://ip:port of its node agent
};

}  // namespace

std::optional<std::string> agentEndpoint(const Context& ctx, const std::string& node) {
  auto infoKey = keys::nodeKey(node, keys::Part::kInfo);
  if (!infoKey.isOk()) return std::nullopt;
  auto n = readOptional<types::Node>(*ctx.store, *infoKey);
  if (!n.isOk() || !*n) return std::nullopt;
  const auto& labels = (*n)->info.labels;
  auto host = labels.find("lastbackend.node.host");
  std::string ip = host != labels.end()            ? host->second
                   : (*n)->info.internalIp.empty() ? (*n)->info.externalIp
                                                   : (*n)->info.internalIp;
  if (ip.empty()) return std::nullopt;
  auto port = labels.find("lastbackend.node.port");
  return "http://" + ip + ":" + (port == labels.end() ? "2965" : port->second);
}

Response serviceLogs(const Context& ctx, const Request& req, const std::string& ns,
                     const std::string& service) {
  auto prefix = keys::podsOfServicePrefix(ns, service);
  if (!prefix.isOk()) return Response::error(prefix.status());
  auto pods = ctx.store->list(*prefix);
  if (!pods.isOk()) return Response::error(pods.status());
  std::vector<PodSource> sources;
  std::map<std::string, std::string> endpoints;  // node -> endpoint
  for (const auto& o : pods->items) {
    auto pod = decodeStored<types::Pod>(o);
    if (!pod.isOk() || pod->status.node.empty()) continue;
    const std::string& node = pod->status.node;
    if (!endpoints.count(node)) {
      auto endpoint = agentEndpoint(ctx, node);
      if (!endpoint) continue;
      endpoints[node] = *endpoint;
    }
    sources.push_back({pod->meta.selflink, endpoints[node]});
  }
  if (sources.empty())
    return Response::error(
        unavailable("no node agent reachable: no pod of service '" + service + "' runs on a node"));
  std::string token;
  if (auto a = req.header("Authorization"); a && a->rfind("Bearer ", 0) == 0) token = a->substr(7);
  http::QueryParams query;
  if (auto f = req.queryParam("follow"))
    query["follow"] = (*f == "true" || *f == "1") ? "true" : "false";
  if (auto t = req.queryParam("tail")) query["tail"] = *t;
  return Response::streaming([sources, token, query](http::StreamWriter& w) {
    std::mutex mu;
    // A follow on a quiet container sends nothing for hours: the proxied
    // streams end when the client leaves or the server stops, not at a timeout.
    runtime::CancelToken cancel;
    const uint64_t onCancel = w.onCancel([&cancel] { cancel.cancel(); });
    std::vector<std::thread> threads;
    threads.reserve(sources.size());
    for (const auto& src : sources) {
      threads.emplace_back([&, src] {
        client::ClientOptions o;
        o.endpoint = src.endpoint;
        o.token = token;
        o.maxRetries = 1;
        auto c = client::Client::create(o);
        std::string label = sources.size() > 1 ? "[" + src.pod + "] " : "";
        LineSink sink(w, mu, label);
        if (!c.isOk()) {
          sink.add("error: " + c.status().message() + "\n");
          return;
        }
        Status s = (*c)->stream(
            "/pod/" + http::percentEncode(src.pod) + "/logs", query,
            [&](std::string_view chunk) { return sink.add(chunk); }, &cancel);
        sink.flush();
        if (!s.isOk() && !w.cancelled()) {
          spdlog::warn("api: logs of pod '{}' from {}: {}", src.pod, src.endpoint, s.toString());
          std::lock_guard lock(mu);
          w.write("error: logs of pod '" + src.pod + "': " + s.message() + "\n");
        }
      });
    }
    for (auto& t : threads) t.join();
    w.removeOnCancel(onCancel);
  });
}

}  // namespace lb::api
