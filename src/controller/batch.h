#pragma once

// Private to the controller: the writes of many work keys grouped into one
// store transaction (one revision, one fsync). Every write is a
// compare-and-swap on the revision the cache holds and is applied to the
// cache at once, so the next reconcile sees it before the watch echoes it
// back. A failed batch (a compare-and-swap lost to the api or a node, or a
// store error) re-reads every key it touched and re-queues its work keys,
// each to be committed alone next time.
//
// Loop thread only (counters_ excepted, under its mutex).

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "controller/cache.h"
#include "controller/work_queue.h"
#include "lastbackend/common/clock.h"
#include "lastbackend/storage/storage.h"

namespace lb::controller {

// What stats() reports, written by the loop thread.
struct Counters {
  mutable std::mutex mu;
  Stats stats;
};

// The stored form of an object: without its revision (the store keeps that).
template <class T>
std::string encodeObject(T obj) {
  obj.meta.revision = 0;
  return types::toJson(obj);
}

class Batch {
 public:
  Batch(storage::Storage& store, const Clock& clock, Cache& cache, WorkQueue& queue,
        Counters& counters)
      : store_(store), clock_(clock), cache_(cache), queue_(queue), counters_(counters) {}

  // The work key whose writes follow (re-queued if the batch fails).
  void beginKey(const std::string& key) { workKeys_.push_back(key); }

  // Create or update `key`: the condition is the cached revision (0 = must
  // not exist). The caller updates the cache.
  void put(const std::string& key, std::string value);
  template <class T>
  void putObject(const std::string& key, const T& obj) {
    put(key, encodeObject(obj));
  }
  // Deletes `key` if cached (conditional: on its cached revision) and
  // removes it from the cache.
  void remove(const std::string& key, bool conditional);

  // Ops staged so far.
  size_t size() const { return batchOps_; }
  // Pods staged in their node-manifest form in this batch, selflink ->
  // bytes: a node's manifest reuses them instead of encoding the pod again.
  std::unordered_map<std::string, std::string>& podJson() { return podJson_; }

  // Commits what is staged (plus the IPAM state if dirty). Returns false
  // when the cache can no longer be trusted and must be re-listed (the lease
  // was lost with writes staged, or a failed batch could not be re-read).
  bool flush(bool leader);
  // Drops everything staged.
  void reset();

 private:
  void stage(const std::string& key, std::optional<std::string> value,
             std::optional<int64_t> expect);
  void addOp(storage::Op op);
  void count(const std::vector<storage::Op>& ops);
  bool refresh(const std::vector<std::string>& touched);

  storage::Storage& store_;
  const Clock& clock_;
  Cache& cache_;
  WorkQueue& queue_;
  Counters& counters_;

  std::vector<std::optional<storage::Op>> ops_;
  std::unordered_map<std::string, size_t> opIndex_;
  std::unordered_set<std::string> touched_;
  std::vector<std::string> workKeys_;
  size_t batchOps_ = 0;
  std::unordered_map<std::string, std::string> podJson_;
};

}  // namespace lb::controller
