// The agent against the runtime fakes: pods come up with their containers,
// statuses follow probes and exits, restarts of the agent adopt what runs,
// pods that leave the spec leave no container behind.

#include "node/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "fakes/runtime/fake_cii.h"
#include "fakes/runtime/fake_cri.h"
#include "fakes/runtime/fake_csi.h"

namespace lb::node {
namespace {

using namespace std::chrono_literals;
namespace cri = runtime::cri;

constexpr const char* kImage = "lb/busybox:local";

types::Pod pod(const std::string& name, int containers = 1) {
  types::Pod p;
  p.meta.name = name;
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:d1:" + name;
  for (int i = 0; i < containers; ++i) {
    types::ContainerSpec c;
    c.name = "c" + std::to_string(i);
    c.image.name = kImage;
    c.env.push_back({"GREETING", std::nullopt, std::nullopt, types::KeyRef{"conf", "greeting"}});
    p.spec.template_.containers.push_back(c);
  }
  types::TemplateVolume v;
  v.name = "conf";
  v.config = types::FilesRef{"conf", {}};
  p.spec.template_.volumes.push_back(v);
  p.spec.template_.containers[0].volumes.push_back({"conf", "/etc/conf", "", false});
  return p;
}

NodeManifest manifest(std::vector<types::Pod> pods, std::string greeting = "hello") {
  NodeManifest m;
  for (auto& p : pods) m.pods[p.meta.selflink] = p;
  m.configs["demo:conf"].spec.data = {{"greeting", greeting}};
  m.revision = 1;
  return m;
}

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() : cri_(realClock(), &images_) { images_.addImage(kImage); }

  std::unique_ptr<Agent> makeAgent(Prober prober = defaultProber,
                                   std::chrono::milliseconds resync = 50ms,
                                   std::string stateFile = "") {
    AgentOptions o;
    o.stateFile = std::move(stateFile);
    o.node = "node-1";
    o.resync = resync;
    o.retry = 20ms;
    o.heartbeat = 100ms;
    o.stopGrace = 0s;
    o.prober = std::move(prober);
    return std::make_unique<Agent>(o, nullptr, &cri_, &images_, &volumes_);
  }

  bool ready(Agent& a, const std::string& sl) {
    auto p = a.podStatus(sl);
    return p && p->status.ready && p->status.state == types::State::kReady;
  }

  std::vector<cri::ContainerInfo> containers(const std::string& sl = "") {
    cri::ListOptions lo;
    lo.labels[cri::kLabelPod] = sl;
    return *cri_.list(lo);
  }

  fakes::FakeImageRuntime images_;
  fakes::FakeContainerRuntime cri_;
  fakes::FakeVolumeRuntime volumes_;
};

TEST_F(AgentTest, RunsPodWithJoinedContainersEnvAndFiles) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2)}));
  ASSERT_TRUE(eventually([&] { return ready(*agent, "demo:web:d1:p1"); }));
  auto cs = containers("demo:web:d1:p1");
  ASSERT_EQ(cs.size(), 2u);
  std::string owner;
  for (const auto& c : cs)
    if (c.labels.count(cri::kLabelNetwork)) owner = c.id;
  ASSERT_FALSE(owner.empty());
  for (const auto& c : cs) {
    EXPECT_TRUE(c.running());
    if (c.id != owner) {
      EXPECT_EQ(c.networkMode, "container:" + owner);
    }
  }
  auto specs = cri_.specs();
  EXPECT_EQ(specs[0].env.at("GREETING"), "hello");
  EXPECT_EQ(volumes_.files("demo:web:d1:p1.conf").at("greeting"), "hello");
  auto st = agent->podStatus("demo:web:d1:p1")->status;
  EXPECT_FALSE(st.ip.empty());
  EXPECT_EQ(st.containers.size(), 2u);
  EXPECT_EQ(st.node, "node-1");
  agent->stop();
}

