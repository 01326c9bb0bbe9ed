#pragma once

// Shared by the drivers: validation, the one txn evaluator, and the watch
// fan-out. Internal to src/storage (not a contract).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/storage/storage.h"

namespace lb::storage {

// Values above this are kTooLarge in every driver (etcd's default request
// limit is 1.5 MiB, so all drivers agree on what fits).
constexpr size_t kMaxValueBytes = 1536 * 1024;
constexpr size_t kMaxKeyBytes = 4096;
// Bytes (keys and values) one watch may have queued and unread. The event
// count bound alone lets a slow reader hold count x 1.5 MiB; past this the
// reader is cut (kOutOfRange: re-list), the other watches are unaffected.
constexpr size_t kMaxWatchPendingBytes = 64u << 20;

// A key is non-empty, starts with '/', and has no NUL or control bytes.
Status validateKey(std::string_view key);
// Checks every op's key and value size; an empty txn is kInvalidArgument.
Status validateOps(const std::vector<Op>& ops);

// What txn() evaluation reads and writes; one implementation per driver.
class TxnTarget {
 public:
  virtual ~TxnTarget() = default;
  virtual StatusOr<std::optional<Object>> load(const std::string& key) = 0;
  virtual Status store(const Object& object) = 0;
  virtual Status erase(const std::string& key) = 0;
};

// Applies `ops` in order at `revision` (each op sees the effects of the ones
// before it), checking conditions. Returns the events, or the first failure —
// the caller then discards whatever `target` staged.
StatusOr<std::vector<Event>> applyTxn(const std::vector<Op>& ops, int64_t revision,
                                      TxnTarget& target);

// Queued events of one watch stream.
class WatchQueue {
 public:
  WatchQueue(std::string prefix, int64_t afterRevision, size_t maxPending,
             size_t maxPendingBytes = kMaxWatchPendingBytes);

  // Queues the events under the prefix with revision > afterRevision. Returns
  // false once the stream is finished, so the hub can forget it.
  bool push(const std::vector<Event>& events);
  // Ends the stream with `status` after already queued events are read
  // (kOutOfRange drops them: the watcher must re-list anyway).
  void fail(const Status& status);
  void cancel();
  bool finished();
  StatusOr<std::vector<Event>> next(std::chrono::milliseconds timeout);

 private:
  const std::string prefix_;
  const int64_t after_;
  const size_t maxPending_;
  const size_t maxPendingBytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> pending_;
  size_t pendingBytes_ = 0;
  std::optional<Status> error_;
};

// Fans published events out to every live stream. Publishing order is the
// caller's job: it must publish each revision once, in revision order, and
// call add() under the same lock so replay and live events do not interleave.
class WatchHub {
 public:
  explicit WatchHub(size_t maxPending, size_t maxPendingBytes = kMaxWatchPendingBytes)
      : maxPending_(maxPending), maxPendingBytes_(maxPendingBytes) {}
  std::unique_ptr<WatchStream> add(std::string prefix, int64_t afterRevision,
                                   const std::vector<Event>& replay);
  void publish(const std::vector<Event>& events);
  // Ends every stream (e.g. "storage closed", or kOutOfRange when the
  // publisher itself fell behind the history).
  void failAll(const Status& status);
  size_t size();

 private:
  const size_t maxPending_;
  const size_t maxPendingBytes_;
  std::mutex mu_;
  std::vector<std::weak_ptr<WatchQueue>> queues_;
};

}  // namespace lb::storage
