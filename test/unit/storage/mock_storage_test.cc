#include <gtest/gtest.h>

#include "lastbackend/storage/storage.h"

namespace lb::storage {
namespace {

using namespace std::chrono_literals;

// A watcher that never reads must not grow without bound: past its limit it
// is told to re-list.
TEST(MockStorage, SlowWatcherIsCutOffWithOutOfRange) {
  Options o;
  o.driver = "mock";
  o.historySize = 10;  // the queue limit is max(historySize, 1024)
  auto s = open(o);
  ASSERT_TRUE(s.isOk());
  auto w = (*s)->watch("/", 0);
  ASSERT_TRUE(w.isOk());
  for (int i = 0; i < 1100; ++i) ASSERT_TRUE((*s)->set("/k", std::to_string(i)).isOk());
  auto r = (*w)->next(10ms);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kOutOfRange);
}

TEST(MockStorage, ClosingEndsWatches) {
  Options o;
  o.driver = "mock";
  auto s = open(o);
  auto w = (*s)->watch("/", 0);
  ASSERT_TRUE(w.isOk());
  s->reset();
  EXPECT_EQ((*w)->next(1s).status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace lb::storage
