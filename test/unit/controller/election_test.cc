#include "controller/election.h"

#include <gtest/gtest.h>

#include "fakes/manual_clock.h"
#include "fakes/storage/faulty_storage.h"

namespace lb::controller {
namespace {

using namespace std::chrono_literals;
using storage::testing::FaultyStorage;

class ElectionTest : public ::testing::Test {
 protected:
  ElectionTest() {
    storage::Options o;
    o.driver = "mock";
    auto inner = storage::open(o);
    store_ = std::make_unique<FaultyStorage>(std::move(inner.value()));
  }
  std::unique_ptr<FaultyStorage> store_;
  lb::testing::ManualClock clock_;
};

TEST_F(ElectionTest, OneLeaderFollowerTakesOverAfterTtl) {
  Elector a(*store_, clock_, "a", 9s), b(*store_, clock_, "b", 9s);
  EXPECT_TRUE(*a.tick());
  EXPECT_FALSE(*b.tick());
  EXPECT_TRUE(a.isLeader());
  // a dies (no more ticks): it stops counting itself leader at 2/3 TTL...
  clock_.advance(6s);
  EXPECT_FALSE(a.isLeader());
  // ...and b may only take over after the full TTL.
  EXPECT_FALSE(*b.tick());
  clock_.advance(3100ms);
  EXPECT_TRUE(*b.tick());
  EXPECT_EQ(b.term(), 2);
  // a comes back: it sees b's live lease and follows.
  EXPECT_FALSE(*a.tick());
}

TEST_F(ElectionTest, RenewKeepsLeadershipAndReleaseHandsOver) {
  Elector a(*store_, clock_, "a", 9s), b(*store_, clock_, "b", 9s);
  ASSERT_TRUE(*a.tick());
  for (int i = 0; i < 10; ++i) {
    clock_.advance(3s);
    ASSERT_TRUE(*a.tick());
    ASSERT_FALSE(*b.tick());
  }
  EXPECT_EQ(a.leadership(), 1u);
  a.release();
  EXPECT_FALSE(a.isLeader());
  EXPECT_TRUE(*b.tick());
}

TEST_F(ElectionTest, StoreErrorsStepDownBeforeExpiryAndRetryWithBackoff) {
  Elector a(*store_, clock_, "a", 9s), b(*store_, clock_, "b", 9s);
  ASSERT_TRUE(*a.tick());
  store_->failNext(FaultyStorage::Method::kGet, unavailable("store down"), 5);
  clock_.advance(3s);
  EXPECT_FALSE(a.tick().isOk());
  EXPECT_TRUE(a.isLeader());  // still inside its safe window
  EXPECT_EQ(a.nextDelay(), 100ms);
  EXPECT_FALSE(a.tick().isOk());
  EXPECT_EQ(a.nextDelay(), 200ms);
  clock_.advance(3s);
  EXPECT_FALSE(a.isLeader());  // stepped down at 2/3 TTL, before the lease ends
  EXPECT_FALSE(a.tick().isOk());
  EXPECT_FALSE(a.tick().isOk());
  EXPECT_FALSE(a.tick().isOk());
  // The store is back: the loop never stopped, a renews its own lease.
  EXPECT_TRUE(*a.tick());
  EXPECT_EQ(a.nextDelay(), 3s);
  EXPECT_EQ(a.leadership(), 2u);
}

TEST_F(ElectionTest, LeaseRecordRoundTrips) {
  LeaseRecord r{"x", 123, 4};
  auto back = decodeLease(encodeLease(r));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->holder, "x");
  EXPECT_EQ(back->expiresMs, 123);
  EXPECT_EQ(back->term, 4);
  EXPECT_FALSE(decodeLease("nope").isOk());
}

}  // namespace
}  // namespace lb::controller
