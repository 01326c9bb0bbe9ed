#pragma once

// The nftables CPI driver: one table of its own (`ip lastbackend`, see
// ruleset.h) programmed through libnftables, one batch per change, and UDP
// conntrack entries of removed backends deleted (conntrack.h).
//
// The driver acts in the network namespace of the thread that opened it:
// its netlink sockets are made there. Opening adopts what the table holds
// (nothing is flushed) and declares the table's skeleton when it is not
// whole; kPermissionDenied without CAP_NET_ADMIN.

#include <memory>

#include "lastbackend/runtime/cpi.h"

namespace lb::runtime::cpi::nftables {

StatusOr<std::unique_ptr<ProxyRuntime>> open();

}  // namespace lb::runtime::cpi::nftables
