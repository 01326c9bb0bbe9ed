#pragma once

// The vxlan CNI driver: one VXLAN device over the underlay interface, a
// bridge for this node's pods, and per peer subnet a route, a neighbour and
// an FDB entry, all through netlink (runtime/netlink). See docs/network.md.

#include <memory>
#include <string>
#include <vector>

#include "lastbackend/runtime/cni.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/netlink/netlink.h"

namespace lb::runtime::cni::vxlan {

inline constexpr const char* kDriver = "vxlan";
// The VXLAN header and the outer IPv4, UDP and Ethernet headers.
inline constexpr int kOverhead = 50;

// Checks the options and picks the underlay; creates nothing until the
// first create(). Acts in the calling thread's network namespace.
StatusOr<std::unique_ptr<NetworkRuntime>> open(const Options& options);

// The interface that carries the overlay: `wanted` when set (kNotFound when
// no link has that name), else the default route's, else the only
// candidate: a link that is not loopback, not a bridge, a VXLAN device or a
// bridge port, not named in `skip`, and has an IPv4 address. kNotFound when
// there is none, kInvalidArgument listing them when there are several.
StatusOr<netlink::Link> chooseUnderlay(const std::string& wanted,
                                       const std::vector<netlink::Link>& links,
                                       const std::vector<netlink::Address>& addresses,
                                       const std::vector<netlink::Route>& routes,
                                       const std::vector<std::string>& skip);

}  // namespace lb::runtime::cni::vxlan
