#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <map>

#include "lastbackend/common/clock.h"

namespace lb::testing {

// A clock that only moves when a test advances it. Timed waits through
// Clock::waitUntil end when an advance reaches their deadline (or their
// predicate holds), so code under test never waits on real time.
class ManualClock : public Clock {
 public:
  TimePoint now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point steadyNow() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  bool waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 std::chrono::steady_clock::time_point deadline,
                 const std::function<bool()>& pred) const override {
    std::multimap<std::condition_variable*, std::chrono::steady_clock::time_point>::iterator self;
    {
      std::lock_guard w(waitersMu_);
      self = waiters_.emplace(&cv, deadline);
    }
    bool ok;
    // advance() notifies without the waiter's mutex, so a notify can fall
    // between the check and the wait: the short real recheck covers it.
    while (!(ok = pred()) && steadyNow() < deadline) cv.wait_for(lock, kRecheck);
    std::lock_guard w(waitersMu_);
    waiters_.erase(self);
    return ok;
  }
  void advance(Duration d) {
    {
      std::lock_guard lock(mu_);
      wall_ += std::chrono::duration_cast<TimePoint::duration>(d);
      steady_ += d;
    }
    std::lock_guard w(waitersMu_);
    for (auto& [cv, deadline] : waiters_) cv->notify_all();
  }
  // Waits currently blocked on this clock (a test can advance once the code
  // under test is parked).
  size_t waiters() const {
    std::lock_guard w(waitersMu_);
    return waiters_.size();
  }
  // Waits blocked on this clock whose deadline has passed (they are about
  // to return): 0 once every wait an advance ended has ended.
  size_t dueWaiters() const {
    const auto now = steadyNow();
    std::lock_guard w(waitersMu_);
    size_t n = 0;
    for (const auto& [cv, deadline] : waiters_) n += deadline <= now;
    return n;
  }

 private:
  static constexpr std::chrono::milliseconds kRecheck{2};
  mutable std::mutex mu_;
  TimePoint wall_ = TimePoint(std::chrono::seconds(1700000000));
  std::chrono::steady_clock::time_point steady_{};
  mutable std::mutex waitersMu_;
  mutable std::multimap<std::condition_variable*, std::chrono::steady_clock::time_point> waiters_;
};

}  // namespace lb::testing
