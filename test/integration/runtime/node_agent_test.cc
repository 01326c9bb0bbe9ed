// The node agent on a real dockerd (the runtime rig of docker_test.cc):
// exec probes run inside the container through the docker CRI. A readiness
// probe keeps the pod not ready until its command succeeds; a failing
// liveness probe restarts the container in place.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "lastbackend/runtime/factory.h"
#include "support/docker_rig.h"
#include "node/agent.h"

namespace lb::node {
namespace {

using namespace std::chrono_literals;
namespace cri = runtime::cri;

constexpr const char* kImage = "lb/busybox:local";

bool eventually(const std::function<bool()>& f, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

class NodeAgentDockerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LB_REQUIRE_DOCKER_RIG();
    root_ = std::filesystem::temp_directory_path() / ("lb-node-it-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_);
    auto c = runtime::cri::open({});
    ASSERT_TRUE(c.isOk()) << c.status().message();
    cri_ = std::move(*c);
    auto i = runtime::cii::open({});
    ASSERT_TRUE(i.isOk()) << i.status().message();
    cii_ = std::move(*i);
    auto v = runtime::csi::open({"dir", root_.string()});
    ASSERT_TRUE(v.isOk()) << v.status().message();
    csi_ = std::move(*v);
    AgentOptions o;
    o.node = "it-node";
    o.resync = 500ms;
    o.retry = 200ms;
    o.stopGrace = 1s;
    agent_ = std::make_unique<Agent>(o, nullptr, cri_.get(), cii_.get(), csi_.get());
    ASSERT_TRUE(agent_->start().isOk());
  }

  void TearDown() override {
    if (agent_) {
      agent_->applyManifest(NodeManifest{});  // workers remove their containers
      agent_->waitRetired(30s);
      agent_->stop();
    }
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }

  types::Pod pod(const std::string& name) {
    types::Pod p;
    p.meta.name = name;
    p.meta.namespace_ = "it";
    p.meta.selflink = "it:web:d" + std::to_string(::getpid()) + ":" + name;
    types::ContainerSpec c;
    c.name = "main";
    c.image.name = kImage;
    p.spec.template_.containers.push_back(c);
    return p;
  }

  std::optional<types::Pod> status(const types::Pod& p) {
    return agent_->podStatus(p.meta.selflink);
  }

  std::filesystem::path root_;
  std::unique_ptr<runtime::cri::ContainerRuntime> cri_;
  std::unique_ptr<runtime::cii::ImageRuntime> cii_;
  std::unique_ptr<runtime::csi::VolumeRuntime> csi_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(NodeAgentDockerTest, ExecReadinessGatesReadyAndFailingLivenessRestartsInPlace) {
  auto p = pod("exec");
  auto& c = p.spec.template_.containers[0];
  // Ready once /tmp/ready exists, which the test creates; alive while
  // /tmp/dead does not exist (the probe removes it as it fails, so the
  // restarted container is alive again).
  c.command = {"sleep", "1000"};
  types::Probe readiness;
  readiness.exec = types::ProbeExec{{"cat", "/tmp/ready"}};
  readiness.period = 1;
  types::Probe liveness;
  liveness.exec =
      types::ProbeExec{{"sh", "-c", "test ! -f /tmp/dead || { rm /tmp/dead; exit 1; }"}};
  liveness.period = 1;
  liveness.failureThreshold = 1;
  c.probes.readiness = readiness;
  c.probes.liveness = liveness;
  NodeManifest m;
  m.pods[p.meta.selflink] = p;
  m.revision = 1;
  agent_->applyManifest(m);

  ASSERT_TRUE(eventually(
      [&] {
        auto s = status(p);
        return s && s->status.message.find("readiness probe: exec cat /tmp/ready: exit code 1") !=
                        std::string::npos;
      },
      60s))
      << (status(p) ? status(p)->status.message : "no status");
  EXPECT_FALSE(status(p)->status.ready);
  auto id = agent_->containerId(p.meta.selflink, "");
  ASSERT_TRUE(id.isOk()) << id.status().message();
  auto before = cri_->inspect(*id);
  ASSERT_TRUE(before.isOk());

  cri::ExecOptions touch;
  touch.command = {"touch", "/tmp/ready"};
  touch.timeout = 10s;
  auto r = cri_->exec(*id, touch);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  ASSERT_EQ(r->exitCode, 0) << r->output;
  EXPECT_TRUE(eventually(
      [&] {
        auto s = status(p);
        return s && s->status.ready && s->status.state == types::State::kReady;
      },
      10s))
      << status(p)->status.message;

  touch.command = {"touch", "/tmp/dead"};
  r = cri_->exec(*id, touch);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_TRUE(eventually(
      [&] {
        auto s = status(p);
        return s && !s->status.containers.empty() && s->status.containers[0].restarts >= 1;
      },
      30s));
  auto after = cri_->inspect(*id);
  ASSERT_TRUE(after.isOk()) << after.status().message();  // same container
  EXPECT_NE(after->startedAt, before->startedAt);
  EXPECT_TRUE(after->running());
  // Readiness starts over after the restart and passes again (/tmp/ready is
  // still there: a restart keeps the container's filesystem).
  EXPECT_TRUE(eventually([&] { return status(p) && status(p)->status.ready; }, 10s));
}

TEST_F(NodeAgentDockerTest, ExecOfTheDockerCri) {
  auto p = pod("plain");
  p.spec.template_.containers[0].command = {"sleep", "1000"};
  NodeManifest m;
  m.pods[p.meta.selflink] = p;
  agent_->applyManifest(m);
  ASSERT_TRUE(eventually([&] { return status(p) && status(p)->status.ready; }, 60s));
  auto id = *agent_->containerId(p.meta.selflink, "");
  cri::ExecOptions eo;
  eo.command = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  eo.timeout = 10s;
  auto r = cri_->exec(id, eo);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_EQ(r->exitCode, 3);
  EXPECT_NE(r->output.find("out\n"), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("err\n"), std::string::npos) << r->output;
  eo.command = {"/no/such/binary"};
  r = cri_->exec(id, eo);
  ASSERT_TRUE(r.isOk()) << r.status().message();
  EXPECT_GE(r->exitCode, 126);  // docker: cannot run (126/127)
  eo.command = {"sleep", "77"};
  eo.timeout = 300ms;
  r = cri_->exec(id, eo);
  EXPECT_EQ(r.status().code(), Code::kDeadlineExceeded) << r.status().message();
  // ... and the overrunning process was killed, not left in the container.
  EXPECT_NE(r.status().message().find("(killed)"), std::string::npos) << r.status().message();
  eo.command = {"ps"};
  eo.timeout = 10s;
  EXPECT_TRUE(eventually([&] {
    auto ps = cri_->exec(id, eo);
    return ps.isOk() && ps->output.find("sleep 1000") != std::string::npos &&
           ps->output.find("sleep 77") == std::string::npos;
  }, 5s));
  // Not running: a conflict.
  cri::ContainerSpec idle;
  idle.name = "lbit-" + std::to_string(::getpid()) + "-idle";
  idle.image = kImage;
  idle.command = {"true"};
  auto created = cri_->create(idle);
  ASSERT_TRUE(created.isOk()) << created.status().message();
  eo.command = {"true"};
  eo.timeout = 10s;
  EXPECT_EQ(cri_->exec(*created, eo).status().code(), Code::kConflict);
  EXPECT_TRUE(cri_->remove(*created, true).isOk());
}

}  // namespace
}  // namespace lb::node
