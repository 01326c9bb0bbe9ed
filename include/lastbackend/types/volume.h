#pragma once

// A volume: a directory on a node that pods of the namespace mount.

#include <cstdint>
#include <string>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/template.h"

namespace lb::types {

struct VolumeCapacity {
  int64_t storage = 0;  // bytes; manifests write "1GB"
  bool operator==(const VolumeCapacity&) const = default;
};

struct VolumeSpec {
  std::string type;  // driver, e.g. "dir"; empty = default
  NodeSelector selector;
  VolumeCapacity capacity;
  std::string accessMode;  // "rwo" | "rwm" | ""
  bool operator==(const VolumeSpec&) const = default;
};

struct VolumeStatus {
  State state = State::kCreated;
  std::string message;
  std::string path;  // host path once provisioned
  bool ready = false;
  bool operator==(const VolumeStatus&) const = default;
};

struct Volume {
  Meta meta;  // selflink "demo:data"
  VolumeSpec spec;
  VolumeStatus status;
  bool operator==(const Volume&) const = default;
};

}  // namespace lb::types
