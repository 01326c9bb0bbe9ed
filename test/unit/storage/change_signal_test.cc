// The sqlite poller's wake-up source: file changes and in-process signals
// wake it, nothing else does.

#include "storage/sqlite/change_signal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace lb::storage::sqlite {
namespace {

using namespace std::chrono_literals;
using Wake = ChangeSignal::Wake;

class ChangeSignalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-change-signal-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/db-wal";
    std::ofstream(path_) << "x";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  void append() { std::ofstream(path_, std::ios::app) << "more"; }

  std::string dir_, path_;
};

TEST_F(ChangeSignalTest, QuietFileTimesOut) {
  ChangeSignal s;
  ASSERT_TRUE(s.watch(path_));
  EXPECT_EQ(s.wait(20ms, true), Wake::kTimeout);
}

TEST_F(ChangeSignalTest, WriteToTheFileWakes) {
  ChangeSignal s;
  ASSERT_TRUE(s.watch(path_));
  append();
  EXPECT_EQ(s.wait(1000ms, true), Wake::kFile);
  // Consumed: the next wait sleeps again.
  EXPECT_EQ(s.wait(20ms, true), Wake::kTimeout);
}

TEST_F(ChangeSignalTest, SignalWakesAndFileEventsWaitWhenNotAskedFor) {
  ChangeSignal s;
  ASSERT_TRUE(s.watch(path_));
  append();
  EXPECT_EQ(s.wait(20ms, false), Wake::kTimeout);  // the file event stays pending
  s.wake();
  EXPECT_EQ(s.wait(1000ms, false), Wake::kSignal);
  EXPECT_EQ(s.wait(1000ms, true), Wake::kFile);
}

TEST_F(ChangeSignalTest, ReplacedFileIsWatchedAgain) {
  ChangeSignal s;
  ASSERT_TRUE(s.watch(path_));
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  s.wait(1000ms, true);  // the delete (and the dropped watch)
  std::ofstream(path_) << "new";
  EXPECT_EQ(s.wait(20ms, true), Wake::kTimeout);  // re-armed on the new file
  append();
  EXPECT_EQ(s.wait(1000ms, true), Wake::kFile);
  EXPECT_TRUE(s.watching());
}

TEST_F(ChangeSignalTest, MissingFileFallsBackToTimeouts) {
  ChangeSignal s;
  EXPECT_FALSE(s.watch(dir_ + "/absent-wal"));
  EXPECT_FALSE(s.watching());
  EXPECT_EQ(s.wait(20ms, true), Wake::kTimeout);
  s.wake();
  EXPECT_EQ(s.wait(1000ms, true), Wake::kSignal);
}

}  // namespace
}  // namespace lb::storage::sqlite
