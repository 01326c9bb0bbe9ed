#include "api_hollow_nodes.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "hollow_nodes.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/node.h"

namespace lb::controller::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Json = nlohmann::json;
using SteadyTime = std::chrono::steady_clock::time_point;

struct ApiHollowCluster::Node {
  std::string name;
  std::string path;  // /cluster/node/<name>
  std::mutex mu;     // pods, pending, lastBeat: the poll thread and a report worker
  // selflink -> reported; the report of a pod carries its status, built from
  // the manifest when it appears.
  std::map<std::string, bool> pods;
  std::vector<std::pair<std::string, std::string>> pending;  // selflink, status JSON
  SteadyTime nextPoll{};
  SteadyTime lastBeat{};
};

struct ApiHollowCluster::Io {
  net::io_context ioc;
  std::vector<std::shared_ptr<Poller>> pollers;
  std::thread thread;
};

// One node's long-poll: GET .../spec (then ?revision=<last>&timeout=...) on a
// keep-alive connection of its own, forever; reconnects after an error.
class ApiHollowCluster::Poller : public std::enable_shared_from_this<Poller> {
 public:
  Poller(ApiHollowCluster& c, Node& n, net::io_context& ioc)
      : c_(c), n_(n), stream_(ioc), retry_(ioc) {}

  void start() { connect(); }
  void stop() {
    stopped_ = true;
    beast::error_code ec;
    stream_.socket().close(ec);
    retry_.cancel();
  }

 private:
  void connect() {
    if (stopped_) return;
    net::ip::tcp::endpoint ep(net::ip::make_address(c_.opt_.host), c_.opt_.port);
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(ep, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail();
      self->poll();
    });
  }

  void poll() {
    if (stopped_) return;
    std::string target = n_.path + "/spec";
    if (revision_ > 0)
      target += "?revision=" + std::to_string(revision_) +
                "&timeout=" + std::to_string(c_.opt_.longPollTimeout.count()) + "ms";
    req_ = {};
    req_.method(bhttp::verb::get);
    req_.target(target);
    req_.version(11);
    req_.set(bhttp::field::host, c_.opt_.host);
    req_.set(bhttp::field::authorization, "Bearer " + c_.opt_.token);
    req_.keep_alive(true);
    stream_.expires_after(c_.opt_.longPollTimeout + std::chrono::seconds(60));
    c_.requests_++;
    bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->fail();
      self->res_ = {};
      bhttp::async_read(self->stream_, self->buf_, self->res_,
                        [self](beast::error_code ec, size_t) { self->onResponse(ec); });
    });
  }

  void onResponse(beast::error_code ec) {
    if (ec) return fail();
    if (res_.result_int() != 200 || !c_.onSpec(n_, res_.body(), &revision_)) {
      c_.failures_++;
      return again(std::chrono::milliseconds(200));
    }
    if (!res_.keep_alive()) return reconnect();
    poll();
  }

  void fail() {
    if (stopped_) return;
    c_.failures_++;
    reconnect();
  }
  void reconnect() {
    beast::error_code ec;
    stream_.socket().close(ec);
    buf_.clear();
    again(std::chrono::milliseconds(200), /*connect=*/true);
  }
  void again(std::chrono::milliseconds after, bool connect = false) {
    if (stopped_) return;
    retry_.expires_after(after);
    retry_.async_wait([self = shared_from_this(), connect](beast::error_code ec) {
      if (ec || self->stopped_) return;
      connect ? self->connect() : self->poll();
    });
  }

  ApiHollowCluster& c_;
  Node& n_;
  beast::tcp_stream stream_;
  net::steady_timer retry_;
  beast::flat_buffer buf_;
  bhttp::request<bhttp::empty_body> req_;
  bhttp::response<bhttp::string_body> res_;
  int64_t revision_ = 0;
  std::atomic<bool> stopped_{false};
};

ApiHollowCluster::ApiHollowCluster(std::shared_ptr<client::Client> client, ApiHollowOptions options)
    : client_(std::move(client)), opt_(std::move(options)) {
  types::Node status;
  status.status.online = true;
  status.status.capacity = {opt_.cpu, opt_.ram, 0, 0};
  statusJson_ = Json::parse(types::toJson(status))["status"].dump();
  const auto now = std::chrono::steady_clock::now();
  for (int i = 0; i < opt_.nodes; ++i) {
    auto n = std::make_unique<Node>();
    n->name = nodeName(i);
    n->path = "/cluster/node/" + http::percentEncode(n->name);
    // Spread the polls (and so the reports) evenly over one period.
    n->nextPoll = now + opt_.specPoll * i / std::max(1, opt_.nodes);
    nodes_.push_back(std::move(n));
  }
}

ApiHollowCluster::~ApiHollowCluster() { stop(); }

std::string ApiHollowCluster::nodeName(int i) const { return opt_.prefix + std::to_string(i); }

std::string ApiHollowCluster::statusJson() const { return statusJson_; }