TEST_F(AgentTest, ConfigChangeRewritesFilesWithoutRestart) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1")}));
  ASSERT_TRUE(eventually([&] { return ready(*agent, "demo:web:d1:p1"); }));
  auto before = containers();
  agent->applyManifest(manifest({pod("p1")}, "bonjour"));
  EXPECT_TRUE(eventually([&] {
    auto f = volumes_.files("demo:web:d1:p1.conf");
    return f.count("greeting") && f.at("greeting") == "bonjour";
  }));
  auto after = containers();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, before[0].id);
  EXPECT_EQ(after[0].startedAt, before[0].startedAt);
}

TEST_F(AgentTest, MissingConfigKeepsPodProvisioningWithMessage) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto m = manifest({pod("p1")});
  m.configs.clear();
  agent->applyManifest(m);
  EXPECT_TRUE(eventually([&] {
    auto p = agent->podStatus("demo:web:d1:p1");
    return p && p->status.message.find("config 'conf' not found") != std::string::npos;
  }));
  EXPECT_EQ(agent->podStatus("demo:web:d1:p1")->status.state, types::State::kProvision);
  EXPECT_TRUE(containers().empty());
  agent->applyManifest(manifest({pod("p1")}));  // the config arrives
  EXPECT_TRUE(eventually([&] { return ready(*agent, "demo:web:d1:p1"); }));
}

TEST_F(AgentTest, RemovedPodsLeaveNoContainersOrVolumes) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(eventually(
      [&] { return ready(*agent, "demo:web:d1:p1") && ready(*agent, "demo:web:d1:p2"); }));
  agent->applyManifest(manifest({pod("p2")}));
  agent->waitRetired(5s);
  EXPECT_TRUE(containers("demo:web:d1:p1").empty());
  EXPECT_EQ(containers("demo:web:d1:p2").size(), 1u);
  EXPECT_FALSE(volumes_.path("demo:web:d1:p1.conf").isOk());
  agent->applyManifest(manifest({}));
  agent->waitRetired(5s);
  EXPECT_TRUE(containers().empty());
}

TEST_F(AgentTest, RestartedAgentAdoptsRunningContainers) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  agent->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(eventually(
      [&] { return ready(*agent, "demo:web:d1:p1") && ready(*agent, "demo:web:d1:p2"); }));
  auto before = containers();
  agent->stop();
  agent.reset();
  // A stray of a pod the spec no longer has, as a crashed agent leaves it.
  auto stray = pod("gone");
  cri::ContainerSpec s;
  s.image = kImage;
  s.labels[cri::kLabelPod] = stray.meta.selflink;
  auto strayId = cri_.create(s);
  ASSERT_TRUE(strayId.isOk());

  auto again = makeAgent();
  ASSERT_TRUE(again->start().isOk());
  again->applyManifest(manifest({pod("p1", 2), pod("p2")}));
  ASSERT_TRUE(eventually(
      [&] { return ready(*again, "demo:web:d1:p1") && ready(*again, "demo:web:d1:p2"); }));
  again->collectGarbage();
  auto after = containers();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& b : before) {
    auto it = std::find_if(after.begin(), after.end(), [&](const auto& a) { return a.id == b.id; });
    ASSERT_NE(it, after.end()) << b.name << " was replaced";
    EXPECT_EQ(it->startedAt, b.startedAt);
    EXPECT_EQ(it->restartCount, 0);
  }
  EXPECT_FALSE(cri_.inspect(*strayId).isOk());
}

TEST_F(AgentTest, DeadContainerIsRestartedAndCounted) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }));
  cri_.exit(containers()[0].id, 1);  // "always": the runtime restarts it
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.containers.size() == 1 && s->status.containers[0].restarts == 1;
  }));
  // restart "never": the pod is in error once the container exits non-zero.
  auto q = pod("p2");
  q.spec.template_.containers[0].restart.policy = "never";
  agent->applyManifest(manifest({p, q}));
  ASSERT_TRUE(eventually([&] { return ready(*agent, q.meta.selflink); }));
  cri_.exit(containers(q.meta.selflink)[0].id, 3);
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(q.meta.selflink);
    return s && s->status.state == types::State::kError && !s->status.ready;
  }));
  EXPECT_NE(agent->podStatus(q.meta.selflink)->status.message.find("code 3"), std::string::npos);
}

