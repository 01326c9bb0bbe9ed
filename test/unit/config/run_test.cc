// The shutdown-signal helper every component's run function uses.

#include "lastbackend/config/run.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

namespace lb::config {
namespace {

TEST(ShutdownSignal, TimesOutWithoutSignal) {
  blockShutdownSignals();
  EXPECT_EQ(waitForShutdownSignal(std::chrono::milliseconds(20)), std::nullopt);
}

TEST(ShutdownSignal, RequestShutdownWakesTheWaiter) {
  blockShutdownSignals();
  std::thread worker([] { requestShutdown(); });  // inherits the blocked mask
  EXPECT_EQ(waitForShutdownSignal(std::chrono::seconds(5)), SIGTERM);
  worker.join();
}

TEST(ShutdownSignal, SigintCounts) {
  blockShutdownSignals();
  kill(getpid(), SIGINT);
  EXPECT_EQ(waitForShutdownSignal(), SIGINT);
}

}  // namespace
}  // namespace lb::config
