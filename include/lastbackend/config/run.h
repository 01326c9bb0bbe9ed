#pragma once

// Process-level helpers every `lastbackend` component's run function shares:
// a clean stop on SIGTERM/SIGINT (house rule 7).
//
// Usage in a run function:
//   lb::config::blockShutdownSignals();   // first, before starting any thread
//   server.start();
//   lb::config::waitForShutdownSignal();  // returns on SIGTERM or SIGINT
//   server.stop();                         // drain in-flight work
//
// Blocking the signals before threads exist makes every thread inherit the
// mask, so the signal is only ever consumed by the waiting thread and no
// async-signal-safety concerns arise. The `lastbackend` main() already calls
// blockShutdownSignals() before dispatching; calling it again is harmless.

#include <chrono>
#include <optional>

namespace lb::config {

// Blocks SIGTERM and SIGINT in the calling thread (and threads it creates later).
void blockShutdownSignals();

// Waits for SIGTERM or SIGINT; returns the signal number.
int waitForShutdownSignal();

// Like waitForShutdownSignal() but gives up after `timeout` (nullopt).
std::optional<int> waitForShutdownSignal(std::chrono::milliseconds timeout);

// Makes a pending waitForShutdownSignal() return as if SIGTERM arrived
// (e.g. a fatal error in a worker); thread-safe.
void requestShutdown();

}  // namespace lb::config
