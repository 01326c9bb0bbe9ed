#pragma once

// Probe bookkeeping (liveness and readiness) with injected time, and the TCP
// check itself. A tracker is reset when its container (re)starts; the first
// check is due `initialDelay` later, then every `period`. Readiness starts
// not ready and turns ready after `successThreshold` successes in a row, not
// ready after `failureThreshold` failures in a row. Liveness starts alive and
// fails after `failureThreshold` failures in a row (the agent then restarts
// the container and resets the tracker). Not thread-safe: one pod worker owns it.

#include <chrono>
#include <string>

#include "lastbackend/common/status.h"
#include "lastbackend/types/template.h"

namespace lb::node {

using SteadyTime = std::chrono::steady_clock::time_point;

class ProbeTracker {
 public:
  ProbeTracker(types::Probe probe, bool readiness)
      : probe_(std::move(probe)), readiness_(readiness) {}

  const types::Probe& probe() const { return probe_; }
  void reset(SteadyTime started);
  bool due(SteadyTime now) const { return now >= next_; }
  SteadyTime nextDue() const { return next_; }
  void record(bool success, SteadyTime now, std::string message = {});

  // Readiness: ready. Liveness: not failed.
  bool passing() const { return readiness_ ? ready_ : !failed(); }
  bool failed() const { return !readiness_ && failures_ >= std::max(1, probe_.failureThreshold); }
  const std::string& lastMessage() const { return message_; }

 private:
  types::Probe probe_;
  bool readiness_;
  SteadyTime next_{};
  int successes_ = 0;
  int failures_ = 0;
  bool ready_ = false;
  std::string message_;
};

// Connects to ip:port within `timeout`: OK on connect, kUnavailable with
// the reason otherwise (refused, timed out, no route).
Status tcpCheck(const std::string& ip, int port, std::chrono::milliseconds timeout);

}  // namespace lb::node
