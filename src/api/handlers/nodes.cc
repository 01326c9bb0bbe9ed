// /cluster/node: node agents register (PUT .../meta), report (PUT .../status,
// with per-pod status) and fetch what they should run (GET .../spec).

#include <nlohmann/json.hpp>

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/handlers/node_agent.h"
#include "api/kinds.h"
#include "api/registered.h"
#include "lastbackend/common/logging.h"
#include "types/fields.h"
#include "types/tree.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;
using types::Node;
using Json = types::detail::Json;

struct NodeKeys {
  std::string info, status;
};

StatusOr<NodeKeys> nodeKeys(const Request& req) {
  LB_RETURN_IF_ERROR(checkPathName(req, "node", /*objectName=*/false));
  const std::string& node = req.param("node");
  auto info = keys::nodeKey(node, keys::Part::kInfo);
  if (!info.isOk()) return invalidArgument(info.status().message(), "node");
  return NodeKeys{*info, *keys::nodeKey(node, keys::Part::kStatus)};
}

std::string nodeWhat(const std::string& node) { return "node '" + node + "'"; }

StatusOr<Node> readNode(const Context& ctx, const Request& req) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return k.status();
  return readRegistered<Node>(ctx, k->info, k->status, nodeWhat(req.param("node")));
}

Response list(const Context& ctx) {
  auto nodes = listRegistered<Node>(ctx, keys::nodesPrefix());
  if (!nodes.isOk()) return Response::error(nodes.status());
  return jsonList(*nodes);
}

Response get(const Context& ctx, const Request& req) {
  auto node = readNode(ctx, req);
  if (!node.isOk()) return Response::error(node.status());
  return jsonObject(200, *node);
}

