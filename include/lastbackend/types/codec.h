#pragma once

// JSON and YAML (de)serialization of every object-model type. One path:
// YAML <-> JSON document <-> struct, so both formats share one field table.
// Round trips are lossless: fromJson(toJson(x)) == x, fromYaml(toYaml(x)) == x.
//
// Decoding is strict: unknown fields, wrong types and out-of-range numbers
// are kInvalidArgument with Status::field() set to the path
// ("spec.template.containers[0].image.name"). YAML plain scalars are read as
// text, so an integer field accepts `replicas: 2` and `replicas: "2"` in YAML
// (not in JSON). Input over kMaxDocumentBytes is kTooLarge; nesting deeper
// than kMaxDepth is kInvalidArgument. Nothing here throws.

#include <cstddef>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"
#include "lastbackend/types/cluster.h"
#include "lastbackend/types/component.h"
#include "lastbackend/types/deployment.h"
#include "lastbackend/types/endpoint.h"
#include "lastbackend/types/namespace.h"
#include "lastbackend/types/node.h"
#include "lastbackend/types/pod.h"
#include "lastbackend/types/route.h"
#include "lastbackend/types/secret.h"
#include "lastbackend/types/service.h"
#include "lastbackend/types/volume.h"

namespace lb::types {

inline constexpr size_t kMaxDocumentBytes = 4u << 20;
inline constexpr int kMaxDepth = 64;

// Declares toJson/toYaml/fromJson/fromYaml for one type.
// A type name cannot be parenthesized in a declaration.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define LB_TYPES_DECLARE_CODEC(Type)                          \
  std::string toJson(const Type& value, bool pretty = false); \
  std::string toYaml(const Type& value);                      \
  Status fromJson(std::string_view text, Type* out);          \
  Status fromYaml(std::string_view text, Type* out);
// NOLINTEND(bugprone-macro-parentheses)

LB_TYPES_DECLARE_CODEC(Meta)
LB_TYPES_DECLARE_CODEC(PodTemplate)
LB_TYPES_DECLARE_CODEC(Namespace)
LB_TYPES_DECLARE_CODEC(Service)
LB_TYPES_DECLARE_CODEC(Deployment)
LB_TYPES_DECLARE_CODEC(Pod)
LB_TYPES_DECLARE_CODEC(Endpoint)
LB_TYPES_DECLARE_CODEC(Volume)
LB_TYPES_DECLARE_CODEC(Secret)
LB_TYPES_DECLARE_CODEC(Config)
LB_TYPES_DECLARE_CODEC(Route)
LB_TYPES_DECLARE_CODEC(Node)
LB_TYPES_DECLARE_CODEC(Ingress)
LB_TYPES_DECLARE_CODEC(Discovery)
LB_TYPES_DECLARE_CODEC(Exporter)
LB_TYPES_DECLARE_CODEC(Cluster)
LB_TYPES_DECLARE_CODEC(Subnet)

#undef LB_TYPES_DECLARE_CODEC

// Convenience: `auto svc = parseJson<Service>(body);`
template <typename T>
StatusOr<T> parseJson(std::string_view text) {
  T value;
  Status s = fromJson(text, &value);
  if (!s.isOk()) return s;
  return value;
}

template <typename T>
StatusOr<T> parseYaml(std::string_view text) {
  T value;
  Status s = fromYaml(text, &value);
  if (!s.isOk()) return s;
  return value;
}

}  // namespace lb::types
