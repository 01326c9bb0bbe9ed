#pragma once

// A pod: one scheduled replica of a deployment, run by a node agent.

#include <string>
#include <vector>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct PodSpec {
  PodTemplate template_;  // wire key "template"
  NodeSelector selector;
  bool operator==(const PodSpec&) const = default;
};

struct ContainerStatus {
  std::string id;
  std::string name;
  std::string image;
  std::string state;  // runtime words: created | started | stopped | error
  bool ready = false;
  int restarts = 0;
  std::string message;
  bool operator==(const ContainerStatus&) const = default;
};

struct PodStatus {
  State state = State::kCreated;
  std::string message;
  bool ready = false;
  std::string ip;
  std::vector<ContainerStatus> containers;
  std::string node;  // hostname the pod is scheduled on; empty = not yet
  bool operator==(const PodStatus&) const = default;
};

struct Pod {
  Meta meta;  // selflink "demo:web:<dep>:<pod>"
  PodSpec spec;
  PodStatus status;
  bool operator==(const Pod&) const = default;
};

}  // namespace lb::types
