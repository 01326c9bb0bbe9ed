// The status reporter through a fake cluster link, on a ManualClock: a
// report carries the pods that changed, each heartbeat all of them, and the
// statuses of the Volumes the node holds.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "agent_fixture.h"

namespace lb::node {
namespace {

using namespace lb::node::testing;

class StatusReporterTest : public AgentFixture {
 protected:
  static bool has(const std::vector<std::string>& r, const std::string& x) {
    return std::find(r.begin(), r.end(), x) != r.end();
  }
  // Whether a report from the `from`-th on names `x`.
  static bool reportedSince(const FakeLink& link, size_t from, const std::string& x) {
    auto rs = link.reports();
    for (size_t i = from; i < rs.size(); ++i)
      if (has(rs[i], x)) return true;
    return false;
  }
};

TEST_F(StatusReporterTest, ReportsCarryChangedPodsAndAllOfThemEachHeartbeat) {
  auto a = pod("a"), b = pod("b");
  FakeLink link(manifest({a, b}));
  AgentOptions o = options();
  o.heartbeat = 1500ms;
  Agent agent(o, &link, &cri_, &images_, &volumes_);
  ASSERT_TRUE(agent.start().isOk());
  const std::string ra = a.meta.selflink + "+", rb = b.meta.selflink + "+";
  // Both pods were reported Ready (in one report or two).
  ASSERT_TRUE(advanceUntil([&] { return reportedSince(link, 0, ra) && reportedSince(link, 0, rb); }));
  // Right after a heartbeat (the only reports that name the unchanged b),
  // pod a's container dies: a report names a alone...
  size_t before = link.reports().size();
  ASSERT_TRUE(advanceUntil([&] { return reportedSince(link, before, rb); }, 10ms, 3s));
  before = link.reports().size();
  auto ca = containers(a.meta.selflink);
  ASSERT_EQ(ca.size(), 1u);
  cri_.exit(ca[0].id, 1);
  size_t deltaAt = 0;
  EXPECT_TRUE(advanceUntil([&] {
    auto rs = link.reports();
    for (size_t i = before; i < rs.size(); ++i)
      if (rs[i].size() == 1 && rs[i][0].rfind(a.meta.selflink, 0) == 0) {
        deltaAt = i;
        return true;
      }
    return false;
  })) << "no report with pod a alone";
  // ... and a later heartbeat sends b again, not before the heartbeat.
  EXPECT_TRUE(advanceUntil([&] { return reportedSince(link, deltaAt + 1, rb); }, 10ms, 3s));
  agent.stop();
}

// A Volume the node holds is reported ready with its host path once a pod
// here created its directory (what `lb volume ls/inspect` show).
TEST_F(StatusReporterTest, VolumeStatusCarriesStateReadyAndPath) {
  FakeLink link(volumeManifest());
  auto agent = makeAgent(defaultProber, 50ms, "", &link);
  ASSERT_TRUE(agent->start().isOk());
  ASSERT_TRUE(advanceUntil([&] {
    auto v = link.volume("demo:data");
    return v && v->ready;
  }));
  auto v = *link.volume("demo:data");
  EXPECT_EQ(v.state, types::State::kReady);
  EXPECT_EQ(v.path, *volumes_.path("demo:data"));
  EXPECT_TRUE(v.message.empty()) << v.message;
  agent->stop();
}

// A restarted agent adopting a ready pod reports nothing for it until its
// first pass knows (its readiness probe answered): never "not ready" in
// between, which would take the pod out of its service's VIP.
TEST_F(StatusReporterTest, AnAdoptedPodIsNotReportedBeforeItsFirstPass) {
  auto p = pod("p1");
  p.spec.template_.containers[0].probes.readiness = tcpProbe(1);
  FakeLink link(manifest({p}));
  const std::string up = p.meta.selflink + "+", down = p.meta.selflink + "-";
  std::atomic<bool> hold{false};
  Prober prober = [&](const ProbeTarget&) {
    for (int i = 0; hold && i < 400; ++i) std::this_thread::sleep_for(5ms);
    return Status::ok();
  };
  auto agent = makeAgent(prober, 50ms, "", &link);
  ASSERT_TRUE(agent->start().isOk());
  ASSERT_TRUE(advanceUntil([&] { return reportedSince(link, 0, up); }));
  agent->stop();
  agent.reset();

  hold = true;  // the restarted agent's first probe takes a while
  auto again = makeAgent(prober, 50ms, "", &link);
  size_t from = link.reports().size();
  ASSERT_TRUE(again->start().isOk());
  run(300ms);  // heartbeats go meanwhile
  EXPECT_TRUE(settle([&] { return link.reports().size() > from + 1; }, 1s))
      << "no report while the probe was held";
  hold = false;
  EXPECT_TRUE(advanceUntil([&] { return reportedSince(link, from, up); }));
  EXPECT_FALSE(reportedSince(link, from, down)) << "the adopted pod was reported not ready";
  again->stop();
}

}  // namespace
}  // namespace lb::node
