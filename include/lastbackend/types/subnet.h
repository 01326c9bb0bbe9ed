#pragma once

// A pod subnet: the part of the cluster pod range (`--pods-cidr`) that the
// controller leases to one node. Every node agent reads every subnet and
// programs the overlay to each peer's; the node holding a lease puts its own
// pods on it.

#include <string>

#include "lastbackend/types/meta.h"

namespace lb::types {

struct SubnetSpec {
  std::string type;   // network driver, e.g. "vxlan"
  std::string cidr;   // "10.244.1.0/24"
  std::string node;   // the node holding the lease
  std::string addr;   // that node's underlay IPv4: where overlay packets for the subnet go
  std::string iface;  // that node's underlay interface
  bool operator==(const SubnetSpec&) const = default;
};

struct SubnetStatus {
  State state = State::kCreated;
  std::string message;
  bool operator==(const SubnetStatus&) const = default;
};

struct Subnet {
  Meta meta;  // name = the cidr
  SubnetSpec spec;
  SubnetStatus status;
  bool operator==(const Subnet&) const = default;
};

}  // namespace lb::types
