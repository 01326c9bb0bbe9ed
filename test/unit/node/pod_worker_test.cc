// Pod workers against the runtime fakes, on a ManualClock: statuses follow
// probes and exits, failing starts and pulls back off (1 s, 2 s, ...), images
// are pulled per policy.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "agent_fixture.h"

namespace lb::node {
namespace {

using namespace lb::node::testing;
namespace cri = runtime::cri;

class PodWorkerTest : public AgentFixture {
 protected:
  int restarts(Agent& a, const std::string& sl) {
    auto s = a.podStatus(sl);
    return s && !s->status.containers.empty() ? s->status.containers[0].restarts : -1;
  }
  bool says(Agent& a, const std::string& sl, const std::string& text) {
    return message(a, sl).find(text) != std::string::npos;
  }
};

TEST_F(PodWorkerTest, DeadContainerIsRestartedAndCounted) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(settle([&] { return ready(*agent, p.meta.selflink); }));
  cri_.exit(containers()[0].id, 1);  // "always": the runtime restarts it
  EXPECT_TRUE(settle([&] { return restarts(*agent, p.meta.selflink) == 1; }));
  // restart "never": the pod is in error once the container exits non-zero.
  auto q = pod("p2");
  q.spec.template_.containers[0].restart.policy = "never";
  agent->applyManifest(manifest({p, q}));
  ASSERT_TRUE(settle([&] { return ready(*agent, q.meta.selflink); }));
  cri_.exit(containers(q.meta.selflink)[0].id, 3);
  EXPECT_TRUE(settle([&] {
    auto s = agent->podStatus(q.meta.selflink);
    return s && s->status.state == types::State::kError && !s->status.ready;
  }));
  EXPECT_TRUE(says(*agent, q.meta.selflink, "code 3"));
}

TEST_F(PodWorkerTest, ReadinessGatesReadyAndLivenessRestarts) {
  std::atomic<bool> readyOk{false}, liveOk{true};
  auto agent = makeAgent([&](const ProbeTarget& t) {
    bool ok = t.probe.tcp->port == 1 ? readyOk.load() : liveOk.load();
    return ok ? Status::ok() : unavailable("refused");
  });
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].probes.readiness = tcpProbe(1);
  p.spec.template_.containers[0].probes.liveness = tcpProbe(2, 2);
  agent->applyManifest(manifest({p}));
  EXPECT_TRUE(settle([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.containers.size() == 1 && s->status.containers[0].state == "started";
  }));
  run(300ms);
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  EXPECT_TRUE(says(*agent, p.meta.selflink, "readiness"));
  readyOk = true;
  EXPECT_TRUE(advanceUntil([&] { return ready(*agent, p.meta.selflink); }, 10ms, 4s));
  auto id = containers()[0].id;
  liveOk = false;
  EXPECT_TRUE(advanceUntil([&] { return restarts(*agent, p.meta.selflink) >= 1; }, 10ms, 6s));
  EXPECT_EQ(containers()[0].id, id);  // restarted in place, not replaced
  // The restarted container is still watched: failing on, it is restarted
  // again (after the 1 s back-off).
  EXPECT_TRUE(advanceUntil([&] { return restarts(*agent, p.meta.selflink) >= 2; }, 10ms, 5s));
}

// Exec probes through the CRI (the default prober): exit code 0 passes.
TEST_F(PodWorkerTest, ExecProbesGateReadyAndRestartOnLivenessFailure) {
  std::atomic<bool> readyOk{false}, liveOk{true};
  cri_.setExecHandler(
      [&](const std::string&, const std::vector<std::string>& cmd) -> StatusOr<cri::ExecResult> {
        bool ok = cmd[0] == "ready" ? readyOk.load() : liveOk.load();
        return cri::ExecResult{ok ? 0 : 1, ok ? "" : "no"};
      });
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  types::Probe readiness;
  readiness.exec = types::ProbeExec{{"ready", "--now"}};
  readiness.period = 1;
  types::Probe liveness;
  liveness.exec = types::ProbeExec{{"alive"}};
  liveness.period = 1;
  liveness.failureThreshold = 2;
  p.spec.template_.containers[0].probes.readiness = readiness;
  p.spec.template_.containers[0].probes.liveness = liveness;
  agent->applyManifest(manifest({p}));
  EXPECT_TRUE(advanceUntil([&] {
    return says(*agent, p.meta.selflink, "readiness probe: exec ready --now: exit code 1: no");
  })) << message(*agent, p.meta.selflink);
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  readyOk = true;
  EXPECT_TRUE(advanceUntil([&] { return ready(*agent, p.meta.selflink); }, 10ms, 4s));
  auto id = containers()[0].id;
  liveOk = false;
  EXPECT_TRUE(advanceUntil([&] { return restarts(*agent, p.meta.selflink) >= 1; }, 10ms, 6s));
  EXPECT_EQ(containers()[0].id, id);  // restarted in place
  EXPECT_TRUE(containers()[0].running());
  auto execs = cri_.execs();
  EXPECT_NE(std::find(execs.begin(), execs.end(), std::vector<std::string>{"alive"}), execs.end());
}