// Removes the node, its status and every manifest assigned to it; the
// controller reschedules the pods it loses.
Response remove(const Context& ctx, const Request& req) {
  const std::string& name = req.param("node");
  auto result = retryCas(ctx, nodeWhat(name), [&]() -> StatusOr<std::optional<Node>> {
    auto node = readNode(ctx, req);
    if (!node.isOk()) return node.status();
    auto k = nodeKeys(req);
    std::vector<storage::Op> ops{{storage::Op::Type::kDelete, k->info, "", node->meta.revision}};
    auto status = ctx.store->get(k->status);
    if (status.isOk()) ops.push_back({storage::Op::Type::kDelete, k->status, "", status->revision});
    auto manifests = ctx.store->list(*keys::nodeManifestsPrefix(name));
    if (!manifests.isOk()) return manifests.status();
    for (const auto& o : manifests->items)
      ops.push_back({storage::Op::Type::kDelete, o.key, "", o.revision});
    auto rev = commit(ctx, ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Node>();
    return std::optional<Node>(*node);
  });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

// POST .../cordon, .../uncordon and .../drain: what the scheduler may do
// with the node, kept in its spec (which the agent's re-registering keeps).
// cordon: no new pods there, the pods on it stay; drain: cordon, and the
// controller moves its pods elsewhere (spec.drain); uncordon ends both.
// Answers the node; a call that changes nothing writes nothing.
enum class Schedule { kCordon, kUncordon, kDrain };

Response setSchedule(const Context& ctx, const Request& req, Schedule what) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return Response::error(k.status());
  const std::string& name = req.param("node");
  auto result = retryCas(ctx, nodeWhat(name), [&]() -> StatusOr<std::optional<bool>> {
    auto node = readObject<Node>(*ctx.store, k->info, nodeWhat(name));
    if (!node.isOk()) return node.status();
    types::NodeSpec spec = node->spec;
    spec.unschedulable = what != Schedule::kUncordon;
    if (what == Schedule::kUncordon) spec.drain = {};
    if (what == Schedule::kDrain && spec.drain.state.empty()) {
      // The pods there now (the controller keeps the count from here on).
      auto pods = ctx.store->list(*keys::nodeManifestsPrefix(name, keys::ManifestKind::kPod));
      if (!pods.isOk()) return pods.status();
      spec.drain = {"draining", static_cast<int>(pods->items.size())};
    }
    if (spec == node->spec) return std::optional<bool>(false);
    node->spec = std::move(spec);
    node->meta.updated = ctx.now();
    auto rev = commit(
        ctx, {{storage::Op::Type::kPut, k->info, encodeForStore(*node), node->meta.revision}});
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<bool>();
    return std::optional<bool>(true);
  });
  if (!result.isOk()) return Response::error(result.status());
  return get(ctx, req);
}

// Appends `"key":value` to one map of the spec answer; a stored value that
// is not JSON is skipped (it would break the whole answer).
void addItem(std::string& out, std::string_view key, const storage::Object& o) {
  if (!nlohmann::json::accept(o.value)) {
    spdlog::warn("manifest at '{}' is not JSON; skipped", o.key);
    return;
  }
  out += out.empty() ? "" : ",";
  out += nlohmann::json(std::string(key)).dump();
  out += ':';
  out += o.value;
}

// The node's manifests, by kind, keyed by selflink: what the agent should
// run, with the cluster network every node reads (every subnet by cidr,
// every endpoint by selflink). With `networkSince` > 0 (the revision of an
// answer the node holds) the network is a delta: only the subnets and
// endpoints changed after it are written out, and "network" lists the keys
// of all there are (so the node also sees what was removed). The stored bytes are copied in
// (checked to be JSON, not decoded and re-encoded: a node of many pods is polled after every
// change). The node's own listing comes first and gives the answer's revision: the cluster's,
// listed after it, hold at least its state, so a change after that revision is never missed (one
// made between the listings wakes the next wait once more, harmlessly).
StatusOr<std::string> specBody(const Context& ctx, const std::string& name, int64_t networkSince) {
  auto prefix = keys::nodeManifestsPrefix(name);
  if (!prefix.isOk()) return prefix.status();
  auto l = ctx.store->list(*prefix);
  if (!l.isOk()) return l.status();
  const std::string endpointsPrefix = keys::clusterEndpointManifestsPrefix();
  const std::string subnetsPrefix = keys::clusterSubnetManifestsPrefix();
  auto endpoints = ctx.store->list(endpointsPrefix);
  if (!endpoints.isOk()) return endpoints.status();
  auto subnets = ctx.store->list(subnetsPrefix);
  if (!subnets.isOk()) return subnets.status();
  // Alphabetical, as nlohmann::json would write them. The node's own
  // endpoint manifests (--node-endpoints) are a part of the cluster's.
  static constexpr std::pair<std::string_view, const char*> kKinds[] = {
      {"config", "configs"}, {"endpoint", "endpoints"}, {"pod", "pods"},
      {"secret", "secrets"}, {"subnet", "subnets"},     {"volume", "volumes"}};
  constexpr size_t kEndpoints = 1, kSubnets = 4;
  std::string items[std::size(kKinds)];
  for (const auto& o : l->items) {
    std::string_view rest = std::string_view(o.key).substr(prefix->size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos) continue;
    size_t k = 0;
    while (k < std::size(kKinds) && kKinds[k].first != rest.substr(0, slash)) ++k;
    if (k == std::size(kKinds) || k == kEndpoints || k == kSubnets) continue;
    addItem(items[k], rest.substr(slash + 1), o);
  }
  std::string index[2];  // the delta's keys: endpoints, subnets
  auto network = [&](size_t kind, std::string& keysOut, const std::string& key,
                     const storage::Object& o) {
    if (networkSince > 0) {
      keysOut += keysOut.empty() ? "" : ",";
      keysOut += nlohmann::json(key).dump();
      if (o.revision <= networkSince) return;
    }
    addItem(items[kind], key, o);
  };
  for (const auto& o : endpoints->items)
    network(kEndpoints, index[0], o.key.substr(endpointsPrefix.size()), o);
  for (const auto& o : subnets->items)
    network(kSubnets, index[1], keys::subnetCidr(o.key.substr(subnetsPrefix.size())), o);
  std::string body = "{";
  if (networkSince > 0) {
    body += "\"network\":{\"since\":" + std::to_string(networkSince) + ",\"endpoints\":[" +
            index[0] + "],\"subnets\":[" + index[1] + "]},";
  }
  for (size_t k = 0; k < std::size(kKinds); ++k) {
    if (kKinds[k].first == "secret") body += "\"revision\":" + std::to_string(l->revision) + ",";
    body += "\"" + std::string(kKinds[k].second) + "\":{" + items[k] + "}";
    body += k + 1 < std::size(kKinds) ? "," : "}";
  }
  return body;
}

// With ?revision=N the answer waits for a change after N (docs/node-protocol.md).
Response spec(const Context& ctx, NodeSpecWaiters& waiters, const Request& req) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return Response::error(k.status());
  // Registered? (the info key's presence; nothing of it is needed)
  if (auto info = ctx.store->get(k->info); !info.isOk()) {
    if (info.status().code() == Code::kNotFound)
      return Response::error(notFound(nodeWhat(req.param("node")) + " not found"));
    return Response::error(info.status());
  }
  const std::string name = req.param("node");
  int64_t since = 0;
  if (auto n = req.queryParam("network")) {
    auto v = parseRevision(*n);
    if (!v) return Response::error(invalidArgument("expected a revision number", "network"));
    since = *v;
  }
  if (req.queryParam("revision"))
    return longPollNodeSpec(waiters, req, name,
                            [c = &ctx, name, since] { return specBody(*c, name, since); });
  auto body = specBody(ctx, name, since);
  if (!body.isOk()) return Response::error(body.status());
  return Response::json(200, *body);
}

