// open(): a lookup in the one table of storage drivers (storage/drivers.h).

#include "lastbackend/storage/storage.h"
#include "storage/drivers.h"

namespace lb::storage {

std::vector<std::string> driverNames() { return kDrivers.names(); }

StatusOr<std::unique_ptr<Storage>> open(const Options& options) {
  return kDrivers.open(options.driver, options);
}

}  // namespace lb::storage