TEST_F(AgentTest, ReadinessGatesReadyAndLivenessRestarts) {
  std::atomic<bool> readyOk{false}, liveOk{true};
  auto agent = makeAgent([&](const ProbeTarget& t) {
    bool ok = t.probe.tcp->port == 1 ? readyOk.load() : liveOk.load();
    return ok ? Status::ok() : unavailable("refused");
  });
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  types::Probe readiness;
  readiness.tcp = types::ProbeTcp{1};
  readiness.period = 1;
  types::Probe liveness;
  liveness.tcp = types::ProbeTcp{2};
  liveness.period = 1;
  liveness.failureThreshold = 2;
  p.spec.template_.containers[0].probes.readiness = readiness;
  p.spec.template_.containers[0].probes.liveness = liveness;
  agent->applyManifest(manifest({p}));
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.containers.size() == 1 && s->status.containers[0].state == "started";
  }));
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  EXPECT_NE(agent->podStatus(p.meta.selflink)->status.message.find("readiness"), std::string::npos);
  readyOk = true;
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }, 4s));
  auto id = containers()[0].id;
  liveOk = false;
  EXPECT_TRUE(eventually(
      [&] {
        auto s = agent->podStatus(p.meta.selflink);
        return s && s->status.containers[0].restarts >= 1;
      },
      6s));
  EXPECT_EQ(containers()[0].id, id);  // restarted in place, not replaced
  // The restarted container is still watched: failing on, it is restarted
  // again (after the 1 s back-off).
  EXPECT_TRUE(eventually(
      [&] {
        auto s = agent->podStatus(p.meta.selflink);
        return s && s->status.containers[0].restarts >= 2;
      },
      5s));
}

// Exec probes through the CRI (the default prober): exit code 0 passes.
TEST_F(AgentTest, ExecProbesGateReadyAndRestartOnLivenessFailure) {
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
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.message.find("readiness probe: exec ready --now: exit code 1: no") !=
                    std::string::npos;
  })) << agent->podStatus(p.meta.selflink)->status.message;
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  readyOk = true;
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }, 4s));
  auto id = containers()[0].id;
  liveOk = false;
  EXPECT_TRUE(eventually(
      [&] {
        auto s = agent->podStatus(p.meta.selflink);
        return s && s->status.containers[0].restarts >= 1;
      },
      6s));
  EXPECT_EQ(containers()[0].id, id);  // restarted in place
  EXPECT_TRUE(containers()[0].running());
  auto execs = cri_.execs();
  EXPECT_NE(std::find(execs.begin(), execs.end(), std::vector<std::string>{"alive"}), execs.end());
}

// Readiness is retried quickly until it first passes, and a pass for a due
// probe alone does not go to the runtime: no listing per probe.
TEST_F(AgentTest, ReadinessRetriesWithoutListingContainers) {
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
  types::Probe readiness;
  readiness.tcp = types::ProbeTcp{8080};
  readiness.period = 3600;  // only the quick retries can make it ready
  p.spec.template_.containers[0].probes.readiness = readiness;
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(eventually([&] { return probes >= 2; }));
  int lists = cri_.errors().calls("list");
  ASSERT_TRUE(eventually([&] { return probes >= 6; }));
  EXPECT_EQ(cri_.errors().calls("list"), lists);
  EXPECT_FALSE(agent->podStatus(p.meta.selflink)->status.ready);
  readyOk = true;
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }));
  agent->stop();
}

// A container whose start keeps failing is not retried in a tight loop: the
// second try waits 1 s (then 2 s, 4 s ... up to 5 min), and the status
// says so.
TEST_F(AgentTest, FailingStartsBackOff) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  cri_.errors().fail("start", invalidArgument("exec: \"nope\": not found"),
                     fakes::ErrorInjector::kForever);
  auto p = pod("p1");
  agent->applyManifest(manifest({p}));
  ASSERT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.message.find("back-off: restart in 1s") != std::string::npos;
  })) << agent->podStatus(p.meta.selflink)->status.message;
  // The create's own start, then the first restart at once; the next waits.
  EXPECT_EQ(cri_.errors().calls("start"), 2);
  EXPECT_TRUE(eventually([&] { return cri_.errors().calls("start") == 3; }));
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.message.find("back-off: restart in 2s") != std::string::npos;
  }));
  EXPECT_EQ(cri_.errors().calls("start"), 3);
  cri_.errors().clear("start");
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }, 6s));
}

