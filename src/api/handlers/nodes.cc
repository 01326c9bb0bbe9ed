// /cluster/node: node agents register (PUT .../meta), report (PUT .../status,
// with per-pod status) and fetch what they should run (GET .../spec).

#include <nlohmann/json.hpp>

#include "api/body.h"
#include "api/handlers/handlers.h"
#include "api/handlers/node_agent.h"
#include "api/kinds.h"
#include "api/registered.h"
#include "lastbackend/common/logging.h"
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

// The node's manifests, by kind, keyed by selflink: what the agent should run.
StatusOr<std::string> specBody(const Context& ctx, const std::string& name) {
  nlohmann::json out = nlohmann::json::object();
  int64_t revision = 0;
  const std::pair<keys::ManifestKind, const char*> kinds[] = {
      {keys::ManifestKind::kPod, "pods"},
      {keys::ManifestKind::kVolume, "volumes"},
      {keys::ManifestKind::kEndpoint, "endpoints"},
      {keys::ManifestKind::kSecret, "secrets"},
      {keys::ManifestKind::kConfig, "configs"}};
  for (const auto& [kind, field] : kinds) {
    auto prefix = keys::nodeManifestsPrefix(name, kind);
    if (!prefix.isOk()) return prefix.status();
    auto l = ctx.store->list(*prefix);
    if (!l.isOk()) return l.status();
    revision = std::max(revision, l->revision);
    nlohmann::json items = nlohmann::json::object();
    for (const auto& o : l->items) {
      auto value = nlohmann::json::parse(o.value, nullptr, /*allow_exceptions=*/false);
      if (value.is_discarded()) {
        spdlog::warn("manifest at '{}' is not JSON; skipped", o.key);
        continue;
      }
      items[o.key.substr(prefix->size())] = std::move(value);
    }
    out[field] = std::move(items);
  }
  out["revision"] = revision;
  return out.dump();
}

// With ?revision=N the answer waits for a change after N (docs/node-protocol.md).
Response spec(const Context& ctx, const Request& req) {
  auto node = readNode(ctx, req);
  if (!node.isOk()) return Response::error(node.status());
  const std::string name = req.param("node");
  if (req.queryParam("revision"))
    return longPollNodeSpec(ctx, req, [c = &ctx, name] { return specBody(*c, name); });
  auto body = specBody(ctx, name);
  if (!body.isOk()) return Response::error(body.status());
  return Response::json(200, *body);
}

// PUT .../meta: register or update. The body is a Node; its description,
// labels and info are taken. spec is taken when the node is new only, so an
// agent re-registering cannot undo an operator's decision (unschedulable).
Response registerNode(const Context& ctx, const Request& req) {
  auto k = nodeKeys(req);
  if (!k.isOk()) return Response::error(k.status());
  if (Status s = requireJsonBody(req); !s.isOk()) return Response::error(s);
  const std::string& name = req.param("node");
  Node body;
  if (Status s = types::fromJson(req.body, &body); !s.isOk()) return Response::error(s);
  if (!body.meta.name.empty() && body.meta.name != name)
    return Response::error(invalidArgument(
        "body names node '" + body.meta.name + "', the path '" + name + "'", "meta.name"));
  auto result = retryCas(ctx, nodeWhat(name), [&]() -> StatusOr<std::optional<Node>> {
    auto existing = readOptional<Node>(*ctx.store, k->info);
    if (!existing.isOk()) return existing.status();
    Node next = *existing ? **existing : Node{};
    const std::string now = ctx.now();
    if (!*existing) {
      next.meta.name = name;
      next.meta.selflink = types::nodeSelflink(name);
      next.meta.created = now;
      next.spec = body.spec;
    }
    next.meta.description = body.meta.description;
    next.meta.labels = body.meta.labels;
    next.info = body.info;
    if (next.info.hostname.empty()) next.info.hostname = name;
    if (*existing && infoValue(next) == infoValue(**existing)) return std::optional<Node>(next);
    next.meta.updated = now;
    auto rev = commit(ctx, {{storage::Op::Type::kPut, k->info, infoValue(next),
                             *existing ? (*existing)->meta.revision : 0}});
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Node>();
    next.meta.revision = **rev;
    return std::optional<Node>(next);
  });
  if (!result.isOk()) return Response::error(result.status());
  auto status = readOptional<Node>(*ctx.store, k->status);
  if (status.isOk()) mergeStatus(&*result, *status);
  return jsonObject(200, *result);
}

