#include "runtime/cri/docker/docker_network.h"

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "lastbackend/http/uri.h"
#include "runtime/docker/wire.h"

namespace lb::runtime::cri::docker {
namespace {

using Json = nlohmann::json;
using runtime::docker::Method;
using runtime::docker::Request;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string ctx(const std::string& op, const std::string& name) {
  return "docker: " + op + " network '" + name + "'";
}

// The network named `name` (by its exact name: docker would also match an
// id prefix), or nullopt.
StatusOr<std::optional<DockerNetwork>> find(const runtime::docker::Client& client,
                                            const std::string& name) {
  const std::string what = ctx("inspect", name);
  auto resp = client.call({Method::kGet, "/networks/" + http::percentEncode(name)});
  if (!resp) return resp.status().withContext(what);
  if (resp->status == 404) return std::optional<DockerNetwork>();
  if (resp->status >= 300)
    return runtime::docker::errorFromResponse(resp->status, resp->body).withContext(what);
  auto net = networkFromInspect(resp->body);
  if (!net) return net.status().withContext(what);
  if (net->info.spec.name != name) return std::optional<DockerNetwork>();
  return std::optional(std::move(*net));
}

}  // namespace

std::string networkCreateBody(const NetworkSpec& spec) {
  Json options = {{kOptBridgeName, spec.bridge}, {kOptMasquerade, "false"}};
  if (spec.mtu > 0) options[kOptMtu] = std::to_string(spec.mtu);
  Json j = {{"Name", spec.name},
            {"CheckDuplicate", true},
            {"Driver", "bridge"},
            {"IPAM",
             {{"Driver", "default"},
              {"Config", Json::array({{{"Subnet", spec.subnet}, {"Gateway", spec.gateway}}})}}},
            {"Options", options},
            {"Labels", spec.labels}};
  return j.dump();
}

StatusOr<DockerNetwork> networkFromInspect(std::string_view body) {
  auto j = Json::parse(body, nullptr, false);
  if (!j.is_object()) return internalError("the network inspect is not JSON");
  DockerNetwork net;
  net.driver = str(j, "Driver");
  NetworkInfo& info = net.info;
  info.id = str(j, "Id");
  info.spec.name = str(j, "Name");
  const Json& options = j.value("Options", Json::object());
  info.spec.bridge = str(options, kOptBridgeName);
  net.masquerade = str(options, kOptMasquerade) != "false";
  std::string mtu = str(options, kOptMtu);
  info.spec.mtu = mtu.empty() ? 0 : std::atoi(mtu.c_str());
  const Json& config = j.value("IPAM", Json::object()).value("Config", Json::array());
  if (config.is_array() && !config.empty()) {
    info.spec.subnet = str(config[0], "Subnet");
    info.spec.gateway = str(config[0], "Gateway");
  }
  const Json& labels = j.value("Labels", Json::object());
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it)
      if (it.value().is_string()) info.spec.labels[it.key()] = it.value().get<std::string>();
  }
  return net;
}

std::string networkDifference(const DockerNetwork& net, const NetworkSpec& want) {
  const NetworkSpec& have = net.info.spec;
  std::string out;
  auto field = [&](const char* what, const std::string& h, const std::string& w) {
    if (h == w) return;
    out += std::string(out.empty() ? "" : ", ") + what + " " + (h.empty() ? "(none)" : h) +
           ", want " + w;
  };
  field("driver", net.driver, "bridge");
  field("NAT", net.masquerade ? "on" : "off", "off");
  field("bridge", have.bridge, want.bridge);
  field("subnet", have.subnet, want.subnet);
  field("gateway", have.gateway, want.gateway);
  if (want.mtu > 0)
    field("MTU", have.mtu ? std::to_string(have.mtu) : "", std::to_string(want.mtu));
  return out;
}

StatusOr<NetworkInfo> ensureNetwork(const runtime::docker::Client& client,
                                    const NetworkSpec& spec) {
  const std::string what = ctx("ensure", spec.name);
  LB_RETURN_IF_ERROR(validateNetworkSpec(spec).withContext(what));
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto have = find(client, spec.name);
    if (!have) return have.status().withContext(what);
    if (*have) {
      std::string diff = networkDifference(**have, spec);
      if (!diff.empty()) return conflict(what + ": it exists with " + diff);
      return (*have)->info;
    }
    Request req{Method::kPost, "/networks/create"};
    req.body = networkCreateBody(spec);
    auto resp = client.call(req);
    if (!resp) return resp.status().withContext(what);
    // 409: made by someone else meanwhile; look again.
    if (resp->status >= 300 && resp->status != 409)
      return runtime::docker::errorFromResponse(resp->status, resp->body).withContext(what);
  }
  return internalError(what + ": made, but not found afterwards");
}

Status removeNetwork(const runtime::docker::Client& client, const std::string& name) {
  const std::string what = ctx("remove", name);
  auto resp = client.call({Method::kDelete, "/networks/" + http::percentEncode(name)});
  if (!resp) return resp.status().withContext(what);
  if (resp->status < 300) return Status::ok();
  Status s = runtime::docker::errorFromResponse(resp->status, resp->body);
  // docker answers 403 for a network that still has containers on it.
  if (resp->status == 403 && s.message().find("active endpoints") != std::string::npos)
    return conflict(what + ": " + s.message());
  return s.withContext(what);
}

}  // namespace lb::runtime::cri::docker
