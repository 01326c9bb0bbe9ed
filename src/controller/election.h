#pragma once

// Leader election among controllers through one lease record in the store,
// /system/controller/lead = {"holder": id, "expires": <unix ms>, "term": n}.
//
// tick() acquires a free or expired lease, or renews our own, with a
// compare-and-swap on the record's revision, so two contenders never both
// win one round. Expiry is wall-clock time written by the holder (all
// controllers read the same record; clocks are assumed within a second or
// so of each other). The holder counts itself leader only until
// `renewStart + ttl * 2/3` on its own steady clock: a leader that cannot
// renew (store down, process stalled) stops its loops a third of a TTL
// before any follower may take over, so two leaders never overlap while
// clock skew < ttl/3. Errors never stop the caller's loop: tick() reports
// them and the loop retries with backoff (see nextDelay()).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/storage/storage.h"

namespace lb::controller {

struct LeaseRecord {
  std::string holder;
  int64_t expiresMs = 0;  // unix milliseconds
  int64_t term = 0;       // bumped on every change of holder
};

std::string encodeLease(const LeaseRecord& r);
StatusOr<LeaseRecord> decodeLease(std::string_view text);

class Elector {
 public:
  Elector(storage::Storage& store, const Clock& clock, std::string id,
          std::chrono::milliseconds ttl);

  // One acquire/renew round. Returns whether we lead afterwards; a store
  // error is returned as a Status (and we keep leading only until our
  // current lease's safe end). Thread-safe with isLeader().
  StatusOr<bool> tick();
  // True while the last successful acquire/renew is younger than ttl*2/3.
  bool isLeader() const;
  // Gives the lease up (deletes it if we hold it) so a follower takes over
  // at once. Best effort.
  void release();
  // How long the caller should wait before the next tick(): ttl/3 after a
  // success, a growing backoff (100 ms doubling, capped at ttl/3) after errors.
  std::chrono::milliseconds nextDelay() const;

  const std::string& id() const { return id_; }
  int64_t term() const;
  // Bumped every time we become leader; loops compare it to notice a
  // step-down and step-up in between.
  uint64_t leadership() const;

 private:
  storage::Storage& store_;
  const Clock& clock_;
  const std::string id_;
  const std::chrono::milliseconds ttl_;
  const std::string key_;

  mutable std::mutex mu_;
  bool holding_ = false;
  std::chrono::steady_clock::time_point leaderUntil_{};
  int64_t term_ = 0;
  uint64_t leadership_ = 0;
  int failures_ = 0;
};

}  // namespace lb::controller
