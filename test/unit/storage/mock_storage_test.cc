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

// Far fewer events than the count limit, but big ones: the watcher that
// does not read is cut by its byte budget; one that keeps up is unaffected.
TEST(MockStorage, SlowWatcherOfBigValuesIsCutByBytesOthersAreNot) {
  Options o;
  o.driver = "mock";
  o.historySize = 10;
  auto s = open(o);
  ASSERT_TRUE(s.isOk());
  auto slow = (*s)->watch("/", 0);
  auto fast = (*s)->watch("/", 0);
  ASSERT_TRUE(slow.isOk() && fast.isOk());
  const std::string big(1024 * 1024, 'x');
  size_t seen = 0;
  for (int i = 0; i < 80; ++i) {  // 80 MiB in 80 events, over the 64 MiB budget
    ASSERT_TRUE((*s)->set("/k" + std::to_string(i), big).isOk());
    auto r = (*fast)->next(0ms);
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    seen += r->size();
  }
  EXPECT_EQ(seen, 80u);
  auto r = (*slow)->next(10ms);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kOutOfRange);
  EXPECT_NE(r.status().message().find("bytes"), std::string::npos) << r.status().toString();
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