// PUT .../meta: register or update. The body is a Node; its description,
// labels and info are taken. spec is taken when the node is new only, so an
// agent re-registering cannot undo an operator's decision (unschedulable).
Response registerNode(const Context& ctx, const Request& req) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return Response::error(k.status());
  const std::string& name = req.param("node");
  auto take = [&name](const Node& body, Node* next, bool isNew) {
    if (isNew) next->spec = body.spec;
    next->info = body.info;
    if (next->info.hostname.empty()) next->info.hostname = name;
  };
  auto result = registerFromBody<Node>(ctx, req, name, types::nodeSelflink(name), k->info,
                                       k->status, nodeWhat(name), take);
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

// The registered node (stored info, meta.revision filled in) with `status`:
// what GET /cluster/node/{node} answers, built from the stored bytes. The
// info key is stored with a default (omitted) status and "status" sorts
// last among Node's keys, so it is appended; anything unexpected takes the
// typed path.
StatusOr<std::string> mergedNodeJson(const storage::Object& info, const types::NodeStatus& status) {
  auto stored = storedWithRevision(info);
  if (stored.isOk() && stored->size() > 2 && stored->back() == '}' &&
      stored->find("\"status\"") == std::string::npos) {
    std::string out = std::move(*stored);
    out.pop_back();
    out += ",\"status\":";
    out += types::detail::dumpJson(types::detail::encode(status, types::detail::Mode::kObject, 0),
                                   false);
    out += '}';
    return out;
  }
  auto node = decodeStored<Node>(info);
  if (!node.isOk()) return node.status();
  node->status = status;
  return types::toJson(*node);
}

// The "volumes" of a report: [Volume with meta.selflink and status].
Status decodeReportedVolumes(const Json& value, std::vector<types::Volume>* out) {
  if (!value.is_array()) return invalidArgument("expected a list", "volumes");
  const types::detail::DecodeContext plain;
  for (size_t i = 0; i < value.size(); ++i) {
    types::Volume v;
    std::string field = "volumes[" + std::to_string(i) + "]";
    LB_RETURN_IF_ERROR(types::detail::decode(value[i], v, field, plain, 0));
    if (Status s = keys::validateSelfLink(v.meta.selflink, 2, "volume selflink"); !s.isOk())
      return invalidArgument(s.message(), field + ".meta.selflink");
    out->push_back(std::move(v));
  }
  return Status::ok();
}

