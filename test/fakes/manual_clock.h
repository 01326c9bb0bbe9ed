#pragma once

#include <mutex>

#include "lastbackend/common/clock.h"

namespace lb::testing {

// A clock that only moves when a test advances it.
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
  void advance(Duration d) {
    std::lock_guard lock(mu_);
    wall_ += std::chrono::duration_cast<TimePoint::duration>(d);
    steady_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint wall_ = TimePoint(std::chrono::seconds(1700000000));
  std::chrono::steady_clock::time_point steady_{};
};

}  // namespace lb::testing
