#pragma once

// `ipvs`, the reference's proxy driver, by name only: this build programs
// VIPs with nftables. The name stays valid in the driver table so that a
// configuration asking for it explicitly fails at start with a message
// saying what to use instead (see cpi::resolveDriver for the default).

#include <memory>

#include "lastbackend/runtime/cpi.h"

namespace lb::runtime::cpi::ipvs {

// True when the kernel has IPVS: /proc/net/ip_vs exists, or appears once
// `modprobe ip_vs` has run (`load` false: no modprobe, only the look).
bool kernelHasIpvs(bool load);

// Always an error naming nftables: kInvalidArgument on a kernel without
// IPVS, kUnsupported on one with it (no ipvs driver here).
StatusOr<std::unique_ptr<ProxyRuntime>> open(bool (*hasIpvs)(bool load) = kernelHasIpvs);

}  // namespace lb::runtime::cpi::ipvs
