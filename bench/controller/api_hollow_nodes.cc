#include "api_hollow_nodes.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "hollow_nodes.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/node.h"

namespace lb::controller::testing {

using Json = nlohmann::json;
using SteadyTime = std::chrono::steady_clock::time_point;

struct ApiHollowCluster::Node {
  std::string name;
  std::string path;  // /cluster/node/<name>
  // selflink -> reported; the report of a pod carries its status, built from
  // the manifest when it appears.
  std::map<std::string, bool> pods;
  std::vector<std::pair<std::string, std::string>> pending;  // selflink, status JSON
  SteadyTime nextPoll{};
  SteadyTime lastBeat{};
};

ApiHollowCluster::ApiHollowCluster(std::shared_ptr<client::Client> client,
                                   ApiHollowOptions options)
    : client_(std::move(client)), opt_(std::move(options)) {
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

std::string ApiHollowCluster::statusJson() const {
  types::Node n;
  n.status.online = true;
  n.status.capacity = {opt_.cpu, opt_.ram, 0, 0};
  return Json::parse(types::toJson(n))["status"].dump();
}

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
  std::string body = "{\"status\":" + statusJson() + ",\"pods\":[";
  for (size_t i = 0; i < n.pending.size(); ++i) {
    if (i) body += ',';
    body += "{\"meta\":{\"selflink\":" + Json(n.pending[i].first).dump() +
            "},\"status\":" + n.pending[i].second + "}";
  }
  body += "]}";
  requests_++;
  auto r = client_->put(n.path + "/status", body);
  if (!r.isOk()) {
    failures_++;
    return r.status();
  }
  n.lastBeat = std::chrono::steady_clock::now();
  for (const auto& [sl, status] : n.pending) {
    auto it = n.pods.find(sl);
    if (it != n.pods.end() && !it->second) {
      it->second = true;
      reported_++;
    }
  }
  n.pending.clear();
  return Status::ok();
}

void ApiHollowCluster::step(Node& n, SteadyTime now) {
  if (now >= n.nextPoll) {
    n.nextPoll = now + opt_.specPoll;
    requests_++;
    auto body = client_->get(n.path + "/spec");
    if (!body.isOk()) {
      failures_++;
      return;
    }
    Json spec = Json::parse(*body, nullptr, /*allow_exceptions=*/false);
    if (!spec.is_object() || !spec["pods"].is_object()) {
      failures_++;
      return;
    }
    const Json& pods = spec["pods"];
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
      types::Pod pod;
      if (!types::fromJson(manifest.dump(), &pod).isOk()) continue;
      pod.meta.selflink = sl;
      n.pods[sl] = false;
      known_++;
      types::Pod reported;
      reported.status = hollowPodStatus(pod, n.name, nextIp_++, opt_.failImages);
      n.pending.emplace_back(sl, Json::parse(types::toJson(reported))["status"].dump());
    }
  }
  if (!n.pending.empty() || now - n.lastBeat >= opt_.heartbeatInterval) (void)report(n);
}

void ApiHollowCluster::work(int worker) {
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    SteadyTime due = now + std::chrono::milliseconds(100);
    for (size_t i = worker; i < nodes_.size() && !stop_; i += opt_.threads) {
      Node& n = *nodes_[i];
      if (now >= n.nextPoll || now - n.lastBeat >= opt_.heartbeatInterval) step(n, now);
      due = std::min({due, n.nextPoll, n.lastBeat + opt_.heartbeatInterval});
    }
    std::this_thread::sleep_until(std::max(due, now + std::chrono::milliseconds(5)));
  }
}

void ApiHollowCluster::start() {
  stop_ = false;
  for (int t = 0; t < opt_.threads; ++t) threads_.emplace_back([this, t] { work(t); });
}

void ApiHollowCluster::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace lb::controller::testing
