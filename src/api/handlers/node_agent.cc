#include "api/handlers/node_agent.h"

#include <atomic>
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

Response longPollNodeSpec(const Context& ctx, const Request& req,
                          std::function<StatusOr<std::string>()> body) {
  int64_t revision = 0;
  try {
    revision = std::stoll(req.queryParam("revision").value_or("0"));
  } catch (...) {
    return Response::error(invalidArgument("expected a revision number", "revision"));
  }
  auto wait = parseWait(req.queryParam("timeout").value_or("25s"));
  if (!wait) return Response::error(invalidArgument("expected e.g. 25s or 500ms", "timeout"));
  *wait = std::min(*wait, std::chrono::milliseconds(60'000));
  auto prefix = keys::nodeManifestsPrefix(req.param("node"));
  if (!prefix.isOk()) return Response::error(invalidArgument(prefix.status().message(), "node"));
  storage::Storage* store = ctx.store;
  std::string pre = *prefix;
  std::chrono::milliseconds timeout = *wait;
  return Response::streaming(
      [store, pre, revision, timeout, body](http::StreamWriter& w) {
        auto watch = store->watch(pre, revision);
        if (watch.isOk()) {
          auto end = std::chrono::steady_clock::now() + timeout;
          while (!w.cancelled()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            auto ev = (*watch)->next(std::min(left, std::chrono::milliseconds(500)));
            if (!ev.isOk() || !ev->empty()) break;  // a change, or history lost: answer now
          }
          (*watch)->cancel();
        }
        if (w.cancelled()) return;
        auto out = body();
        w.write(out.isOk() ? *out : http::errorBody(out.status()));
      },
      "application/json");
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
      auto infoKey = keys::nodeKey(node, keys::Part::kInfo);
      if (!infoKey.isOk()) continue;
      auto n = readOptional<types::Node>(*ctx.store, *infoKey);
      if (!n.isOk() || !*n) continue;
      std::string ip =
          (*n)->info.internalIp.empty() ? (*n)->info.externalIp : (*n)->info.internalIp;
      if (ip.empty()) continue;
      auto port = (*n)->info.labels.find("lastbackend.node.port");
      endpoints[node] =
          "http://" + ip + ":" + (port == (*n)->info.labels.end() ? "2965" : port->second);
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
    std::vector<std::thread> threads;
    for (const auto& src : sources) {
      threads.emplace_back([&, src] {
        client::ClientOptions o;
        o.endpoint = src.endpoint;
        o.token = token;
        o.requestTimeout = std::chrono::hours(24 * 365);
        o.maxRetries = 1;
        auto c = client::Client::create(o);
        std::string label = sources.size() > 1 ? "[" + src.pod + "] " : "";
        LineSink sink(w, mu, label);
        if (!c.isOk()) {
          sink.add("error: " + c.status().message() + "\n");
          return;
        }
        Status s = (*c)->stream("/pod/" + http::percentEncode(src.pod) + "/logs", query,
                                [&](std::string_view chunk) { return sink.add(chunk); });
        sink.flush();
        if (!s.isOk() && !w.cancelled()) {
          spdlog::warn("api: logs of pod '{}' from {}: {}", src.pod, src.endpoint, s.toString());
          std::lock_guard lock(mu);
          w.write("error: logs of pod '" + src.pod + "': " + s.message() + "\n");
        }
      });
    }
    for (auto& t : threads) t.join();
  });
}

}  // namespace lb::api
