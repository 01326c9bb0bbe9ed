#pragma once

// Metadata shared by every object, object states, and the selflink formats
// that storage keys are built from ("/lastbackend/service/<selflink>").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lb::types {

using Labels = std::map<std::string, std::string>;

// Lifecycle of namespaced runtime objects (deployments, pods, services...).
// On the wire the lowercase name is used ("ready"), as the reference CLI prints.
enum class State { kCreated, kProvision, kReady, kError, kDegradation, kDestroy, kDestroyed };

const char* stateName(State state);
std::optional<State> parseState(std::string_view text);

struct Meta {
  std::string name;
  std::string namespace_;  // empty for cluster-scoped objects (namespace, node, cluster)
  std::string selflink;
  std::string description;
  Labels labels;
  std::string created;  // RFC 3339, UTC (lb::formatRfc3339)
  std::string updated;
  int64_t revision = 0;  // storage revision of the last change; 0 before the first write
  bool operator==(const Meta&) const = default;
};

// Selflinks: keep these formats exact, storage keys and CLI lookups rely on them.
std::string namespaceSelflink(std::string_view ns);                      // "demo"
std::string objectSelflink(std::string_view ns, std::string_view name);  // "demo:web"
std::string deploymentSelflink(std::string_view ns, std::string_view service,
                               std::string_view deployment);  // "demo:web:dep"
std::string podSelflink(std::string_view ns, std::string_view service, std::string_view deployment,
                        std::string_view pod);        // "demo:web:dep:pod"
std::string nodeSelflink(std::string_view hostname);  // "host-1"

}  // namespace lb::types
