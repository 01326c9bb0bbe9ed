#pragma once

// The one storage contract every driver (mock, sqlite, etcd) fulfils.
//
// The store is a revisioned key/value map. Every successful write bumps a
// store-wide revision; each key remembers the revision of its last change
// (`Object::revision`). Writes are compare-and-swap on that revision, so two
// actors touching one object never lose an update. A watch replays every
// change after a given revision in order, so a watcher that restarts with the
// revision it last saw misses nothing (unless that revision fell out of the
// bounded change history: then kOutOfRange, and the watcher re-lists).
//
// Keys are relative to the driver's prefix and follow the storage tree of
// keys.h ("/service/demo:web" is stored as "/lastbackend/service/demo:web").
// Values are opaque bytes (the object model's JSON).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::storage {

struct Object {
  std::string key;
  std::string value;
  int64_t revision = 0;        // revision of the last change of this key
  int64_t createRevision = 0;  // revision at which the key was created
};

struct ListResult {
  std::vector<Object> items;  // sorted by key
  int64_t revision = 0;       // store revision the listing is consistent with
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;  // empty for kDelete
  int64_t revision = 0;
};

struct Info {
  std::string driver;
  int64_t revision = 0;        // current store revision
  int64_t oldestRevision = 0;  // oldest revision a watch can still start after
  uint64_t keys = 0;
  uint64_t bytes = 0;  // size on disk (0 for memory)
};

// One write in a transaction.
struct Op {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;
  // Condition: nullopt = none; 0 = the key must not exist; N > 0 = the key's
  // revision must be N. A failed condition fails the whole transaction
  // (kAlreadyExists for 0, kNotFound/kConflict for N).
  std::optional<int64_t> expect;
};

// A stream of changes under a prefix. Not thread-safe except cancel().
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // Blocks until at least one event arrives (returned in revision order), or
  // `timeout` passes (returns an empty vector). kOutOfRange when the start
  // revision was dropped from history; kUnavailable once cancelled or closed.
  virtual StatusOr<std::vector<Event>> next(std::chrono::milliseconds timeout) = 0;
  // Ends the stream and wakes a blocked next(). Thread-safe, idempotent.
  virtual void cancel() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Driver name, revision, history bounds and size. Thread-safe.
  virtual StatusOr<Info> info() = 0;

  // The object at `key`; kNotFound if absent. Thread-safe.
  virtual StatusOr<Object> get(std::string_view key) = 0;

  // Every object whose key starts with `prefix`, sorted by key, consistent
  // with one revision. Thread-safe.
  virtual StatusOr<ListResult> list(std::string_view prefix) = 0;

  // Applies all ops atomically or none; returns the new store revision (one
  // revision per transaction, shared by all its ops). Ops apply in order, each
  // seeing the ones before it. Deleting an absent key is kNotFound; an empty
  // `ops` or a key not starting with '/' is kInvalidArgument; a value over
  // 1.5 MiB is kTooLarge. A failed transaction takes no revision.
  // Durable on return for persistent drivers. Thread-safe.
  virtual StatusOr<int64_t> txn(const std::vector<Op>& ops) = 0;

  // Changes under `prefix` with revision > `afterRevision`. To follow a
  // listing without a gap, pass ListResult::revision; Info::oldestRevision is
  // the smallest accepted value (smaller: kOutOfRange). A reader that falls
  // far behind (more pending events than the history holds) gets kOutOfRange
  // from next() and must re-list. Thread-safe.
  virtual StatusOr<std::unique_ptr<WatchStream>> watch(std::string_view prefix,
                                                       int64_t afterRevision) = 0;

  // Conveniences over txn(), shared by every driver.

  // Creates `key`; kAlreadyExists if present. Returns the new revision.
  StatusOr<int64_t> put(std::string_view key, std::string value);
  // Writes `key`. With expectRevision > 0 only if the key's revision still
  // equals it (kConflict otherwise, kNotFound if gone); with 0, unconditionally.
  StatusOr<int64_t> set(std::string_view key, std::string value, int64_t expectRevision = 0);
  // Deletes `key` (kNotFound if absent), with the same revision condition as set().
  Status del(std::string_view key, int64_t expectRevision = 0);
  // Like list(), keyed by key.
  StatusOr<std::map<std::string, Object>> map(std::string_view prefix);
};

struct Options {
  std::string driver = "sqlite";  // sqlite | etcd | mock
  std::string prefix = "lastbackend";
  std::string sqlitePath = "/var/lib/lastbackend/lastbackend.db";
  std::vector<std::string> etcdEndpoints = {"127.0.0.1:2379"};
  std::string etcdCert, etcdKey, etcdCa;
  // Changes kept for watches; older start revisions get kOutOfRange.
  int64_t historySize = 100000;
};

// The driver names this build knows, for error messages and --help.
std::vector<std::string> driverNames();

// Opens the driver named by options.driver; an unknown name is kInvalidArgument
// listing the valid ones.
StatusOr<std::unique_ptr<Storage>> open(const Options& options);

}  // namespace lb::storage
