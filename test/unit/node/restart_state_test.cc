// The restart-state file (agent-<node>.json): what it keeps, and that the
// agent's restart counts and back-off streaks outlive the agent.

#include "node/restart_state.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "agent_fixture.h"

namespace lb::node {
namespace {

using namespace lb::node::testing;

class RestartStateTest : public AgentFixture {
 protected:
  RestartStateTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("lb-agent-state-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~RestartStateTest() override { std::filesystem::remove_all(dir_); }
  std::string file() const { return (dir_ / "agent-node-1.json").string(); }
  std::string text() const {
    std::ifstream in(file());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  std::filesystem::path dir_;
};

TEST_F(RestartStateTest, RemembersForgetsAndRoundTrips) {
  RestartState s(file(), "node-1");
  s.load();  // no file yet: first start
  EXPECT_TRUE(s.recall("demo:web:d1:p1").empty());
  PodMemory m;
  m["c0"] = {2, 1, 1700000000123, 0, 0};
  s.remember("demo:web:d1:p1", m);
  s.remember("demo:web:d1:p2", {{"c0", {1, 0, 0, 3, 1700000000456}}});
  s.save();
  EXPECT_NE(text().find("\"restartAt\":1700000000123"), std::string::npos) << text();

  RestartState again(file(), "node-1");
  again.load();
  EXPECT_EQ(again.recall("demo:web:d1:p1"), m);
  EXPECT_EQ(again.recall("demo:web:d1:p2").at("c0").pullStreak, 3);
  again.prune([](const std::string& sl) { return sl == "demo:web:d1:p1"; });
  again.forget("demo:web:d1:p1");
  again.save();
  RestartState third(file(), "node-1");
  third.load();
  EXPECT_TRUE(third.recall("demo:web:d1:p1").empty());
  EXPECT_TRUE(third.recall("demo:web:d1:p2").empty());
}

TEST_F(RestartStateTest, AFileThatDoesNotParseIsSetAside) {
  std::ofstream(file()) << "{not json";
  RestartState s(file(), "node-1");
  s.load();
  EXPECT_TRUE(s.recall("demo:web:d1:p1").empty());
  auto agent = makeAgent(defaultProber, 50ms, file());
  EXPECT_TRUE(agent->start().isOk());
  agent->stop();
}

// A restarted agent shows the same restart count, and the next restart of
// a crash-looping container still waits out the streak's back-off.
TEST_F(RestartStateTest, RestartCountsAndBackOffSurviveTheAgent) {
  std::atomic<bool> liveOk{true};
  auto prober = [&](const ProbeTarget&) { return liveOk ? Status::ok() : unavailable("refused"); };
  auto p = pod("p1");
  types::Probe liveness;
  liveness.tcp = types::ProbeTcp{2};
  liveness.period = 1;
  liveness.failureThreshold = 1;
  p.spec.template_.containers[0].probes.liveness = liveness;
  auto restarts = [&](Agent& a) {
    auto s = a.podStatus(p.meta.selflink);
    return s && s->status.containers.size() == 1 ? s->status.containers[0].restarts : -1;
  };

  auto first = makeAgent(prober, 50ms, file());
  ASSERT_TRUE(first->start().isOk());
  first->applyManifest(manifest({p}));
  ASSERT_TRUE(settle([&] { return ready(*first, p.meta.selflink); }));
  // Crash-looping: the first restart at once, the second after 1 s; the
  // third would wait 2 s more.
  liveOk = false;
  ASSERT_TRUE(advanceUntil([&] { return restarts(*first) == 2; }, 10ms, 5s)) << restarts(*first);
  first->stop();
  first.reset();
  EXPECT_NE(text().find("\"restarts\":2"), std::string::npos) << text();
  EXPECT_NE(text().find("\"restartStreak\":2"), std::string::npos) << text();

  auto second = makeAgent(prober, 50ms, file());
  ASSERT_TRUE(second->start().isOk());
  second->applyManifest(manifest({p}));
  // Same count; and the failing probe's restart waits out the streak's
  // back-off instead of coming at once.
  EXPECT_TRUE(settle([&] {
    auto s = second->podStatus(p.meta.selflink);
    return s && restarts(*second) == 2 &&
           s->status.containers[0].message.find("back-off: restart in") != std::string::npos;
  })) << restarts(*second) << " " << second->podStatus(p.meta.selflink)->status.containers[0].message;
  second->stop();
}

}  // namespace
}  // namespace lb::node
