#pragma once

// The docker CRI driver's networks: a docker "bridge" network on a bridge
// device that exists already (the CNI's), without NAT, for the pods of this
// node. Docker adopts the bridge (it keeps its address when that is the
// gateway) and hands out the subnet's addresses.

#include <string>

#include "lastbackend/runtime/cri.h"
#include "runtime/docker/client.h"

namespace lb::runtime::cri::docker {

// Docker's option names on a bridge network.
inline constexpr const char* kOptBridgeName = "com.docker.network.bridge.name";
inline constexpr const char* kOptMasquerade = "com.docker.network.bridge.enable_ip_masquerade";
inline constexpr const char* kOptMtu = "com.docker.network.driver.mtu";

// The body of POST /networks/create for `spec` (exposed for unit tests).
std::string networkCreateBody(const NetworkSpec& spec);

// A network as GET /networks/{name} describes it.
struct DockerNetwork {
  NetworkInfo info;
  std::string driver;      // "bridge"
  bool masquerade = true;  // docker NATs unless told not to
};

// kInternal when the answer is not a JSON object.
StatusOr<DockerNetwork> networkFromInspect(std::string_view body);

// "" when `have` serves `want`, else how it differs ("subnet 10.244.9.0/24,
// want 10.244.1.0/24").
std::string networkDifference(const DockerNetwork& have, const NetworkSpec& want);

StatusOr<NetworkInfo> ensureNetwork(const runtime::docker::Client& client, const NetworkSpec& spec);
Status removeNetwork(const runtime::docker::Client& client, const std::string& name);

}  // namespace lb::runtime::cri::docker
