// open(): the one table of storage drivers. Adding a driver (etcd) adds a
// line here and a folder beside mock/ and sqlite/; no other driver changes.

#include <array>

#include "lastbackend/storage/storage.h"
#include "storage/mock/mock_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace lb::storage {
namespace {

struct Driver {
  std::string_view name;
  StatusOr<std::unique_ptr<Storage>> (*open)(const Options&);
};

constexpr std::array kDrivers = {
    Driver{"sqlite", &sqlite::open},
    Driver{"mock", &mock::open},
};

}  // namespace

std::vector<std::string> driverNames() {
  std::vector<std::string> names;
  for (const auto& d : kDrivers) names.emplace_back(d.name);
  return names;
}

StatusOr<std::unique_ptr<Storage>> open(const Options& options) {
  for (const auto& d : kDrivers) {
    if (d.name == options.driver) {
      auto s = d.open(options);
      if (!s) return s.status().withContext("storage driver '" + options.driver + "'");
      return s;
    }
  }
  std::string valid;
  for (const auto& d : kDrivers) {
    if (!valid.empty()) valid += ", ";
    valid += d.name;
  }
  return invalidArgument("unknown storage driver '" + options.driver + "' (valid: " + valid + ")",
                         "storage.driver");
}

}  // namespace lb::storage
