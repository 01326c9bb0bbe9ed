#pragma once

// Probe bookkeeping (liveness and readiness) with injected time, and the TCP
// check itself. A tracker is reset when its container (re)starts; the first
// check is due `initialDelay` later, then every `period`. Readiness starts
// not ready and turns ready after `successThreshold` successes in a row, not
// ready after `failureThreshold` failures in a row. Liveness starts alive and
// fails after `failureThreshold` failures in a row (the agent then restarts
// the container and resets the tracker).
//
// Until its first success after a (re)start, a readiness probe is retried
// quickly — TCP every kFastRetryTcp for the first kFastBurst (a refused
// connect costs microseconds; most servers open their port within it), then
// every kRetryTcp; exec every kFastRetryExec (each is a process in the
// container); never less often than its period — for up to kFastWindow
// after the start: a pod is Ready a moment after its port opens instead of
// up to a period later. Then, and after the first success, it runs every
// period. Not thread-safe: one pod worker owns it.

#include <chrono>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/types/template.h"

namespace lb::node {

using SteadyTime = std::chrono::steady_clock::time_point;

inline constexpr std::chrono::milliseconds kFastRetryTcp{10};
inline constexpr std::chrono::seconds kFastBurst{2};
inline constexpr std::chrono::milliseconds kRetryTcp{50};
inline constexpr std::chrono::milliseconds kFastRetryExec{250};
inline constexpr std::chrono::seconds kFastWindow{30};

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
  SteadyTime started_{};
  bool succeeded_ = false;  // since the last reset
  int successes_ = 0;
  int failures_ = 0;
  bool ready_ = false;
  std::string message_;
};

// Connects to ip:port within `timeout`: OK on connect, kUnavailable with
// the reason otherwise (refused, timed out, no route).
Status tcpCheck(const std::string& ip, int port, std::chrono::milliseconds timeout);

// Runs `command` in container `id` within `timeout`: OK on exit code 0,
// kUnavailable "exit code N: <first output line>" on another code, the
// runtime's error (kDeadlineExceeded, kConflict when not running...)
// otherwise.
Status execCheck(runtime::cri::ContainerRuntime& cri, const std::string& id,
                 const std::vector<std::string>& command, std::chrono::milliseconds timeout);

}  // namespace lb::node
