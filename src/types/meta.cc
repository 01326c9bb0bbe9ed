#include "lastbackend/types/meta.h"

namespace lb::types {

namespace {
constexpr const char* kStateNames[] = {"created",     "provision", "ready",    "error",
                                       "degradation", "destroy",   "destroyed"};
}

const char* stateName(State state) { return kStateNames[static_cast<int>(state)]; }

std::optional<State> parseState(std::string_view text) {
  for (int i = 0; i < static_cast<int>(std::size(kStateNames)); ++i)
    if (text == kStateNames[i]) return static_cast<State>(i);
  return std::nullopt;
}

namespace {
std::string join(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out += ':';
    out += p;
    first = false;
  }
  return out;
}
}  // namespace

std::string namespaceSelflink(std::string_view ns) { return std::string(ns); }
std::string objectSelflink(std::string_view ns, std::string_view name) { return join({ns, name}); }
std::string deploymentSelflink(std::string_view ns, std::string_view service,
                               std::string_view deployment) {
  return join({ns, service, deployment});
}
std::string podSelflink(std::string_view ns, std::string_view service, std::string_view deployment,
                        std::string_view pod) {
  return join({ns, service, deployment, pod});
}
std::string nodeSelflink(std::string_view hostname) { return std::string(hostname); }

}  // namespace lb::types
