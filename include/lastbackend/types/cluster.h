#pragma once

// The cluster summary. (A node's overlay subnet is types::Subnet, subnet.h.)

#include <string>

#include "lastbackend/types/meta.h"
#include "lastbackend/types/node.h"

namespace lb::types {

struct ClusterStatus {
  int nodes = 0;
  NodeResources capacity;
  NodeResources allocated;
  bool operator==(const ClusterStatus&) const = default;
};

struct Cluster {
  Meta meta;  // name/description from the api config
  ClusterStatus status;
  bool operator==(const Cluster&) const = default;
};

}  // namespace lb::types
