#pragma once

// Thin RAII over the SQLite C API that turns every error into a Status with
// context ("sqlite: <what>: <sqlite message>"). Not thread-safe: one thread
// uses a connection at a time.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb::storage::sqlite {

// Maps an SQLite result code to a Status: BUSY/LOCKED/IO/FULL are
// kUnavailable (retryable or environmental), the rest kInternal.
Status sqliteStatus(int rc, std::string_view what, const char* message);

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Status prepare(sqlite3* db, std::string_view sql);
  // Resets for the next use; bindings are 1-based.
  void reset();
  void bind(int i, int64_t v);
  void bind(int i, std::string_view text);      // as TEXT (memcmp ordering)
  void bindBlob(int i, std::string_view data);  // as BLOB
  // SQLITE_ROW, SQLITE_DONE, or an error code.
  int step();
  int64_t int64(int col);
  std::string text(int col);
  sqlite3_stmt* raw() { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  Status open(const std::string& path);
  // While another connection (often another process) holds the lock, retry
  // every ~1 ms for up to `timeout`, then fail with SQLITE_BUSY. SQLite's
  // own busy_timeout sleeps 10-100 ms between tries once a wait goes past a
  // few ms, far longer than a group commit holds the write lock.
  void setBusyTimeout(std::chrono::milliseconds timeout);
  Status exec(std::string_view sql);
  // A Status for `rc` from this connection, with its error message.
  Status error(int rc, std::string_view what);
  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }

 private:
  static int onBusy(void* self, int tries);

  sqlite3* db_ = nullptr;
  std::string path_;
  std::chrono::milliseconds busyTimeout_{0};
  std::chrono::steady_clock::time_point busySince_;
};

}  // namespace lb::storage::sqlite
