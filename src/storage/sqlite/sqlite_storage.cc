#include "storage/sqlite/sqlite_storage.h"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "storage/sqlite/change_signal.h"
#include "storage/sqlite/db.h"
#include "storage/watch_hub.h"

namespace lb::storage::sqlite {
namespace {

using namespace std::chrono_literals;

// The poller reads other processes' writes. A change of the WAL file
// (ChangeSignal) starts a window of kHotWindow in which it polls every
// kPollInterval, as it always did: the file event comes with a commit's
// first write, the commit is visible only after its fsync (which no event
// marks), so one poll at the event would miss it. Outside the window it
// sleeps until the next file event, polling once per kIdlePoll as a safety
// net where inotify says nothing (some network filesystems); without
// inotify it polls every kPollInterval. In-process writes do not wait for it.
constexpr auto kPollInterval = 10ms;
constexpr auto kHotWindow = 250ms;
// A file event while this instance commits (or just after) is most likely
// its own write, already published from memory: a short window then.
constexpr auto kOwnEcho = 30ms;
constexpr auto kIdlePoll = 1000ms;
// Transactions folded into one SQLite transaction (one fsync) at most.
constexpr size_t kMaxBatch = 4096;

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  revision INTEGER NOT NULL,
  create_revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS changes(
  id INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  type INTEGER NOT NULL,
  key TEXT NOT NULL,
  value BLOB);
CREATE INDEX IF NOT EXISTS changes_revision ON changes(revision);
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(name, value) VALUES('schema', 1), ('revision', 0), ('compacted', 0);
)sql";

// Smallest string greater than every string starting with `s`; empty if none.
std::string prefixEnd(std::string s) {
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

// Resets a statement when the scope ends, so no read transaction lingers
// (a lingering reader would stop WAL checkpoints).
struct Using {
  explicit Using(Stmt& s) : stmt(s) {}
  ~Using() { stmt.reset(); }
  Stmt& stmt;
};

// One connection with its prepared statements.
struct Conn {
  Db db;
  Stmt getKv, getMeta, listRange, listFrom, changesRange, countKv;
  Stmt upsertKv, deleteKv, insertChange, trimChanges, setMeta;

  Status init(const std::string& path) {
    LB_RETURN_IF_ERROR(db.open(path));
    // Busy waits cover other processes holding the write lock; FULL makes
    // every commit fsync the WAL, which "durable on return" needs.
    db.setBusyTimeout(std::chrono::seconds(10));
    LB_RETURN_IF_ERROR(
        db.exec("PRAGMA synchronous = FULL;"
                "PRAGMA journal_size_limit = 8388608;"
                "PRAGMA wal_autocheckpoint = 1000;"));
    return Status::ok();
  }

  Status prepare() {
    sqlite3* d = db.raw();
    LB_RETURN_IF_ERROR(
        getKv.prepare(d, "SELECT value, revision, create_revision FROM kv WHERE key = ?1"));
    LB_RETURN_IF_ERROR(getMeta.prepare(d, "SELECT value FROM meta WHERE name = ?1"));
    LB_RETURN_IF_ERROR(listRange.prepare(
        d,
        "SELECT key, value, revision, create_revision FROM kv WHERE key >= ?1 AND key < ?2 "
        "ORDER BY key"));
    LB_RETURN_IF_ERROR(listFrom.prepare(
        d, "SELECT key, value, revision, create_revision FROM kv WHERE key >= ?1 ORDER BY key"));
    LB_RETURN_IF_ERROR(changesRange.prepare(
        d,
        "SELECT revision, type, key, value FROM changes WHERE revision > ?1 AND revision <= ?2 "
        "ORDER BY revision, id"));
    LB_RETURN_IF_ERROR(countKv.prepare(d, "SELECT count(*) FROM kv"));
    LB_RETURN_IF_ERROR(upsertKv.prepare(
        d,
        "INSERT INTO kv(key, value, revision, create_revision) VALUES(?1, ?2, ?3, ?4) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, revision = excluded.revision, "
        "create_revision = excluded.create_revision"));
    LB_RETURN_IF_ERROR(deleteKv.prepare(d, "DELETE FROM kv WHERE key = ?1"));
    LB_RETURN_IF_ERROR(insertChange.prepare(
        d, "INSERT INTO changes(revision, type, key, value) VALUES(?1, ?2, ?3, ?4)"));
    LB_RETURN_IF_ERROR(trimChanges.prepare(d, "DELETE FROM changes WHERE revision <= ?1"));
    LB_RETURN_IF_ERROR(setMeta.prepare(d, "UPDATE meta SET value = ?2 WHERE name = ?1"));
    return Status::ok();
  }

  // Runs a statement that returns no rows.
  Status run(Stmt& s, std::string_view what) {
    Using u(s);
    int rc = s.step();
    if (rc != SQLITE_DONE) return db.error(rc, what);
    return Status::ok();
  }

  StatusOr<int64_t> meta(const char* name) {
    Using u(getMeta);
    getMeta.bind(1, std::string_view(name));
    int rc = getMeta.step();
    if (rc == SQLITE_ROW) return getMeta.int64(0);
    if (rc == SQLITE_DONE) return internalError("sqlite: meta '" + std::string(name) + "' missing");
    return db.error(rc, "read meta");
  }
};

// ROLLBACK / RELEASE of a savepoint fail only on a broken connection, and
// the next statement then fails and says so: logged, not returned.
void undo(Conn& c, const char* sql) {
  Status s = c.db.exec(sql);
  if (!s.isOk()) spdlog::warn("sqlite: {}: {}", sql, s.message());
}

// Runs `fn` inside a read transaction (one consistent snapshot).
template <typename Fn>
Status readTxn(Conn& c, Fn&& fn) {
  LB_RETURN_IF_ERROR(c.db.exec("BEGIN"));
  Status s = fn();
  Status end = c.db.exec(s.isOk() ? "COMMIT" : "ROLLBACK");
  return s.isOk() ? end : s;
}

// The txn evaluator's view of the database, inside the committer's write
// transaction (so it sees the batch's earlier writes).
class SqlTarget : public TxnTarget {
 public:
  SqlTarget(Conn& c, const std::string& prefix) : c_(c), prefix_(prefix) {}
  StatusOr<std::optional<Object>> load(const std::string& key) override {
    Using u(c_.getKv);
    c_.getKv.bind(1, prefix_ + key);
    int rc = c_.getKv.step();
    if (rc == SQLITE_DONE) return std::optional<Object>();
    if (rc != SQLITE_ROW) return c_.db.error(rc, "read '" + key + "'");
    return std::optional<Object>(
        Object{key, c_.getKv.text(0), c_.getKv.int64(1), c_.getKv.int64(2)});
  }
  Status store(const Object& o) override {
    Stmt& s = c_.upsertKv;
    s.bind(1, prefix_ + o.key);
    s.bindBlob(2, o.value);
    s.bind(3, o.revision);
    s.bind(4, o.createRevision);
    return c_.run(s, "write '" + o.key + "'");
  }
  Status erase(const std::string& key) override {
    c_.deleteKv.bind(1, prefix_ + key);
    return c_.run(c_.deleteKv, "delete '" + key + "'");
  }

 private:
  Conn& c_;
  const std::string& prefix_;
};

struct Pending {
  const std::vector<Op>* ops;
  StatusOr<int64_t> result = Status(Code::kInternal, "not committed");
  bool done = false;
  std::condition_variable cv;
};

class SqliteStorage : public Storage {
 public:
  explicit SqliteStorage(const Options& options)
      : path_(options.sqlitePath),
        prefix_(options.prefix.empty() ? "" : "/" + options.prefix),
        historySize_(std::max<int64_t>(1, options.historySize)),
        hub_(static_cast<size_t>(std::max<int64_t>(historySize_, 1024))) {}

  ~SqliteStorage() override { stop(); }

  Status start() {
    LB_RETURN_IF_ERROR(writer_.init(path_));
    // journal_mode=WAL is stored in the file; setting it needs a moment of
    // exclusive access, which the busy handler waits for.
    LB_RETURN_IF_ERROR(writer_.db.exec("PRAGMA journal_mode = WAL"));
    LB_RETURN_IF_ERROR(writer_.db.exec("BEGIN IMMEDIATE"));
    Status s = writer_.db.exec(kSchema);
    LB_RETURN_IF_ERROR(writer_.db.exec(s.isOk() ? "COMMIT" : "ROLLBACK"));
    LB_RETURN_IF_ERROR(s);
    LB_RETURN_IF_ERROR(writer_.prepare());
    LB_RETURN_IF_ERROR(dispatch_.init(path_));
    LB_RETURN_IF_ERROR(dispatch_.prepare());
    auto rev = dispatch_.meta("revision");
    if (!rev) return rev.status();
    published_ = *rev;
    signal_.watch(path_ + "-wal");
    committer_ = std::thread([this] { commitLoop(); });
    poller_ = std::thread([this] { pollLoop(); });
    return Status::ok();
  }

  StatusOr<Info> info() override {
    Info i;
    i.driver = "sqlite";
    Status s = withReader([&](Conn& c) {
      return readTxn(c, [&]() -> Status {
        auto rev = c.meta("revision");
        if (!rev) return rev.status();
        auto compacted = c.meta("compacted");
        if (!compacted) return compacted.status();
        i.revision = *rev;
        i.oldestRevision = *compacted;
        Using u(c.countKv);
        int rc = c.countKv.step();
        if (rc != SQLITE_ROW) return c.db.error(rc, "count keys");
        i.keys = static_cast<uint64_t>(c.countKv.int64(0));
        return Status::ok();
      });
    });
    if (!s.isOk()) return s;
    for (const auto& f : {path_, path_ + "-wal"}) {
      struct stat st {};
      if (::stat(f.c_str(), &st) == 0) i.bytes += static_cast<uint64_t>(st.st_size);
    }
    return i;
  }

  StatusOr<Object> get(std::string_view key) override {
    LB_RETURN_IF_ERROR(validateKey(key));
    std::optional<Object> found;
    Status s = withReader([&](Conn& c) -> Status {
      SqlTarget t(c, prefix_);
      auto r = t.load(std::string(key));
      if (!r) return r.status();
      found = std::move(*r);
      return Status::ok();
    });
    if (!s.isOk()) return s;
    if (!found) return notFound("key '" + std::string(key) + "' not found");
    return std::move(*found);
  }

  StatusOr<ListResult> list(std::string_view prefix) override {
    ListResult out;
    auto full = fullPrefix(prefix);
    std::string lo = full ? *full : std::string();
    std::string hi = prefixEnd(lo);
    Status s = withReader([&](Conn& c) {
      return readTxn(c, [&]() -> Status {
        auto rev = c.meta("revision");
        if (!rev) return rev.status();
        out.revision = *rev;
        if (!full) return Status::ok();
        Stmt& q = hi.empty() ? c.listFrom : c.listRange;
        Using u(q);
        q.bind(1, lo);
        if (!hi.empty()) q.bind(2, hi);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
          out.items.push_back(
              Object{q.text(0).substr(prefix_.size()), q.text(1), q.int64(2), q.int64(3)});
        }
        if (rc != SQLITE_DONE) return c.db.error(rc, "list '" + std::string(prefix) + "'");
        return Status::ok();
      });
    });
    if (!s.isOk()) return s;
    return out;
  }

  StatusOr<int64_t> txn(const std::vector<Op>& ops) override {
    LB_RETURN_IF_ERROR(validateOps(ops));
    Pending p;
    p.ops = &ops;
    std::unique_lock lock(queueMu_);
    if (stopping_) return unavailable("sqlite: storage '" + path_ + "' is closed");
    queue_.push_back(&p);
    queueCv_.notify_one();
    p.cv.wait(lock, [&] { return p.done; });
    return std::move(p.result);
  }

  StatusOr<std::unique_ptr<WatchStream>> watch(std::string_view prefix,
                                               int64_t afterRevision) override {
    // Under dispatchMu_ no event is published, so replay (from the table, up
    // to published_) and live events (after published_) join without a gap.
    std::lock_guard lock(dispatchMu_);
    std::vector<Event> replay;
    Status s = readTxn(dispatch_, [&]() -> Status {
      auto compacted = dispatch_.meta("compacted");
      if (!compacted) return compacted.status();
      if (afterRevision < *compacted) {
        return Status(Code::kOutOfRange, "revision " + std::to_string(afterRevision) +
                                             " was compacted (oldest is " +
                                             std::to_string(*compacted) + ")");
      }
      auto full = fullPrefix(prefix);
      if (afterRevision >= published_ || !full) return Status::ok();
      auto events = readChanges(afterRevision, published_, *full);
      if (!events) return events.status();
      replay = std::move(*events);
      return Status::ok();
    });
    if (!s.isOk()) return s;
    return hub_.add(std::string(prefix), afterRevision, replay);
  }

 private:
  // The stored-key prefix of a relative one. Stored keys are prefix_ + "/...",
  // so "" becomes "/lastbackend/" — never matching another store's
  // "/lastbackend2/..." in the same file. A relative prefix that does not
  // start with '/' matches no key: nullopt.
  std::optional<std::string> fullPrefix(std::string_view prefix) const {
    if (prefix.empty()) return prefix_ + "/";
    if (prefix.front() != '/') return std::nullopt;
    return prefix_ + std::string(prefix);
  }

  template <typename Fn>
  Status withReader(Fn&& fn) {
    std::unique_ptr<Conn> c;
    {
      std::lock_guard lock(poolMu_);
      if (!pool_.empty()) {
        c = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!c) {
      c = std::make_unique<Conn>();
      LB_RETURN_IF_ERROR(c->init(path_));
      LB_RETURN_IF_ERROR(c->prepare());
    }
    Status s = fn(*c);
    std::lock_guard lock(poolMu_);
    pool_.push_back(std::move(c));
    return s;
  }

  // Events in (after, upTo] whose full key starts with `fullPrefix`, with
  // keys made relative. Caller holds dispatchMu_ and a read transaction.
  StatusOr<std::vector<Event>> readChanges(int64_t after, int64_t upTo,
                                           const std::string& fullPrefix) {
    std::vector<Event> events;
    Stmt& q = dispatch_.changesRange;
    Using u(q);
    q.bind(1, after);
    q.bind(2, upTo);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      std::string key = q.text(2);
      if (key.compare(0, fullPrefix.size(), fullPrefix) != 0) continue;
      Event ev;
      ev.revision = q.int64(0);
      ev.type = q.int64(1) == 0 ? Event::Type::kPut : Event::Type::kDelete;
      ev.key = key.substr(prefix_.size());
      ev.value = q.text(3);
      events.push_back(std::move(ev));
    }
    if (rc != SQLITE_DONE) return dispatch_.db.error(rc, "read changes");
    return events;
  }

  void commitLoop() {
    std::vector<Pending*> batch;
    while (true) {
      {
        std::unique_lock lock(queueMu_);
        queueCv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, and everything drained
        if (queue_.size() <= kMaxBatch) {
          batch.swap(queue_);
        } else {
          batch.assign(queue_.begin(), queue_.begin() + kMaxBatch);
          queue_.erase(queue_.begin(), queue_.begin() + kMaxBatch);
        }
      }
      int64_t first = 0, last = 0;
      std::vector<Event> events;
      committing_ = true;
      commitBatch(batch, first, last, events);
      {
        std::lock_guard lock(queueMu_);
        for (Pending* p : batch) {
          p->done = true;
          p->cv.notify_one();
        }
      }
      batch.clear();
      if (last > 0) publishOwn(first, last, events);
      lastOwnCommit_ = std::chrono::steady_clock::now().time_since_epoch().count();
      committing_ = false;
    }
  }

  // One SQLite transaction (one fsync) for the whole batch; each logical
  // transaction in its own savepoint, so a failed condition or statement
  // undoes only that one.
  void commitBatch(std::vector<Pending*>& batch, int64_t& first, int64_t& last,
                   std::vector<Event>& events) {
    auto failAll = [&](const Status& s) {
      for (Pending* p : batch) p->result = s;
      first = last = 0;
      events.clear();
    };
    Status s = writer_.db.exec("BEGIN IMMEDIATE");
    if (!s.isOk()) return failAll(s);
    auto rev = writer_.meta("revision");  // other processes may have written
    if (!rev) {
      undo(writer_, "ROLLBACK");
      return failAll(rev.status());
    }
    int64_t revision = *rev;
    first = revision + 1;
    SqlTarget target(writer_, prefix_);
    for (Pending* p : batch) {
      s = writer_.db.exec("SAVEPOINT t");
      if (!s.isOk()) {
        p->result = s;
        continue;
      }
      auto applied = applyTxn(*p->ops, revision + 1, target);
      Status st = applied.status();
      if (st.isOk()) st = recordChanges(*applied);
      if (!st.isOk()) {
        undo(writer_, "ROLLBACK TO t");
        undo(writer_, "RELEASE t");
        p->result = st;
        continue;
      }
      undo(writer_, "RELEASE t");
      p->result = ++revision;
      for (auto& ev : *applied) events.push_back(std::move(ev));
    }
    last = revision >= first ? revision : 0;
    if (last == 0) {
      undo(writer_, "ROLLBACK");
      return;
    }
    s = finishBatch(revision);
    if (s.isOk()) s = writer_.db.exec("COMMIT");
    if (!s.isOk()) {
      undo(writer_, "ROLLBACK");
      for (Pending* p : batch) {
        if (p->result.isOk()) p->result = s.withContext("commit");
      }
      first = last = 0;
      events.clear();
    }
  }

  Status recordChanges(const std::vector<Event>& events) {
    for (const auto& ev : events) {
      Stmt& s = writer_.insertChange;
      s.bind(1, ev.revision);
      s.bind(2, int64_t{ev.type == Event::Type::kPut ? 0 : 1});
      s.bind(3, prefix_ + ev.key);
      s.bindBlob(4, ev.value);
      LB_RETURN_IF_ERROR(writer_.run(s, "record change of '" + ev.key + "'"));
    }
    return Status::ok();
  }

  // Stores the new revision and trims the history to historySize revisions.
  Status finishBatch(int64_t revision) {
    writer_.setMeta.bind(1, std::string_view("revision"));
    writer_.setMeta.bind(2, revision);
    LB_RETURN_IF_ERROR(writer_.run(writer_.setMeta, "store revision"));
    int64_t keepAfter = revision - historySize_;
    if (keepAfter <= 0) return Status::ok();
    auto compacted = writer_.meta("compacted");
    if (!compacted) return compacted.status();
    if (keepAfter <= *compacted) return Status::ok();
    writer_.trimChanges.bind(1, keepAfter);
    LB_RETURN_IF_ERROR(writer_.run(writer_.trimChanges, "trim history"));
    writer_.setMeta.bind(1, std::string_view("compacted"));
    writer_.setMeta.bind(2, keepAfter);
    return writer_.run(writer_.setMeta, "store compacted revision");
  }

  // Publishes this instance's own commit straight from memory when nothing
  // (from another process) came between; otherwise the poller reads the
  // table so events stay in revision order.
  void publishOwn(int64_t first, int64_t last, const std::vector<Event>& events) {
    {
      std::lock_guard lock(dispatchMu_);
      if (last <= published_) return;
      if (first == published_ + 1) {
        hub_.publish(events);
        published_ = last;
        return;
      }
    }
    signal_.wake();
  }

  void pollLoop() {
    using Wake = ChangeSignal::Wake;
    using Steady = std::chrono::steady_clock;
    Steady::time_point hotUntil{};
    while (true) {
      Wake why;
      if (Steady::now() < hotUntil) {
        // Writes are coming: the fixed poll, file events only extend the window.
        why = signal_.wait(kPollInterval, false);
        if (signal_.wait(0ms, true) == Wake::kFile) why = Wake::kFile;
      } else {
        why = signal_.wait(signal_.watching() ? kIdlePoll : kPollInterval, true);
      }
      if (pollStop_) return;
      if (why == Wake::kFile) {
        const auto now = Steady::now();
        const bool ours = committing_ || now - Steady::time_point(Steady::duration(
                                                   lastOwnCommit_.load())) < kOwnEcho;
        hotUntil = now + (ours ? kOwnEcho : kHotWindow);
      }
      pollOnce();
    }
  }

  void pollOnce() {
    std::lock_guard lock(dispatchMu_);
    std::vector<Event> events;
    int64_t current = published_;
    bool fellBehind = false;
    Status s = readTxn(dispatch_, [&]() -> Status {
      auto rev = dispatch_.meta("revision");
      if (!rev) return rev.status();
      if (*rev <= published_) return Status::ok();
      current = *rev;
      auto compacted = dispatch_.meta("compacted");
      if (!compacted) return compacted.status();
      if (*compacted > published_) {
        fellBehind = true;
        return Status::ok();
      }
      auto read = readChanges(published_, current, *fullPrefix(""));
      if (!read) return read.status();
      events = std::move(*read);
      return Status::ok();
    });
    if (!s.isOk()) return;  // transient (busy); the next poll retries
    if (fellBehind) {
      hub_.failAll(Status(Code::kOutOfRange, "watch fell behind the history; re-list"));
    } else {
      hub_.publish(events);
    }
    published_ = current;
  }

  void stop() {
    {
      std::lock_guard lock(queueMu_);
      stopping_ = true;
      queueCv_.notify_all();
    }
    if (committer_.joinable()) committer_.join();
    pollStop_ = true;
    signal_.wake();
    if (poller_.joinable()) poller_.join();
    hub_.failAll(unavailable("sqlite: storage '" + path_ + "' is closed"));
  }

  const std::string path_;
  const std::string prefix_;  // "/lastbackend", prepended to every key
  const int64_t historySize_;

  Conn writer_;    // committer thread only
  Conn dispatch_;  // under dispatchMu_ only

  std::mutex queueMu_;
  std::condition_variable queueCv_;
  std::vector<Pending*> queue_;
  bool stopping_ = false;
  std::thread committer_;

  std::mutex dispatchMu_;
  int64_t published_ = 0;  // every event up to here went to the hub
  WatchHub hub_;

  ChangeSignal signal_;
  std::atomic<bool> committing_{false};           // the committer is in a batch
  std::atomic<int64_t> lastOwnCommit_{0};       // steady time its last batch ended
  std::atomic<bool> pollStop_{false};
  std::thread poller_;

  std::mutex poolMu_;
  std::vector<std::unique_ptr<Conn>> pool_;
};

}  // namespace

StatusOr<std::unique_ptr<Storage>> open(const Options& options) {
  auto s = std::make_unique<SqliteStorage>(options);
  LB_RETURN_IF_ERROR(s->start());
  return std::unique_ptr<Storage>(std::move(s));
}

}  // namespace lb::storage::sqlite
