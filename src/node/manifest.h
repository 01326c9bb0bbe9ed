#pragma once

// What a node should run, as GET /cluster/node/{node}/spec answers it (see
// docs/node-protocol.md): pods, and the secrets, configs and volumes they
// reference, each keyed by selflink, the cluster network (subnets,
// endpoints), plus the store revision of the listing.

#include <cstdint>
#include <map>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/endpoint.h"
#include "lastbackend/types/pod.h"
#include "lastbackend/types/secret.h"
#include "lastbackend/types/cluster.h"
#include "lastbackend/types/volume.h"

namespace lb::node {

struct NodeManifest {
  std::map<std::string, types::Pod> pods;        // selflink -> pod (spec; status ignored)
  std::map<std::string, types::Secret> secrets;  // "ns:name"
  std::map<std::string, types::Config> configs;  // "ns:name"
  std::map<std::string, types::Volume> volumes;  // "ns:name"
  // The cluster network, the same for every node: every pod subnet (by
  // cidr, this node's own among them) and every service endpoint (by
  // selflink "ns:service").
  std::map<std::string, types::Subnet> subnets;
  std::map<std::string, types::Endpoint> endpoints;
  int64_t revision = 0;
  // A delta answer (?network=N): `subnets` and `endpoints` hold only what
  // changed after revision `since`; these are the keys of all there are.
  struct NetworkIndex {
    int64_t since = 0;
    std::vector<std::string> subnets, endpoints;
  };
  std::optional<NetworkIndex> network;
};

// Completes the delta `next` (next.network set) from `held`, the last full
// manifest: every key of the index not in the answer is taken from `held`.
// kNotFound naming a key that neither has (then ask again in full).
Status mergeNetwork(const NodeManifest& held, NodeManifest& next);

// Parses the spec answer. kInvalidArgument naming the item that does not
// decode (one bad item fails the whole answer: never run half a spec).
StatusOr<NodeManifest> parseNodeManifest(std::string_view json);

}  // namespace lb::node