// PUT .../status: {"status": NodeStatus, "pods": [Pod with meta.selflink and
// status]}. The heartbeat is the API's clock (agents' clocks may drift).
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
  for (const auto& [key, value] : tree.items()) {
    if (key == "status") {
      Json wrapped = Json::object();
      wrapped["status"] = value;
      if (Status s = types::fromJson(types::detail::dumpJson(wrapped, false), &report); !s.isOk())
        return Response::error(s);
    } else if (key == "pods") {
      if (!value.is_array()) return Response::error(invalidArgument("expected a list", "pods"));
      for (size_t i = 0; i < value.size(); ++i) {
        types::Pod pod;
        std::string field = "pods[" + std::to_string(i) + "]";
        Status s = types::fromJson(types::detail::dumpJson(value[i], false), &pod);
        if (!s.isOk())
          return Response::error(
              invalidArgument(s.message(), field + (s.field().empty() ? "" : "." + s.field())));
        if (Status v = keys::validateSelfLink(pod.meta.selflink, 4, "pod selflink"); !v.isOk())
          return Response::error(invalidArgument(v.message(), field + ".meta.selflink"));
        pods.push_back(std::move(pod));
      }
    } else {
      return Response::error(invalidArgument("unknown field", key));
    }
  }
  auto result = retryCas(ctx, nodeWhat(name), [&]() -> StatusOr<std::optional<Node>> {
    auto node = readNode(ctx, req);
    if (!node.isOk()) return node.status();
    const std::string now = ctx.now();
    node->status = report.status;
    node->status.heartbeat = now;
    node->status.online = true;
    std::vector<storage::Op> ops{
        {storage::Op::Type::kPut, k->status, statusValue(*node), std::nullopt}};
    for (const auto& reported : pods) {
      auto key = keys::objectKey(keys::Collection::kPod, reported.meta.selflink);
      if (!key.isOk()) continue;
      auto pod = readOptional<types::Pod>(*ctx.store, *key);
      if (!pod.isOk()) return pod.status();
      if (!*pod || (*pod)->status.node != name) {
        spdlog::debug("node '{}' reported pod '{}' it does not run; skipped", name,
                      reported.meta.selflink);
        continue;
      }
      types::Pod next = **pod;
      next.status = reported.status;
      next.status.node = name;
      if (next.status == (*pod)->status) continue;
      next.meta.updated = now;
      ops.push_back({storage::Op::Type::kPut, *key, encodeForStore(next), (*pod)->meta.revision});
    }
    auto rev = commit(ctx, ops);
    if (!rev.isOk()) return rev.status();
    if (!*rev) return std::optional<Node>();
    return std::optional<Node>(*node);
  });
  if (!result.isOk()) return Response::error(result.status());
  return jsonObject(200, *result);
}

}  // namespace

void registerNodeRoutes(Routes& routes, const Context& ctx) {
  const Context* c = &ctx;
  routes.get("/cluster/node", [c](const Request&) { return list(*c); });
  routes.get("/cluster/node/{node}", [c](const Request& r) { return get(*c, r); });
  routes.del("/cluster/node/{node}", [c](const Request& r) { return remove(*c, r); });
  routes.get("/cluster/node/{node}/spec", [c](const Request& r) { return spec(*c, r); });
  routes.put("/cluster/node/{node}/meta", [c](const Request& r) { return registerNode(*c, r); });
  routes.put("/cluster/node/{node}/status", [c](const Request& r) { return reportStatus(*c, r); });
}

}  // namespace lb::api