Status ApiHollowCluster::registerAll() {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first = Status::ok();
  std::vector<std::thread> workers;
  for (int t = 0; t < opt_.threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < nodes_.size();) {
        Node& n = *nodes_[i];
        types::Node meta;
        meta.meta.name = n.name;
        meta.info.hostname = n.name;
        meta.info.os = "linux";
        meta.info.architecture = "amd64";
        auto r = client_->put(n.path + "/meta", types::toJson(meta));
        Status s = r.isOk() ? report(n) : r.status();
        if (!s.isOk()) {
          std::lock_guard lock(mu);
          if (first.isOk()) first = s.withContext("registering node '" + n.name + "'");
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return first;
}

Status ApiHollowCluster::report(Node& n) {
  std::vector<std::pair<std::string, std::string>> sending;
  {
    std::lock_guard lock(n.mu);
    sending.swap(n.pending);
  }
  std::string body = "{\"status\":" + statusJson() + ",\"pods\":[";
  for (size_t i = 0; i < sending.size(); ++i) {
    if (i) body += ',';
    body += "{\"meta\":{\"selflink\":" + Json(sending[i].first).dump() +
            "},\"status\":" + sending[i].second + "}";
  }
  body += "]}";
  requests_++;
  auto r = client_->put(n.path + "/status", body);
  std::lock_guard lock(n.mu);
  if (!r.isOk()) {
    failures_++;
    n.pending.insert(n.pending.begin(), sending.begin(), sending.end());
    return r.status();
  }
  n.lastBeat = std::chrono::steady_clock::now();
  for (const auto& [sl, status] : sending) {
    auto it = n.pods.find(sl);
    if (it != n.pods.end() && !it->second) {
      it->second = true;
      reported_++;
    }
  }
  return Status::ok();
}

bool ApiHollowCluster::onSpec(Node& n, const std::string& body, int64_t* revision) {
  Json spec = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_object() || !spec["pods"].is_object()) return false;
  if (revision) *revision = spec.value("revision", int64_t{0});
  const Json& pods = spec["pods"];
  std::lock_guard lock(n.mu);
  // Gone from the spec: forgotten (the controller deleted the pod).
  for (auto it = n.pods.begin(); it != n.pods.end();) {
    if (pods.contains(it->first)) {
      ++it;
      continue;
    }
    it = n.pods.erase(it);
    known_--;
  }
  for (const auto& [sl, manifest] : pods.items()) {
    if (n.pods.count(sl)) continue;
    // Only what the hollow status needs (container names and images) is
    // read from the manifest; the report is written with nlohmann directly
    // (the bench shares the CPU with the system under test).
    types::Pod pod;
    pod.meta.selflink = sl;
    const Json* containers = nullptr;
    if (manifest.is_object() && manifest.contains("spec") && manifest["spec"].contains("template"))
      containers = &manifest["spec"]["template"]["containers"];
    if (!containers || !containers->is_array()) continue;
    for (const auto& c : *containers) {
      types::ContainerSpec spec;
      spec.name = c.value("name", "");
      if (c.contains("image") && c["image"].is_object())
        spec.image.name = c["image"].value("name", "");
      pod.spec.template_.containers.push_back(std::move(spec));
    }
    n.pods[sl] = false;
    known_++;
    types::PodStatus st = hollowPodStatus(pod, n.name, nextIp_++, opt_.failImages);
    Json out = {{"state", types::stateName(st.state)}, {"ready", st.ready}, {"node", st.node}};
    if (!st.ip.empty()) out["ip"] = st.ip;
    if (!st.message.empty()) out["message"] = st.message;
    Json cs = Json::array();
    for (const auto& c : st.containers)
      cs.push_back({{"id", c.id},
                    {"name", c.name},
                    {"image", c.image},
                    {"state", c.state},
                    {"ready", c.ready},
                    {"restarts", c.restarts}});
    out["containers"] = std::move(cs);
    n.pending.emplace_back(sl, out.dump());
  }
  return true;
}

void ApiHollowCluster::step(Node& n, SteadyTime now) {
  if (!opt_.longPoll && now >= n.nextPoll) {
    n.nextPoll = now + opt_.specPoll;
    requests_++;
    auto body = client_->get(n.path + "/spec");
    if (!body.isOk() || !onSpec(n, *body, nullptr)) {
      failures_++;
      return;
    }
  }
  bool due;
  {
    std::lock_guard lock(n.mu);
    due = !n.pending.empty() || now - n.lastBeat >= opt_.heartbeatInterval;
  }
  if (due) (void)report(n);
}

void ApiHollowCluster::work(int worker) {
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    // Reports of new pods go out within ~100 ms, as a real agent sends them.
    SteadyTime due = now + std::chrono::milliseconds(100);
    for (size_t i = worker; i < nodes_.size() && !stop_; i += opt_.threads) {
      Node& n = *nodes_[i];
      step(n, now);
      std::lock_guard lock(n.mu);
      due = std::min(due, n.lastBeat + opt_.heartbeatInterval);
      if (!opt_.longPoll) due = std::min(due, n.nextPoll);
    }
    std::this_thread::sleep_until(std::max(due, now + std::chrono::milliseconds(5)));
  }
}

void ApiHollowCluster::start() {
  stop_ = false;
  if (opt_.longPoll) {
    io_ = std::make_unique<Io>();
    for (auto& n : nodes_) {
      io_->pollers.push_back(std::make_shared<Poller>(*this, *n, io_->ioc));
      io_->pollers.back()->start();
    }
    io_->thread = std::thread([io = io_.get()] { io->ioc.run(); });
  }
  for (int t = 0; t < opt_.threads; ++t) threads_.emplace_back([this, t] { work(t); });
}

void ApiHollowCluster::stop() {
  stop_ = true;
  if (io_) {
    net::post(io_->ioc, [io = io_.get()] {
      for (auto& p : io->pollers) p->stop();
    });
    io_->ioc.stop();
    if (io_->thread.joinable()) io_->thread.join();
    io_->pollers.clear();
    io_.reset();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace lb::controller::testing