// Readiness is retried quickly until it first passes, and a pass for a due
// probe alone does not go to the runtime: no listing per probe.
TEST_F(PodWorkerTest, ReadinessRetriesWithoutListingContainers) {
  std::atomic<int> probes{0};
  std::atomic<bool> readyOk{false};
  auto agent = makeAgent(
      [&](const ProbeTarget&) {
        ++probes;
        return readyOk ? Status::ok() : unavailable("refused");
      },
      1h);
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].probes.readiness = tcpProbe(8080, 3, 3600);
  // (period 3600: only the quick retries can make it ready)
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(advanceUntil([&] { return probes >= 2; }));
  int lists = cri_.errors().calls("list");
  ASSERT_TRUE(advanceUntil([&] { return probes >= 6; }));
  EXPECT_EQ(cri_.errors().calls("list"), lists);
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  readyOk = true;
  EXPECT_TRUE(advanceUntil([&] { return ready(*agent, p.meta.selflink); }));
  agent->stop();
}

// A container whose start keeps failing is not retried in a tight loop: the
// second try waits 1 s (then 2 s, 4 s ... up to 5 min), and the status
// says so.
TEST_F(PodWorkerTest, FailingStartsBackOff) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  cri_.errors().fail("start", invalidArgument("exec: \"nope\": not found"),
                     fakes::ErrorInjector::kForever);
  auto p = pod("p1");
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(advanceUntil([&] { return says(*agent, p.meta.selflink, "restart in 1s"); }))
      << message(*agent, p.meta.selflink);
  // The create's own start, then the first restart at once; the next waits.
  EXPECT_EQ(cri_.errors().calls("start"), 2);
  run(800ms);  // (the back-off ends about 980 ms after that status)
  EXPECT_EQ(cri_.errors().calls("start"), 2) << "a start inside the back-off";
  EXPECT_TRUE(advanceUntil([&] { return cri_.errors().calls("start") == 3; }));
  EXPECT_TRUE(advanceUntil([&] { return says(*agent, p.meta.selflink, "restart in 2s"); }));
  EXPECT_EQ(cri_.errors().calls("start"), 3);
  cri_.errors().clear("start");
  EXPECT_TRUE(advanceUntil([&] { return ready(*agent, p.meta.selflink); }, 10ms, 6s));
}

TEST_F(PodWorkerTest, ImagePulledPerPolicy) {
  images_.addRemote("registry.example/app:1");
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].image.name = "registry.example/app:1";
  agent->applyManifest(manifest({p}));
  EXPECT_TRUE(settle([&] { return ready(*agent, p.meta.selflink); }));
  auto q = pod("p2");
  q.spec.template_.containers[0].image.name = "registry.example/missing:1";
  q.spec.template_.containers[0].image.policy = "Never";
  agent->applyManifest(manifest({p, q}));
  EXPECT_TRUE(settle([&] { return says(*agent, q.meta.selflink, "pull policy is Never"); }));
}

TEST_F(PodWorkerTest, FailedPullsBackOff) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].image.name = "registry.example/late:1";  // not there yet
  agent->applyManifest(manifest({p}));
  // After two failed pulls the next waits 2 s; the status says so.
  ASSERT_TRUE(advanceUntil([&] { return says(*agent, p.meta.selflink, "back-off: retry in 2s"); }))
      << message(*agent, p.meta.selflink);
  EXPECT_TRUE(says(*agent, p.meta.selflink, "pull image"));
  const int attempts = images_.pullAttempts();
  EXPECT_EQ(attempts, 2);
  run(1s);  // the third try is 2 s after the second
  EXPECT_EQ(images_.pullAttempts(), attempts) << "a pull inside the back-off";
  // Once the image is there the next try succeeds.
  images_.addRemote("registry.example/late:1");
  EXPECT_TRUE(advanceUntil([&] { return ready(*agent, p.meta.selflink); }, 10ms, 10s));
}

}  // namespace
}  // namespace lb::node
