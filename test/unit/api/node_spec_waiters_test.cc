// The spec long-poll parks requests from the HTTP I/O threads: wait() must
// never call the store there (a slow store would stall every connection).

#include "api/handlers/node_agent.h"

#include <gtest/gtest.h>

#include <future>

#include "fakes/storage/faulty_storage.h"

namespace lb::api {
namespace {

using namespace std::chrono_literals;

// info() blocks until the test opens the gate (a store that hangs).
class HangingStorage : public storage::testing::FaultyStorage {
 public:
  using FaultyStorage::FaultyStorage;
  StatusOr<storage::Info> info() override {
    gate_.wait();
    return FaultyStorage::info();
  }
  void open() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> gate_ = release_.get_future().share();
};

class CountingResponder : public http::Responder {
 public:
  void respond(http::Response) override { ++answers; }
  void respondFrom(std::function<http::Response()>) override { ++answers; }
  bool cancelled() const override { return false; }
  std::atomic<int> answers{0};
};

std::unique_ptr<storage::Storage> mockStore() {
  storage::Options o;
  o.driver = "mock";
  auto s = storage::open(o);
  EXPECT_TRUE(s.isOk());
  return std::move(*s);
}

TEST(NodeSpecWaitersTest, WaitDoesNotCallTheStoreOnTheCallersThread) {
  HangingStorage store(mockStore());
  NodeSpecWaiters waiters(&store);
  auto first = std::make_shared<CountingResponder>();
  auto call = std::async(std::launch::async, [&] {
    waiters.wait("n1", 0, std::chrono::steady_clock::now() + 60s, first, [] { return http::Response{}; });
  });
  // The store hangs; wait() returns all the same, the request parked.
  ASSERT_EQ(call.wait_for(10s), std::future_status::ready) << "wait() blocked on the store";
  EXPECT_EQ(waiters.waiting(), 1u);
  EXPECT_EQ(first->answers, 0);

  store.open();
  waiters.stop();  // parked requests get their listing, once
  EXPECT_EQ(first->answers, 1);
  EXPECT_EQ(waiters.waiting(), 0u);
}

}  // namespace
}  // namespace lb::api
