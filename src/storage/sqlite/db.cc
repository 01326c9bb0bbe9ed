#include "storage/sqlite/db.h"

#include <filesystem>
#include <thread>

namespace lb::storage::sqlite {

Status sqliteStatus(int rc, std::string_view what, const char* message) {
  std::string msg =
      "sqlite: " + std::string(what) + ": " + (message && *message ? message : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return unavailable(std::move(msg));
    case SQLITE_TOOBIG:
      return {Code::kTooLarge, std::move(msg)};
    default:
      return internalError(std::move(msg));
  }
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Status Stmt::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_finalize(s_);
  s_ = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  if (rc != SQLITE_OK)
    return sqliteStatus(rc, "prepare '" + std::string(sql) + "'", sqlite3_errmsg(db));
  return Status::ok();
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}
void Stmt::bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(s_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}
void Stmt::bindBlob(int i, std::string_view data) {
  sqlite3_bind_blob(s_, i, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
}
int Stmt::step() { return sqlite3_step(s_); }
int64_t Stmt::int64(int col) { return sqlite3_column_int64(s_, col); }
std::string Stmt::text(int col) {
  const void* p = sqlite3_column_blob(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::open(const std::string& path) {
  path_ = path;
  // The default file (/var/lib/lastbackend/lastbackend.db) lives in a
  // directory a fresh host does not have; SQLite creates files, not
  // directories, so `lastbackend api` would fail at start without this.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && path != ":memory:" && path.rfind("file:", 0) != 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      return unavailable("sqlite: open '" + path + "': creating '" + dir.string() +
                         "': " + ec.message());
  }
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqliteStatus(rc, "open '" + path + "'", db_ ? sqlite3_errmsg(db_) : nullptr);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return s;
  }
  sqlite3_extended_result_codes(db_, 1);
  return Status::ok();
}

void Db::setBusyTimeout(std::chrono::milliseconds timeout) {
  busyTimeout_ = timeout;
  sqlite3_busy_handler(db_, &Db::onBusy, this);
}

int Db::onBusy(void* self, int tries) {
  auto* db = static_cast<Db*>(self);
  auto now = std::chrono::steady_clock::now();
  if (tries == 0) db->busySince_ = now;
  if (now - db->busySince_ >= db->busyTimeout_) return 0;
  // The first tries spin briefly (a commit in flight ends within a few
  // hundred microseconds), later ones sleep 1 ms.
  std::this_thread::sleep_for(tries < 8 ? std::chrono::microseconds(100)
                                        : std::chrono::microseconds(1000));
  return 1;
}

Status Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  Status st = sqliteStatus(rc, "'" + s + "' on '" + path_ + "'", err);
  sqlite3_free(err);
  return st;
}

Status Db::error(int rc, std::string_view what) {
  return sqliteStatus(rc, std::string(what) + " on '" + path_ + "'", sqlite3_errmsg(db_));
}

}  // namespace lb::storage::sqlite
