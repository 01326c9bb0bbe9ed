#pragma once

// Facts about this host the agent registers: name, addresses, OS, arch, and
// capacity (CPU from the online CPUs, RAM from /proc/meminfo, storage from
// statvfs of the work dir).

#include <string>

#include "lastbackend/types/node.h"

namespace lb::node {

struct HostFacts {
  types::NodeInfo info;
  types::NodeResources capacity;
};

// `storagePath`: the filesystem whose size is the storage capacity.
HostFacts readHostFacts(const std::string& storagePath);

// "k=v,k2=v2" -> labels (LB_NODE_LABELS); malformed items are skipped.
types::Labels parseLabels(const std::string& text);

}  // namespace lb::node
