#include "lastbackend/config/run.h"

#include <pthread.h>
#include <csignal>
#include <unistd.h>

#include <cerrno>

namespace lb::config {
namespace {

sigset_t shutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void blockShutdownSignals() {
  sigset_t set = shutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int waitForShutdownSignal() {
  sigset_t set = shutdownSet();
  int sig = 0;
  // sigwait only fails on an invalid set; retry on spurious wakeups anyway.
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

std::optional<int> waitForShutdownSignal(std::chrono::milliseconds timeout) {
  sigset_t set = shutdownSet();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec ts{static_cast<time_t>(secs.count()),
              static_cast<long>(std::chrono::nanoseconds(timeout - secs).count())};
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    // EINTR: another signal (not ours) interrupted; the remaining time is not
    // reported, so waiting the full timeout again is the conservative choice.
    if (errno != EINTR) return std::nullopt;
  }
}

void requestShutdown() {
  // A process-directed signal is delivered to whichever thread has it
  // unblocked or is in sigwait — the waiter, given blockShutdownSignals().
  kill(getpid(), SIGTERM);
}

}  // namespace lb::config
