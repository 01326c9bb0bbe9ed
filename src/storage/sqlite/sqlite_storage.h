#pragma once

// Embedded driver: one SQLite file (WAL), durable on return, shared safely
// by several processes. See docs/storage.md for the design.

#include <memory>

#include "lastbackend/storage/storage.h"

namespace lb::storage::sqlite {

// Opens (creating if needed) the database at options.sqlitePath. Errors carry
// SQLite's message: "sqlite: open '/path': unable to open database file".
StatusOr<std::unique_ptr<Storage>> open(const Options& options);

}  // namespace lb::storage::sqlite
