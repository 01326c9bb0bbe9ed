#pragma once

// A node: a host running the agent; its facts, capacity and heartbeat.

#include <cstdint>
#include <string>

#include "lastbackend/types/meta.h"

namespace lb::types {

struct NodeInfo {
  std::string hostname;
  std::string os;
  std::string architecture;
  std::string externalIp;
  std::string internalIp;
  Labels labels;
  bool operator==(const NodeInfo&) const = default;
};

// Capacity or allocation: cpu in millicores, ram/storage in bytes.
struct NodeResources {
  int64_t cpu = 0;
  int64_t ram = 0;
  int64_t storage = 0;
  int pods = 0;
  bool operator==(const NodeResources&) const = default;
};

struct NodeSpec {
  bool unschedulable = false;
  bool operator==(const NodeSpec&) const = default;
};

struct NodeStatus {
  bool online = false;
  NodeResources capacity;
  NodeResources allocated;
  std::string heartbeat;  // RFC 3339 time of the last heartbeat
  bool operator==(const NodeStatus&) const = default;
};

struct Node {
  Meta meta;  // selflink = hostname
  NodeInfo info;
  NodeSpec spec;
  NodeStatus status;
  bool operator==(const Node&) const = default;
};

}  // namespace lb::types
