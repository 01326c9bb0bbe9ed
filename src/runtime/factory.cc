// open() per runtime interface: a lookup in its table (runtime/drivers.h).

#include "lastbackend/runtime/factory.h"

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

namespace cni {
std::vector<std::string> driverNames() { return kDrivers.names(); }
StatusOr<std::unique_ptr<NetworkRuntime>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}
}  // namespace cni

}  // namespace lb::runtime