// Writes each reported volume status into its stored Volume (edited as a
// tree, as pods are); volumes that no longer exist are skipped.
Status addVolumeStatusOps(const Context& ctx, const std::vector<types::Volume>& volumes,
                          const std::string& now, std::vector<storage::Op>* ops) {
  for (const auto& v : volumes) {
    auto key = keys::objectKey(keys::Collection::kVolume, v.meta.selflink);
    if (!key.isOk()) continue;
    auto stored = ctx.store->get(*key);
    if (!stored.isOk() && stored.status().code() == Code::kNotFound) continue;
    if (!stored.isOk()) return stored.status().withContext("reading '" + *key + "'");
    Json tree;
    if (Status s = types::detail::parseJsonTree(stored->value, types::kMaxDocumentBytes, &tree);
        !s.isOk() || !tree.is_object() || !tree["meta"].is_object())
      return internalError("stored object at '" + *key + "' does not decode");
    Json status = types::detail::encode(v.status, types::detail::Mode::kObject, 0);
    if (tree["status"] == status) continue;
    tree["status"] = std::move(status);
    tree["meta"]["updated"] = now;
    ops->push_back(
        {storage::Op::Type::kPut, *key, types::detail::dumpJson(tree, false), stored->revision});
  }
  return Status::ok();
}

