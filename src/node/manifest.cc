#include "node/manifest.h"

#include <nlohmann/json.hpp>

#include "lastbackend/types/codec.h"

namespace lb::node {

namespace {

template <class T>
Status decodeMap(const nlohmann::json& root, const char* field, std::map<std::string, T>* out) {
  auto it = root.find(field);
  if (it == root.end() || it->is_null()) return Status::ok();
  if (!it->is_object()) return invalidArgument("expected an object", field);
  for (const auto& [key, value] : it->items()) {
    T obj;
    Status s = types::fromJson(value.dump(), &obj);
    if (!s.isOk())
      return invalidArgument(
          s.message(), std::string(field) + "." + key + (s.field().empty() ? "" : "." + s.field()));
    if (obj.meta.selflink.empty()) obj.meta.selflink = key;
    (*out)[key] = std::move(obj);
  }
  return Status::ok();
}

}  // namespace

StatusOr<NodeManifest> parseNodeManifest(std::string_view json) {
  auto root = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return invalidArgument("node spec: expected a JSON object");
  NodeManifest m;
  LB_RETURN_IF_ERROR(decodeMap(root, "pods", &m.pods));
  LB_RETURN_IF_ERROR(decodeMap(root, "secrets", &m.secrets));
  LB_RETURN_IF_ERROR(decodeMap(root, "configs", &m.configs));
  LB_RETURN_IF_ERROR(decodeMap(root, "volumes", &m.volumes));
  LB_RETURN_IF_ERROR(decodeMap(root, "subnets", &m.subnets));
  LB_RETURN_IF_ERROR(decodeMap(root, "endpoints", &m.endpoints));
  if (auto r = root.find("revision"); r != root.end() && r->is_number_integer())
    m.revision = r->get<int64_t>();
  if (auto n = root.find("network"); n != root.end()) {
    if (!n->is_object()) return invalidArgument("expected an object", "network");
    NodeManifest::NetworkIndex index;
    auto since = n->find("since");
    if (since == n->end() || !since->is_number_integer())
      return invalidArgument("expected a revision", "network.since");
    index.since = since->get<int64_t>();
    for (auto [field, out] : {std::pair{"subnets", &index.subnets},
                              std::pair{"endpoints", &index.endpoints}}) {
      auto list = n->find(field);
      if (list == n->end() || !list->is_array())
        return invalidArgument("expected a list of keys", std::string("network.") + field);
      for (const auto& k : *list) {
        if (!k.is_string())
          return invalidArgument("expected a key", std::string("network.") + field);
        out->push_back(k.get<std::string>());
      }
    }
    m.network = std::move(index);
  }
  return m;
}

namespace {

template <class T>
Status mergeKeys(const std::map<std::string, T>& held, const std::vector<std::string>& keys,
                 const char* what, std::map<std::string, T>& next) {
  std::map<std::string, T> out;
  for (const auto& k : keys) {
    if (auto it = next.find(k); it != next.end()) {
      out.emplace(k, std::move(it->second));
    } else if (auto h = held.find(k); h != held.end()) {
      out.emplace(k, h->second);
    } else {
      return notFound(std::string("node spec delta: ") + what + " '" + k + "' is unknown here");
    }
  }
  next = std::move(out);
  return Status::ok();
}

}  // namespace

Status mergeNetwork(const NodeManifest& held, NodeManifest& next) {
  if (!next.network) return Status::ok();
  LB_RETURN_IF_ERROR(mergeKeys(held.subnets, next.network->subnets, "subnet", next.subnets));
  LB_RETURN_IF_ERROR(
      mergeKeys(held.endpoints, next.network->endpoints, "endpoint", next.endpoints));
  next.network.reset();
  return Status::ok();
}

}  // namespace lb::node
