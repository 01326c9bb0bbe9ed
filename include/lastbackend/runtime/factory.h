#pragma once

// Opening runtimes by driver name. One explicit table per interface lives in
// src/runtime/drivers.h; an unknown name is kInvalidArgument listing the
// valid ones. Link lb_runtime.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cii.h"
#include "lastbackend/runtime/cpi.h"
#include "lastbackend/runtime/cni.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/runtime/csi.h"

namespace lb::runtime {

// Options of the docker drivers (CRI and CII share them).
struct DockerOptions {
  // "unix:///path/docker.sock" or "/path/docker.sock"; empty = $DOCKER_HOST,
  // else /var/run/docker.sock. tcp:// is refused for now.
  std::string host;
  // Pinned API version ("1.41"); empty = negotiate with GET /version.
  std::string apiVersion;
  // Limit for one non-streaming call (streams have none once started).
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

namespace cri {
struct Options {
  std::string driver = "docker";  // container.cri.type
  DockerOptions docker;
};
std::vector<std::string> driverNames();
StatusOr<std::unique_ptr<ContainerRuntime>> open(const Options& options);
}  // namespace cri

namespace cii {
struct Options {
  std::string driver = "docker";  // container.iri.type
  DockerOptions docker;
};
std::vector<std::string> driverNames();
StatusOr<std::unique_ptr<ImageRuntime>> open(const Options& options);
}  // namespace cii

namespace csi {
struct Options {
  std::string driver = "dir";
  std::string root = "/var/run/lastbackend";  // container.csi.dir.root
};
std::vector<std::string> driverNames();
StatusOr<std::unique_ptr<VolumeRuntime>> open(const Options& options);
}  // namespace csi

namespace cpi {
struct Options {
  std::string driver = "nftables";  // network.cpi.type, after resolveDriver()
};
std::vector<std::string> driverNames();
StatusOr<std::unique_ptr<ProxyRuntime>> open(const Options& options);

// The driver to open for network.cpi.type `configured`. The reference's
// default "ipvs" (`explicitlySet` false: nobody asked for it) becomes
// "nftables", and the log says why (this kernel has no IPVS, or this build
// no ipvs driver). Anything given explicitly stays as it is, so that
// open() refuses an explicit "ipvs" with an error that names nftables.
std::string resolveDriver(const std::string& configured, bool explicitlySet);
}  // namespace cpi
namespace cni {
struct Options {
  std::string driver = "vxlan";  // network.cni.type
  std::string node;              // this node's name: the manifest of its own subnet names it
  // The interface overlay packets leave by (network.cni.interface.external);
  // "" = the default route's, else the only one that can be.
  std::string underlay;
  std::string bridge = "lb0";       // the pods' bridge (network.cni.interface.internal)
  std::string device = "lb.vxlan";  // the VXLAN device
  uint32_t vni = 1;                 // network.cni.vxlan.vni
  int port = 4789;                  // network.cni.vxlan.port (UDP)
};
std::vector<std::string> driverNames();
// The driver acts in the network namespace of the thread that opens it.
StatusOr<std::unique_ptr<NetworkRuntime>> open(const Options& options);
}  // namespace cni

}  // namespace lb::runtime
