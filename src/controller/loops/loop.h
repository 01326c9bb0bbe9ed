#pragma once

// Private to the controller: the shape of a reconcile loop. The core owns
// the cache, the work queue and the batch; each loop subscribes to the cache
// kinds it reacts to, turns their changes into work keys ("<prefix>/<id>"),
// and reconciles its own keys level-triggered against the cache, staging
// its writes in the batch. Writes are partitioned by work key (a pod is
// written only by its service's key, a manifest only by its node's key), so
// two keys of one batch never write the same object.
//
// A new loop is a new file here and one line in loops/registry.cc; it
// touches no other loop.

#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "controller/batch.h"
#include "controller/cache.h"
#include "controller/controller.h"
#include "controller/pod_json.h"
#include "controller/work_queue.h"
#include "lastbackend/common/clock.h"

namespace lb::controller::loops {

// What a loop works with. Loop thread only.
struct Context {
  const Options& options;
  const Clock& clock;
  Cache& cache;
  WorkQueue& queue;
  Batch& batch;
  PodJson& podJson;
  std::mt19937_64& rng;

  // A random 10-hex-digit object name.
  std::string newName();
  // The wall time as stored in meta.created/updated.
  std::string now() const;
  // The meta of a new object owned by `parent` (a service's deployment, a
  // deployment's pod): a new name under the parent's selflink, its
  // namespace and labels, created now.
  types::Meta childMeta(const types::Meta& parent);
};

class Loop : public CacheListener {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // For logs.
  virtual std::string_view name() const = 0;
  // The prefix of this loop's work keys ('s' for "s/<id>"); 0 if the loop
  // only feeds other loops' keys.
  virtual char prefix() const = 0;
  // The cache kinds whose changes onChange() hears.
  virtual std::vector<detail::Kind> kinds() const = 0;
  // Reconciles work key "<prefix>/<id>".
  virtual void reconcile(const std::string& id) { (void)id; }
  // Called once per pass before the queue is worked off.
  virtual void tick(SteadyTime now) { (void)now; }
  // When tick() next has work to do; an idle controller sleeps until the
  // earliest of these (or a watch event), so a loop that needs no tick
  // leaves it at max().
  virtual SteadyTime nextTick() const { return SteadyTime::max(); }
  // Queues every object the loop owns (the periodic resync, a re-list).
  virtual void resync() {}
  // Forgets loop-private state when the cache is dropped.
  virtual void clear() {}
};

}  // namespace lb::controller::loops