TEST_F(AgentTest, ImagePulledPerPolicy) {
  images_.addRemote("registry.example/app:1");
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].image.name = "registry.example/app:1";
  agent->applyManifest(manifest({p}));
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }));
  auto q = pod("p2");
  q.spec.template_.containers[0].image.name = "registry.example/missing:1";
  q.spec.template_.containers[0].image.policy = "Never";
  agent->applyManifest(manifest({p, q}));
  EXPECT_TRUE(eventually([&] {
    auto s = agent->podStatus(q.meta.selflink);
    return s && s->status.message.find("pull policy is Never") != std::string::npos;
  }));
}

TEST_F(AgentTest, FailedPullsBackOff) {
  auto agent = makeAgent();
  ASSERT_TRUE(agent->start().isOk());
  auto p = pod("p1");
  p.spec.template_.containers[0].image.name = "registry.example/late:1";  // not there yet
  agent->applyManifest(manifest({p}));
  // After two failed pulls the next waits 2 s; the status says so.
  ASSERT_TRUE(eventually([&] {
    auto s = agent->podStatus(p.meta.selflink);
    return s && s->status.message.find("back-off: retry in 2s") != std::string::npos;
  }, 5s));
  EXPECT_NE(agent->podStatus(p.meta.selflink)->status.message.find("pull image"),
            std::string::npos);
  const int attempts = images_.pullAttempts();
  EXPECT_EQ(attempts, 2);
  std::this_thread::sleep_for(500ms);  // the third try is at least 1 s away
  EXPECT_EQ(images_.pullAttempts(), attempts) << "a pull inside the back-off";
  // Once the image is there the next try succeeds.
  images_.addRemote("registry.example/late:1");
  EXPECT_TRUE(eventually([&] { return ready(*agent, p.meta.selflink); }, 10s));
}

// Restart counts and back-off streaks the agent keeps in its state file
// outlive the agent: a restarted agent shows the same count, and the next
// restart of a crash-looping container still waits.
TEST_F(AgentTest, RestartCountsAndBackOffSurviveTheAgent) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lb-agent-state-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string state = (dir / "agent-state.json").string();
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

  auto first = makeAgent(prober, 50ms, state);
  ASSERT_TRUE(first->start().isOk());
  first->applyManifest(manifest({p}));
  ASSERT_TRUE(eventually([&] { return ready(*first, p.meta.selflink); }));
  // Crash-looping: the first restart at once, the second after 1 s; the
  // third would wait 2 s more.
  liveOk = false;
  ASSERT_TRUE(eventually([&] { return restarts(*first) == 2; }, 5s)) << restarts(*first);
  first->stop();
  first.reset();
  {
    std::ifstream in(state);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"restarts\":2"), std::string::npos) << text;
    EXPECT_NE(text.find("\"restartStreak\":2"), std::string::npos) << text;
  }

  auto second = makeAgent(prober, 50ms, state);
  ASSERT_TRUE(second->start().isOk());
  second->applyManifest(manifest({p}));
  // Same count; and the failing probe's restart waits out the streak's
  // back-off instead of coming at once.
  EXPECT_TRUE(eventually([&] {
    auto s = second->podStatus(p.meta.selflink);
    return s && restarts(*second) == 2 &&
           s->status.containers[0].message.find("back-off: restart in") != std::string::npos;
  }, 1500ms)) << restarts(*second) << " "
               << second->podStatus(p.meta.selflink)->status.containers[0].message;
  second->stop();
  // A state file that does not parse is set aside, not fatal.
  std::ofstream(state) << "{not json";
  auto third = makeAgent(prober, 50ms, state);
  EXPECT_TRUE(third->start().isOk());
  third->stop();
  std::filesystem::remove_all(dir);
}

