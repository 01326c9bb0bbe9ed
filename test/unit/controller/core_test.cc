// The core with a loop of the test's own (the way a new loop plugs in):
// it hears the kinds it asked for, reconciles its own keys, ticks every
// pass, and its writes are compare-and-swaps that a lost race re-queues.

#include "controller/core.h"

#include <gtest/gtest.h>

#include <functional>

#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

// Labels every registered node "seen=<n>" (n = how often it reconciled it).
class LabelLoop final : public loops::Loop {
 public:
  explicit LabelLoop(loops::Context& ctx) : ctx_(ctx) {}
  std::string_view name() const override { return "label"; }
  char prefix() const override { return 'x'; }
  std::vector<detail::Kind> kinds() const override { return {detail::Kind::kNodeInfo}; }
  void onChange(const Change& c) override {
    heard++;
    if (c.present) ctx_.queue.enqueue('x', c.id);
  }
  void reconcile(const std::string& id) override {
    reconciled.push_back(id);
    if (beforeWrite) beforeWrite();
    auto it = ctx_.cache.nodeInfo().find(id);
    if (it == ctx_.cache.nodeInfo().end()) return;
    const std::string seen = std::to_string(reconciled.size());
    if (it->second.meta.labels["seen"] != "") return;
    types::Node n = it->second;
    n.meta.labels["seen"] = seen;
    ctx_.batch.putObject(*keys::nodeKey(id, keys::Part::kInfo), n);
    ctx_.cache.nodeInfo()[id] = n;
  }
  void tick(SteadyTime) override { ticks++; }
  SteadyTime nextTick() const override { return next; }
  void resync() override {
    for (const auto& [name, n] : ctx_.cache.nodeInfo()) ctx_.queue.enqueue('x', name);
  }

  loops::Context& ctx_;
  int heard = 0, ticks = 0;
  SteadyTime next = SteadyTime::max();
  std::vector<std::string> reconciled;
  std::function<void()> beforeWrite;
};

class CoreTest : public ::testing::Test {
 protected:
  CoreTest()
      : h_([this](loops::Context& ctx) {
          std::vector<std::unique_ptr<loops::Loop>> out;
          auto l = std::make_unique<LabelLoop>(ctx);
          loop_ = l.get();
          out.push_back(std::move(l));
          return out;
        }) {}

  std::string label(const std::string& node) {
    auto n = h_.get<types::Node>(*keys::nodeKey(node, keys::Part::kInfo));
    return n ? n->meta.labels["seen"] : "";
  }

  LabelLoop* loop_ = nullptr;
  LoopHarness h_;
};

TEST_F(CoreTest, ALoopHearsItsKindsAndReconcilesItsKeys) {
  h_.pass();  // empty store
  EXPECT_EQ(loop_->ticks, 1);
  h_.putNode("n1");
  h_.pass();
  EXPECT_EQ(loop_->reconciled, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(label("n1"), "1");
  // Its own write echoes back through the watch: heard, not reconciled again.
  h_.pass();
  EXPECT_EQ(loop_->reconciled.size(), 1u);
  EXPECT_EQ(loop_->ticks, 3);
  h_.core().resyncNow();
  h_.pass();
  EXPECT_EQ(loop_->reconciled.size(), 2u);
}

TEST_F(CoreTest, AWriteThatLostARaceIsReReadAndRetried) {
  h_.putNode("n1");
  h_.pass();
  h_.remove(*keys::nodeKey("n1", keys::Part::kInfo));
  h_.pass();
  h_.putNode("n2");
  bool raced = false;
  loop_->beforeWrite = [&] {
    if (raced) return;
    raced = true;
    // Someone else updates the node between our read and our write.
    types::Node n;
    n.meta.name = "n2";
    n.meta.labels["owner"] = "api";
    ASSERT_TRUE(h_.store().set(*keys::nodeKey("n2", keys::Part::kInfo), types::toJson(n)).isOk());
  };
  h_.pass();
  EXPECT_EQ(h_.core().stats().conflicts, 1u);
  EXPECT_EQ(label("n2"), "");
  h_.pass();  // re-read, committed alone
  auto n = h_.get<types::Node>(*keys::nodeKey("n2", keys::Part::kInfo));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->meta.labels["owner"], "api");
  EXPECT_NE(n->meta.labels["seen"], "");
}

// An idle controller sleeps in the watch until something is due, at most
// the cap: no pass every 50 ms when nothing changes.
TEST_F(CoreTest, IdleWaitLastsUntilTheNextDueTickOrTheCap) {
  EXPECT_EQ(h_.core().idleWait(1000ms), 0ms);  // the cache is not loaded yet
  h_.pass();
  EXPECT_EQ(h_.core().idleWait(1000ms), 1000ms);  // nothing due: the cap
  loop_->next = h_.clock().steadyNow() + 200ms;
  EXPECT_EQ(h_.core().idleWait(1000ms), 200ms);
  h_.clock().advance(150ms);
  EXPECT_EQ(h_.core().idleWait(1000ms), 50ms);
  h_.clock().advance(60ms);
  EXPECT_EQ(h_.core().idleWait(1000ms), 0ms);  // overdue
}

TEST_F(CoreTest, IdleWaitEndsAtTheResync) {
  Options o;
  o.resyncInterval = 300ms;
  LoopHarness h(loops::makeLoops, o);
  h.pass();
  auto w = h.core().idleWait(1000ms);
  EXPECT_GT(w, 0ms);
  EXPECT_LE(w, 300ms);
}

}  // namespace
}  // namespace lb::controller::testing
