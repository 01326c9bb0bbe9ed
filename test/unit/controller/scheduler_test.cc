#include "controller/scheduler.h"

#include <gtest/gtest.h>

namespace lb::controller {
namespace {

constexpr int64_t kGiB = 1LL << 30;

Scheduler threeNodes() {
  Scheduler s;
  s.upsertNode("a", {{"zone", "x"}}, {4000, 4 * kGiB, 0}, true);
  s.upsertNode("b", {{"zone", "y"}}, {4000, 4 * kGiB, 0}, true);
  s.upsertNode("c", {{"zone", "y"}, {"ssd", "1"}}, {4000, 4 * kGiB, 0}, true);
  return s;
}

TEST(SchedulerTest, SpreadsOneDeploymentAcrossNodes) {
  Scheduler s = threeNodes();
  std::set<std::string> used;
  for (int i = 0; i < 3; ++i) {
    auto p = s.place("ns:svc:d1", {}, {100, 64 << 20});
    ASSERT_FALSE(p.node.empty()) << p.reason;
    used.insert(p.node);
    s.addPod(p.node, "ns:svc:d1", {100, 64 << 20});
  }
  EXPECT_EQ(used.size(), 3u);
  // A fourth goes to the least loaded node again; deterministic by name.
  auto p = s.place("ns:svc:d1", {}, {100, 64 << 20});
  EXPECT_EQ(p.node, "a");
}

TEST(SchedulerTest, PrefersLeastLoadedAmongEqualSpread) {
  Scheduler s = threeNodes();
  s.addPod("a", "other", {2000, kGiB});
  s.addPod("b", "other", {1000, kGiB});
  EXPECT_EQ(s.place("d", {}, {100, 1}).node, "c");
}

TEST(SchedulerTest, SelectorNodeAndLabels) {
  Scheduler s = threeNodes();
  types::NodeSelector byName;
  byName.node = "b";
  EXPECT_EQ(s.place("d", byName, {100, 1}).node, "b");
  types::NodeSelector byLabel;
  byLabel.labels = {{"zone", "y"}, {"ssd", "1"}};
  EXPECT_EQ(s.place("d", byLabel, {100, 1}).node, "c");
  byLabel.labels = {{"gpu", "1"}};
  auto p = s.place("d", byLabel, {100, 1});
  EXPECT_TRUE(p.node.empty());
  EXPECT_NE(p.reason.find("without label gpu=1"), std::string::npos) << p.reason;
  byName.node = "zz";
  p = s.place("d", byName, {100, 1});
  EXPECT_NE(p.reason.find("node 'zz' (selector.node) is not registered"), std::string::npos)
      << p.reason;
}

TEST(SchedulerTest, SaysWhyNothingFits) {
  Scheduler s = threeNodes();
  auto p = s.place("d", {}, {100, 5 * kGiB});
  EXPECT_TRUE(p.node.empty());
  EXPECT_EQ(p.reason, "no node with 5.4GB RAM free; 3 nodes checked (3 short of RAM)");
  s.upsertNode("b", {}, {4000, 4 * kGiB, 0}, false);
  p = s.place("d", {}, {8000, 1});
  EXPECT_EQ(
      p.reason,
      "no node with 8 CPU free; 3 nodes checked (1 offline or unschedulable, 2 short of CPU)");
}

TEST(SchedulerTest, TalliesFollowPodsAndOfflineNodesAreSkipped) {
  Scheduler s;
  s.upsertNode("a", {}, {1000, kGiB, 2}, true);
  s.addPod("a", "d", {500, 1});
  s.addPod("a", "d", {500, 1});
  EXPECT_TRUE(s.place("d", {}, {1, 1}).node.empty());  // CPU and slots used up
  s.removePod("a", "d", {500, 1});
  EXPECT_EQ(s.place("d", {}, {1, 1}).node, "a");
  s.upsertNode("a", {}, {1000, kGiB, 2}, false);
  EXPECT_TRUE(s.place("d", {}, {1, 1}).node.empty());
}

TEST(SchedulerTest, RequestFallsBackToLimitThenDefault) {
  types::PodTemplate t;
  t.containers.resize(3);
  t.containers[0].resources.request = {kGiB, 500};
  t.containers[1].resources.limits = {2 * kGiB, 1000};
  auto r = podRequest(t, {100, 64 << 20});
  EXPECT_EQ(r.cpu, 500 + 1000 + 100);
  EXPECT_EQ(r.ram, 3 * kGiB + (64 << 20));
}

TEST(SchedulerTest, ManyNodesPlaceQuickly) {
  Scheduler s;
  for (int i = 0; i < 5000; ++i)
    s.upsertNode("n" + std::to_string(i), {}, {4000, 8 * kGiB, 0}, true);
  auto start = std::chrono::steady_clock::now();
  for (int d = 0; d < 1000; ++d) {
    std::string dep = "ns:s" + std::to_string(d) + ":x";
    for (int r = 0; r < 50; ++r) {
      auto p = s.place(dep, {}, {100, 64 << 20});
      ASSERT_FALSE(p.node.empty());
      s.addPod(p.node, dep, {100, 64 << 20});
    }
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  EXPECT_LT(ms.count(), 5000);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(s.podsOn("n" + std::to_string(i)), 10);
}

}  // namespace
}  // namespace lb::controller