// PUT .../status: {"status": NodeStatus, "pods": [Pod with meta.selflink and
// status], "volumes": [Volume with meta.selflink and status]}. The
// heartbeat is the API's clock (agents' clocks may drift).
// Pods that no longer exist, or are not scheduled on this node, are skipped.
Response reportStatus(const Context& ctx, const Request& req) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return Response::error(k.status());
  if (Status s = requireJsonBody(req); !s.isOk()) return Response::error(s);
  const std::string& name = req.param("node");
  Json tree;
  if (Status s = types::detail::parseJsonTree(req.body, types::kMaxDocumentBytes, &tree); !s.isOk())
    return Response::error(s);
  if (!tree.is_object()) return Response::error(invalidArgument("expected a JSON object", ""));
  Node report;
  std::vector<types::Pod> pods;
  std::vector<types::Volume> volumes;
  // Decoded from the one parsed tree (no text round trip per pod).
  const types::detail::DecodeContext plain;
  for (const auto& [key, value] : tree.items()) {
    if (key == "status") {
      if (Status s = types::detail::decode(value, report.status, "status", plain, 0); !s.isOk())
        return Response::error(s);
    } else if (key == "pods") {
      if (!value.is_array()) return Response::error(invalidArgument("expected a list", "pods"));
      pods.reserve(value.size());
      for (size_t i = 0; i < value.size(); ++i) {
        types::Pod pod;
        std::string field = "pods[" + std::to_string(i) + "]";
        if (Status s = types::detail::decode(value[i], pod, field, plain, 0); !s.isOk())
          return Response::error(s);
        if (Status v = keys::validateSelfLink(pod.meta.selflink, 4, "pod selflink"); !v.isOk())
          return Response::error(invalidArgument(v.message(), field + ".meta.selflink"));
        pods.push_back(std::move(pod));
      }
    } else if (key == "volumes") {
      if (Status s = decodeReportedVolumes(value, &volumes); !s.isOk()) return Response::error(s);
    } else {
      return Response::error(invalidArgument("unknown field", key));
    }
  }
  // Each reported status, in the stored (object) encoding, once.
  std::vector<Json> reportedStatus;
  reportedStatus.reserve(pods.size());
  for (auto& p : pods) {
    p.status.node = name;
    reportedStatus.push_back(types::detail::encode(p.status, types::detail::Mode::kObject, 0));
  }
  auto result = retryCas(ctx, nodeWhat(name), [&]() -> StatusOr<std::optional<std::string>> {
    // The status key is the node's own and written without a condition:
    // only the info key (registration) is read, and not decoded.
    auto info = ctx.store->get(k->info);
    if (!info.isOk()) {
      if (info.status().code() == Code::kNotFound) return notFound(nodeWhat(name) + " not found");
      return info.status().withContext("reading " + nodeWhat(name));
    }
    Node node;
    node.meta.name = name;
    node.status = report.status;
    node.status.heartbeat = ctx.now();
    node.status.online = true;
    const std::string& now = node.status.heartbeat;
    std::vector<storage::Op> ops{
        {storage::Op::Type::kPut, k->status, statusValue(node), std::nullopt}};
    for (size_t i = 0; i < pods.size(); ++i) {
      const types::Pod& reported = pods[i];
      auto key = keys::objectKey(keys::Collection::kPod, reported.meta.selflink);
      if (!key.isOk()) continue;
      auto stored = ctx.store->get(*key);
      if (!stored.isOk() && stored.status().code() == Code::kNotFound) continue;
      if (!stored.isOk()) return stored.status().withContext("reading '" + *key + "'");
      // The stored pod is edited as a tree: only its status and meta.updated
      // change, so its spec is not decoded and re-encoded.
      Json pod;
      if (Status s = types::detail::parseJsonTree(stored->value, types::kMaxDocumentBytes, &pod);
          !s.isOk() || !pod.is_object() || !pod["meta"].is_object())
        return internalError("stored object at '" + *key + "' does not decode");
      const Json& status = pod["status"];
      auto onNode = status.is_object() ? status.find("node") : status.end();
      if (onNode == status.end() || *onNode != name) {
        spdlog::debug("node '{}' reported pod '{}' it does not run; skipped", name,
                      reported.meta.selflink);
        continue;
      }
      if (status == reportedStatus[i]) continue;
      pod["status"] = reportedStatus[i];
      pod["meta"]["updated"] = now;  // meta.revision stays as stored (0)
      ops.push_back(
          {storage::Op::Type::kPut, *key, types::detail::dumpJson(pod, false), stored->revision});
    }
    if (Status s = addVolumeStatusOps(ctx, volumes, now, &ops); !s.isOk()) return s;
    auto rev = commit(ctx, ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<std::string>();
    auto body = mergedNodeJson(*info, node.status);
    if (!body.isOk()) return body.status();
    return std::optional<std::string>(std::move(*body));
  });
  if (!result.isOk()) return Response::error(result.status());
  return Response::json(200, std::move(*result));
}

}  // namespace

void registerNodeRoutes(Routes& routes, const Context& ctx, NodeSpecWaiters& waiters) {
  const Context* c = &ctx;
  NodeSpecWaiters* w = &waiters;
  routes.get("/cluster/node", [c](const Request&) { return list(*c); });
  routes.get("/cluster/node/{node}", [c](const Request& r) { return get(*c, r); });
  routes.del("/cluster/node/{node}", [c](const Request& r) { return remove(*c, r); });
  routes.post("/cluster/node/{node}/cordon",
              [c](const Request& r) { return setSchedule(*c, r, Schedule::kCordon); });
  routes.post("/cluster/node/{node}/uncordon",
              [c](const Request& r) { return setSchedule(*c, r, Schedule::kUncordon); });
  routes.post("/cluster/node/{node}/drain",
              [c](const Request& r) { return setSchedule(*c, r, Schedule::kDrain); });
  routes.get("/cluster/node/{node}/spec", [c, w](const Request& r) { return spec(*c, *w, r); });
  routes.put("/cluster/node/{node}/meta", [c](const Request& r) { return registerNode(*c, r); });
  routes.put("/cluster/node/{node}/status", [c](const Request& r) { return reportStatus(*c, r); });
}

}  // namespace lb::api
