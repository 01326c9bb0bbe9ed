#pragma once

// Private to the controller: the loop thread's core. It owns an in-memory
// cache of the store, fed by a watch of the whole tree (from the listing's
// revision, so nothing is missed), a deduplicated work queue of object keys,
// and the batch their writes are grouped into; the loops (loops/registry.cc)
// react to cache changes and reconcile the keys. One pass: (re)sync the
// cache, apply pending watch events, tick the loops, then reconcile until
// the queue is empty, committing a batch every maxBatchOps ops.
//
// Loop thread only (stats() excepted).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "controller/batch.h"
#include "controller/cache.h"
#include "controller/controller.h"
#include "controller/election.h"
#include "controller/loops/loop.h"
#include "controller/pod_json.h"
#include "controller/work_queue.h"

namespace lb::controller {

class Core {
 public:
  using LoopFactory = std::function<std::vector<std::unique_ptr<loops::Loop>>(loops::Context& ctx)>;

  // Writes only while `elector` leads. `makeLoops` builds the loops (all of
  // them unless a test picks some).
  Core(std::shared_ptr<storage::Storage> store, const Options& options, const Elector& elector,
       Ipam emptyIpam, const LoopFactory& makeLoops);
  ~Core();

  // See Controller::runOnce.
  Status runOnce(std::chrono::milliseconds wait, size_t maxKeys = SIZE_MAX);
  // How long the next pass may wait for watch events before something is
  // due (a loop's tick, a delayed key, the resync), at most `cap`; zero
  // when work is queued or the cache must be loaded.
  std::chrono::milliseconds idleWait(std::chrono::milliseconds cap) const;
  // Queues every object (what the periodic resync does).
  void resyncNow();
  // Forgets the cache (stepped down); the next pass re-lists.
  void dropCache();
  bool synced() const { return synced_; }
  // Counters; `leader` is left to the caller.
  Stats stats() const;

 private:
  Status sync();
  Status pump(std::chrono::milliseconds wait);
  void tick();
  void flush();
  void reconcile(const std::string& key);

  std::shared_ptr<storage::Storage> store_;
  const Options& opt_;
  const Clock& clock_;
  const Elector& elector_;
  Counters counters_;
  Cache cache_;
  WorkQueue queue_;
  Batch batch_;
  PodJson podJson_;
  std::mt19937_64 rng_;
  loops::Context ctx_;
  std::vector<std::unique_ptr<loops::Loop>> loops_;
  loops::Loop* byPrefix_[128] = {};

  bool synced_ = false;
  uint64_t syncedLeadership_ = 0;
  std::unique_ptr<storage::WatchStream> watch_;
  int64_t watchRev_ = 0;
  uint64_t pumps_ = 0;
  std::chrono::steady_clock::time_point lastResync_{};
};

}  // namespace lb::controller