TEST(LocalManifests, ServicesBecomeLocalPods) {
  auto dir = std::filesystem::temp_directory_path() / ("lb-node-local-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "web.yml") << R"(kind: Service
version: v1
meta: {name: web}
spec:
  replicas: 2
  template:
    containers:
      - name: httpd
        image: {name: lb/busybox:local}
)";
  std::ofstream(dir / "ignored.txt") << "not a manifest";
  auto m = loadLocalManifests(dir.string());
  ASSERT_TRUE(m.isOk()) << m.status().toString();
  EXPECT_EQ(m->pods.size(), 2u);
  EXPECT_EQ(m->pods.count("local:web:local:0"), 1u);
  std::ofstream(dir / "bad.yml") << "kind: Service\nspec: [";
  EXPECT_FALSE(loadLocalManifests(dir.string()).isOk());
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(loadLocalManifests("/nonexistent-lb-dir").isOk());
}

// A link that serves one manifest and records every report's pods.
class RecordingLink : public ClusterLink {
 public:
  explicit RecordingLink(NodeManifest m) : m_(std::move(m)) {}
  Status registerNode(const types::Node&) override { return Status::ok(); }
  Status report(const types::NodeStatus&, const std::vector<types::Pod>& pods) override {
    std::vector<std::string> names;
    for (const auto& p : pods) names.push_back(p.meta.selflink + (p.status.ready ? "+" : "-"));
    std::lock_guard lock(mu_);
    reports_.push_back(names);
    return Status::ok();
  }
  StatusOr<NodeManifest> fetchSpec(int64_t revision, std::chrono::milliseconds wait) override {
    if (revision != 0) std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(wait, 50ms));
    return m_;
  }
  std::vector<std::vector<std::string>> reports() const {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  NodeManifest m_;
  mutable std::mutex mu_;
  std::vector<std::vector<std::string>> reports_;
};

TEST_F(AgentTest, ReportsCarryChangedPodsAndAllOfThemEachHeartbeat) {
  auto a = pod("a"), b = pod("b");
  RecordingLink link(manifest({a, b}));
  AgentOptions o;
  o.node = "node-1";
  o.resync = 50ms;
  o.retry = 20ms;
  o.heartbeat = 1500ms;
  o.stopGrace = 0s;
  Agent agent(o, &link, &cri_, &images_, &volumes_);
  ASSERT_TRUE(agent.start().isOk());
  const std::string ra = a.meta.selflink + "+", rb = b.meta.selflink + "+";
  auto has = [](const std::vector<std::string>& r, const std::string& x) {
    return std::find(r.begin(), r.end(), x) != r.end();
  };
  // Both pods were reported Ready (in one report or two).
  ASSERT_TRUE(eventually([&] {
    bool sa = false, sb = false;
    for (const auto& r : link.reports()) sa |= has(r, ra), sb |= has(r, rb);
    return sa && sb;
  }));
  // Right after a heartbeat (the only reports that name the unchanged b),
  // pod a's container dies: a report names a alone...
  size_t before = link.reports().size();
  ASSERT_TRUE(eventually([&] {
    auto rs = link.reports();
    for (size_t i = before; i < rs.size(); ++i)
      if (has(rs[i], rb)) return true;
    return false;
  }, 3s));
  before = link.reports().size();
  auto ca = containers(a.meta.selflink);
  ASSERT_EQ(ca.size(), 1u);
  cri_.exit(ca[0].id, 1);
  size_t deltaAt = 0;
  EXPECT_TRUE(eventually([&] {
    auto rs = link.reports();
    for (size_t i = before; i < rs.size(); ++i)
      if (rs[i].size() == 1 && rs[i][0].rfind(a.meta.selflink, 0) == 0) {
        deltaAt = i;
        return true;
      }
    return false;
  })) << "no report with pod a alone";
  // ... and a later heartbeat sends b again.
  EXPECT_TRUE(eventually([&] {
    auto rs = link.reports();
    for (size_t i = deltaAt + 1; i < rs.size(); ++i)
      if (has(rs[i], rb)) return true;
    return false;
  }));
  agent.stop();
}

}  // namespace
}  // namespace lb::node
