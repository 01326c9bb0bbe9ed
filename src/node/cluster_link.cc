#include "node/cluster_link.h"

#include <mutex>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/types/codec.h"

namespace lb::node {

namespace {

// Objects as a report carries them: meta.selflink and status only.
template <typename T>
nlohmann::json slimList(const std::vector<T>& objects) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& o : objects) {
    T slim;
    slim.meta.selflink = o.meta.selflink;
    slim.status = o.status;
    list.push_back(nlohmann::json::parse(types::toJson(slim)));
  }
  return list;
}

class ApiLink : public ClusterLink {
 public:
  ApiLink(client::Client* client, const std::string& node)
      : client_(client), node_(node), base_("/cluster/node/" + http::percentEncode(node)) {}

  Status registerNode(const types::Node& node) override {
    auto r = client_->put(base_ + "/meta", types::toJson(node));
    if (!r.isOk()) return r.status().withContext("register node");
    return Status::ok();
  }

  Status report(const types::NodeStatus& status, const std::vector<types::Pod>& pods,
                const std::vector<types::Volume>& volumes) override {
    types::Node n;
    n.status = status;
    auto body = nlohmann::json::parse(types::toJson(n));
    nlohmann::json out = nlohmann::json::object();
    out["status"] = body.contains("status") ? body["status"] : nlohmann::json::object();
    out["pods"] = slimList(pods);
    // (omitted when none: an older api takes the report)
    if (!volumes.empty()) out["volumes"] = slimList(volumes);
    auto r = client_->put(base_ + "/status", out.dump());
    if (!r.isOk()) return r.status().withContext("report status");
    return Status::ok();
  }

  StatusOr<bool> volumeExists(const std::string& selflink) override {
    auto colon = selflink.find(':');
    if (colon == std::string::npos)
      return invalidArgument("volume '" + selflink + "': no namespace");
    auto r = client_->get("/namespace/" + http::percentEncode(selflink.substr(0, colon)) +
                          "/volume/" + http::percentEncode(selflink.substr(colon + 1)));
    if (r.isOk()) return true;
    if (r.status().code() == Code::kNotFound) return false;
    return r.status().withContext("read volume '" + selflink + "'");
  }

  StatusOr<std::vector<types::Discovery>> discoveries() override {
    auto r = client_->get("/discovery");
    if (!r.isOk()) return r.status().withContext("list discovery servers");
    auto list = nlohmann::json::parse(*r, nullptr, false);
    if (!list.is_array()) return invalidArgument("GET /discovery: not a list", "body");
    std::vector<types::Discovery> out;
    for (const auto& item : list) {
      types::Discovery d;
      if (types::fromJson(item.dump(), &d).isOk()) out.push_back(std::move(d));
    }
    return out;
  }

  // The cluster network comes as a delta against the last answer (see
  // docs/node-protocol.md), completed here: callers see whole manifests.
  StatusOr<NodeManifest> fetchSpec(int64_t revision, std::chrono::milliseconds wait) override {
    std::lock_guard lock(specMu_);
    http::QueryParams q;
    if (revision > 0) {
      q["revision"] = std::to_string(revision);
      q["timeout"] = std::to_string(wait.count()) + "ms";
    }
    if (held_.revision > 0) q["network"] = std::to_string(held_.revision);
    auto r = client_->get(base_ + "/spec", q);
    if (!r.isOk()) return r.status().withContext("fetch node spec");
    auto m = parseNodeManifest(*r);
    if (!m.isOk()) return m.status().withContext("fetch node spec");
    if (Status s = mergeNetwork(held_, *m); !s.isOk()) {
      // Not what this link holds (e.g. another process asked meanwhile):
      // the whole network once more, at once.
      spdlog::warn("node '{}': {}; fetching the whole spec", node_, s.message());
      held_ = {};
      r = client_->get(base_ + "/spec", {});
      if (!r.isOk()) return r.status().withContext("fetch node spec");
      m = parseNodeManifest(*r);
      if (!m.isOk()) return m.status().withContext("fetch node spec");
    }
    held_.revision = m->revision;
    held_.subnets = m->subnets;
    held_.endpoints = m->endpoints;
    return m;
  }

 private:
  client::Client* client_;
  std::string node_;
  std::string base_;
  std::mutex specMu_;
  NodeManifest held_;  // the network of the last answer (subnets, endpoints, revision)
};

}  // namespace

std::unique_ptr<ClusterLink> makeApiLink(client::Client* client, const std::string& node) {
  return std::make_unique<ApiLink>(client, node);
}

}  // namespace lb::node
