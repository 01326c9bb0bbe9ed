#include "http/stream_threads.h"

#include <gtest/gtest.h>

#include <future>

namespace lb::http {
namespace {

TEST(StreamThreadsTest, ReservationsStopAtTheLimitAndComeBack) {
  StreamThreads t(2);
  EXPECT_TRUE(t.reserve());
  EXPECT_TRUE(t.reserve());
  EXPECT_FALSE(t.reserve());
  t.release();
  EXPECT_EQ(t.active(), 1u);
  EXPECT_TRUE(t.reserve());
}

TEST(StreamThreadsTest, WaitAllJoinsThreadsThatReturnedAndReportsTheRest) {
  StreamThreads t(4);
  std::promise<void> release;
  auto gate = release.get_future().share();
  ASSERT_TRUE(t.reserve());
  t.run([gate] { gate.wait(); });
  ASSERT_TRUE(t.reserve());
  t.run([] {});
  // The blocked one is still running: the deadline (now) passes first.
  EXPECT_FALSE(t.waitAll(std::chrono::steady_clock::now()));
  EXPECT_GE(t.active(), 1u);
  release.set_value();
  EXPECT_TRUE(t.waitAll(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  EXPECT_EQ(t.active(), 0u);
  EXPECT_TRUE(t.reserve());  // slots freed
}

}  // namespace
}  // namespace lb::http
