#pragma once

// The stored JSON of pods, with the spec's encoding shared by the pods of a
// deployment. Creating 50 pods of one template used to encode the same
// template 50 times (a quarter of the controller's CPU in a rollout); here
// it is encoded once and spliced in. The output is byte for byte
// types::toJson of the pod with meta.revision = 0 (pod_json_test.cc).

#include <string>
#include <unordered_map>

#include "lastbackend/types/pod.h"

namespace lb::controller {

class PodJson {
 public:
  // Not thread-safe (the controller's loop thread only).
  std::string encode(const types::Pod& pod);

 private:
  struct Spec {
    types::PodSpec spec;
    std::string json;  // "" when the spec is the default one (omitted)
  };
  std::unordered_map<std::string, Spec> bySpecOwner_;  // deployment selflink -> spec
};

}  // namespace lb::controller
