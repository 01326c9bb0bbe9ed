#pragma once

// A deployment: one revision of a service template, managed by the controller.

#include <string>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct DeploymentSpec {
  PodTemplate template_;  // wire key "template"
  NodeSelector selector;
  int replicas = 1;
  std::string templateHash;  // templateHash(template_) when the deployment was made
  bool operator==(const DeploymentSpec&) const = default;
};

struct DeploymentReplicas {
  int total = 0;
  int provision = 0;
  int ready = 0;
  int errored = 0;
  bool operator==(const DeploymentReplicas&) const = default;
};

struct DeploymentStatus {
  State state = State::kCreated;
  std::string message;
  DeploymentReplicas replicas;
  bool operator==(const DeploymentStatus&) const = default;
};

struct Deployment {
  Meta meta;  // selflink "demo:web:<dep>"
  DeploymentSpec spec;
  DeploymentStatus status;
  bool operator==(const Deployment&) const = default;
};

}  // namespace lb::types
