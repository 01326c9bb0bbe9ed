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
  std::string internalIface;  // the interface internalIp is on: the overlay's underlay
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

// The node's share of the cluster network, kept by the controller (a
// registration keeps the stored spec, so the agent cannot undo it).
struct NodeNetwork {
  std::string cidr;     // the pod subnet leased to the node; empty while it has none
  std::string message;  // why it has none: the node is not ready for pods
  bool operator==(const NodeNetwork&) const = default;
};

// `lb node drain`: the api starts it (state "draining", with unschedulable
// set); the controller moves the node's pods elsewhere, new before old,
// keeps `pods` at how many are left and says "drained" when none is.
// Uncordoning ends it.
struct NodeDrain {
  std::string state;  // "", "draining" or "drained"
  int pods = 0;       // pods still on the node
  bool operator==(const NodeDrain&) const = default;
};

struct NodeSpec {
  bool unschedulable = false;
  NodeDrain drain;
  NodeNetwork network;
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
