#pragma once

// Facts about this host the agent registers: name, addresses, OS, arch, and
// capacity (CPU from the online CPUs, RAM from /proc/meminfo, storage from
// statvfs of the work dir).

#include <string>
#include <vector>

#include "lastbackend/types/node.h"

namespace lb::node {

struct HostFacts {
  types::NodeInfo info;
  types::NodeResources capacity;
};

// `storagePath`: the filesystem whose size is the storage capacity.
HostFacts readHostFacts(const std::string& storagePath);

// {"k=v", "k2=v2"} (--node-labels) -> labels; items without '=' are skipped
// (the option loader already refused them).
types::Labels parseLabels(const std::vector<std::string>& items);

}  // namespace lb::node
