#pragma once

// THE table of storage drivers. Adding a driver (etcd) adds a line here and
// a folder beside mock/ and sqlite/; no other driver changes. The option
// tables (src/config) read the names from here at compile time, so
// `--storage` accepts exactly the drivers of this build.

#include "common/driver_table.h"
#include "lastbackend/storage/storage.h"
#include "storage/mock/mock_storage.h"
#include "storage/sqlite/sqlite_storage.h"

namespace lb::storage {

using OpenFn = StatusOr<std::unique_ptr<Storage>> (*)(const Options&);

inline constexpr DriverTable<OpenFn, 2> kDrivers{"storage driver",
                                                 "storage.driver",
                                                 {{
                                                     {"sqlite", &sqlite::open},
                                                     {"mock", &mock::open},
                                                 }}};

}  // namespace lb::storage
