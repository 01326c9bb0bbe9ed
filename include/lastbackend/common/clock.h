#pragma once

// Time is injected: loops, leases, backoffs and probes take a Clock so tests
// can advance a manual one instead of sleeping.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace lb {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::nanoseconds;

  virtual ~Clock() = default;
  // Wall-clock time (used for object timestamps). Thread-safe.
  virtual TimePoint now() const = 0;
  // Monotonic time for timeouts and leases. Thread-safe.
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;

  // Waits on `cv` (with `lock` held) until `pred()` holds or steadyNow()
  // reaches `deadline`; returns pred(). Every timed wait of a component goes
  // through here, so a manual clock can end it by advancing. The real clock
  // waits on the condition variable itself (no extra cost).
  virtual bool waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         std::chrono::steady_clock::time_point deadline,
                         const std::function<bool()>& pred) const {
    return cv.wait_until(lock, deadline, pred);
  }
  bool waitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, Duration timeout,
               const std::function<bool()>& pred) const {
    return waitUntil(cv, lock, steadyNow() + timeout, pred);
  }
};

// The process-wide real clock.
Clock& realClock();

// Seconds since the Unix epoch, UTC, as RFC 3339 ("2026-11-26T15:14:08Z").
std::string formatRfc3339(Clock::TimePoint tp);

// Parses RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; nullopt
// when malformed. The one parser for our own timestamps and docker's.
std::optional<Clock::TimePoint> parseRfc3339(std::string_view text);

}  // namespace lb
