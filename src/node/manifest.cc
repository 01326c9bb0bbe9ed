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
  return m;
}

}  // namespace lb::node
