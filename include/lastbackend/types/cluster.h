#pragma once

// The cluster summary and the per-node overlay subnets.

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

struct SubnetSpec {
  std::string cidr;  // also the subnet selflink
  std::string node;  // hostname owning the subnet
  std::string type;  // overlay kind, e.g. "vxlan"
  std::string iface;
  std::string addr;  // VTEP address
  std::string hwaddr;
  bool operator==(const SubnetSpec&) const = default;
};

struct SubnetStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const SubnetStatus&) const = default;
};

struct Subnet {
  Meta meta;
  SubnetSpec spec;
  SubnetStatus status;
  bool operator==(const Subnet&) const = default;
};

}  // namespace lb::types
