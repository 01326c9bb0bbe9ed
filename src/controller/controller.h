#pragma once

// The controller (`lastbackend controller`): turns user intent into
// deployments, pods, endpoints and per-node manifests, and keeps them so.
// See docs/controller.md for the loops, the field ownership and the
// failure modes.
//
//   Controller c(store, options);
//   c.start();   // election thread + reconcile loop thread
//   ...
//   c.stop();    // drains the batch in flight, releases the lease
//
// Tests drive it by hand instead (no threads, manual clock):
//   c.electionTick(); c.runOnce();
//
// Threading: start()/stop()/stats() from any thread; electionTick() and
// runOnce() must not run concurrently with start()ed threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "controller/scheduler.h"
#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/config/config.h"
#include "lastbackend/storage/storage.h"

namespace lb::controller {

struct Options {
  std::string id;  // election identity; empty = the host name
  std::string servicesCidr = "10.96.0.0/16";
  // The pod range, leased to the nodes in subnets of nodeSubnetSize bits
  // each; must not overlap servicesCidr.
  std::string podsCidr = "10.244.0.0/16";
  int nodeSubnetSize = 24;
  std::chrono::milliseconds nodeOfflineTimeout{30'000};
  std::chrono::milliseconds leaseTtl{10'000};
  // Every key is re-queued this often (level-triggered safety net).
  std::chrono::milliseconds resyncInterval{30'000};
  // How often node heartbeats are checked.
  std::chrono::milliseconds healthInterval{1'000};
  // Store writes are grouped into transactions of at most this many ops.
  size_t maxBatchOps = 2'000;
  // Write each endpoint into the manifests of the nodes that run pods of its
  // namespace (off: nodes read /manifests/cluster/endpoint/ only).
  bool nodeEndpointManifests = false;
  // Replaced deployments kept per service (with the spec each ran) for
  // history and rollback; the oldest go past this.
  int deploymentHistory = 10;
  // A new deployment not ready this long after it was made (or whose pods
  // crash-loop) is failed and its service reverted; a service's
  // spec.strategy.deadline overrides it.
  std::chrono::milliseconds rolloutDeadline{600'000};
  RequestDefaults requestDefaults;
  const Clock* clock = &realClock();
};

struct Stats {
  bool leader = false;
  uint64_t reconciles = 0;
  uint64_t txns = 0;
  uint64_t ops = 0;
  uint64_t conflicts = 0;  // failed batches (conflicts or errors)
  uint64_t relists = 0;
  uint64_t podsCreated = 0;
  uint64_t podsDeleted = 0;
  uint64_t queue = 0;
};

class Controller {
 public:
  // kInvalidArgument for a bad servicesCidr, podsCidr or nodeSubnetSize,
  // or pods and services CIDRs that overlap.
  static StatusOr<std::unique_ptr<Controller>> create(std::shared_ptr<storage::Storage> store,
                                                      Options options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts the election thread and the reconcile loop thread.
  void start();
  // Stops both; with release=true the lease is given up so a follower takes
  // over at once (false simulates a crash: followers wait for the TTL).
  void stop(bool release = true);

  // Manual driving (tests): one election round; returns whether we lead.
  bool electionTick();
  // One loop pass when leading: (re)sync the cache, apply pending watch
  // events (waiting up to `wait` for the first), check node health, then
  // reconcile until the queue is empty or `maxKeys` keys were processed.
  // No-op (drops the cache) when not leading.
  Status runOnce(std::chrono::milliseconds wait = std::chrono::milliseconds(0),
                 size_t maxKeys = SIZE_MAX);
  bool isLeader() const;
  // Queues every object (what the periodic resync does).
  void resyncNow();
  Stats stats() const;

  class Impl;

 private:
  explicit Controller(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The options the configuration sets (unset values keep Options' defaults).
Options optionsFrom(const config::ControllerConfig& config);

// `lastbackend controller`: opens the store, runs until SIGTERM/SIGINT.
// Every setting comes from the option table (docs/configuration.md).
int run(const config::ControllerConfig& config);

}  // namespace lb::controller
