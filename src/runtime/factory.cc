// open() per runtime interface: a lookup in its table (runtime/drivers.h).

#include "lastbackend/runtime/factory.h"

#include <spdlog/spdlog.h>

#include "runtime/drivers.h"

namespace lb::runtime {

namespace cri {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<ContainerRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}
}  // namespace cri

namespace cii {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<ImageRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}
}  // namespace cii

namespace csi {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<VolumeRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}
}  // namespace csi

namespace cpi {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<ProxyRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}

std::string resolveDriver(const std::string& configured, bool explicitlySet) {
  if (explicitlySet || configured != "ipvs") return configured;
  spdlog::info(
      "network proxy: using 'nftables' for the default 'ipvs' ({}); set --network-proxy "
      "nftables to say so",
      ipvs::kernelHasIpvs(false) ? "this build has no ipvs driver" : "this kernel has no IPVS");
  return "nftables";
}
}  // namespace cpi
namespace cni {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<NetworkRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}
}  // namespace cni

}  // namespace lb::runtime
