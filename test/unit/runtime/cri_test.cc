// The CRI fake's behaviour (what the node agent's tests rely on), the docker
// driver's create body and network bodies, and the driver tables.

#include "lastbackend/runtime/cri.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/runtime/fake_cri.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/cri/docker/docker_cri.h"
#include "runtime/cri/docker/docker_network.h"

namespace lb::runtime::cri {
namespace {

using fakes::FakeContainerRuntime;
using fakes::FakeImageRuntime;

ContainerSpec spec(std::string name, std::string image = "lb/busybox:local") {
  ContainerSpec s;
  s.name = std::move(name);
  s.image = std::move(image);
  s.labels = {{kLabelPod, "demo:web:d1:p1"}, {kLabelContainer, "web"}};
  return s;
}

TEST(CreateBodyTest, MapsEveryField) {
  ContainerSpec s = spec("web");
  s.entrypoint = {"/bin/sh", "-c"};
  s.command = {"echo"};
  s.args = {"$GREETING"};
  s.workdir = "/tmp";
  s.env = {{"GREETING", "hi"}};
  s.memoryBytes = 64 << 20;
  s.milliCpu = 500;
  s.restart = {"on-failure", 3};
  s.mounts = {{"/var/run/lb/v1", "/etc/secret", true}, {"/var/run/lb/v2", "/data", false}};
  s.networkMode = "container:abc";
  s.exposedPorts = {{8080, "tcp"}, {53, "udp"}};
  auto body = docker::createBody(s);
  ASSERT_TRUE(body.isOk()) << body.status().message();
  auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["Image"], "lb/busybox:local");
  EXPECT_EQ(j["Entrypoint"], nlohmann::json({"/bin/sh", "-c"}));
  EXPECT_EQ(j["Cmd"], nlohmann::json({"echo", "$GREETING"}));
  EXPECT_EQ(j["WorkingDir"], "/tmp");
  EXPECT_EQ(j["Env"], nlohmann::json({"GREETING=hi"}));
  EXPECT_EQ(j["Labels"][kLabelPod], "demo:web:d1:p1");
  EXPECT_TRUE(j["ExposedPorts"].contains("8080/tcp"));
  EXPECT_TRUE(j["ExposedPorts"].contains("53/udp"));
  auto& h = j["HostConfig"];
  EXPECT_EQ(h["Memory"], 64 << 20);
  EXPECT_EQ(h["NanoCpus"], 500000000);
  EXPECT_EQ(h["RestartPolicy"], nlohmann::json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_FALSE(h.contains("Privileged"));  // only when asked
  ASSERT_EQ(h["Mounts"].size(), 2u);
  EXPECT_EQ(h["Mounts"][0], nlohmann::json({{"Type", "bind"},
                                            {"Source", "/var/run/lb/v1"},
                                            {"Target", "/etc/secret"},
                                            {"ReadOnly", true}}));
  EXPECT_EQ(h["Mounts"][1]["ReadOnly"], false);
  EXPECT_EQ(h["NetworkMode"], "container:abc");
}

TEST(CreateBodyTest, RejectsWhatDockerWouldMisread) {
  auto bad = [](auto mutate) {
    ContainerSpec s = spec("x");
    mutate(s);
    return docker::createBody(s).status().code();
  };
  EXPECT_EQ(bad([](auto& s) { s.image.clear(); }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.env["A=B"] = "c"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.restart.policy = "sometimes"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.mounts = {{"relative", "/x", false}}; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.mounts = {{"/a", "x", false}}; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.networkMode = "container:"; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) {
              s.networkMode = "container:abc";
              s.hostname = "h";
            }),
            Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.exposedPorts = {{70000, "tcp"}}; }), Code::kInvalidArgument);
  EXPECT_EQ(bad([](auto& s) { s.memoryBytes = -1; }), Code::kInvalidArgument);
}

TEST(CreateBodyTest, AttachesToANamedNetworkAtCreate) {
  ContainerSpec s = spec("web");
  s.network = "lb";
  auto body = docker::createBody(s);
  ASSERT_TRUE(body.isOk()) << body.status().message();
  auto j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["HostConfig"]["NetworkMode"], "lb");
  EXPECT_TRUE(j["NetworkingConfig"]["EndpointsConfig"].contains("lb"));
  s.networkMode = "host";
  EXPECT_EQ(docker::createBody(s).status().field(), "network");
  s.networkMode.clear();
  s.network = "-lb";
  EXPECT_EQ(docker::createBody(s).status().field(), "network");
}

TEST(CreateBodyTest, SendsTheResolverOnlyWhenSet) {
  ContainerSpec s = spec("web");
  auto plain = nlohmann::json::parse(*docker::createBody(s));
  EXPECT_FALSE(plain["HostConfig"].contains("Dns"));
  EXPECT_FALSE(plain["HostConfig"].contains("DnsSearch"));
  s.dns = {"10.1.0.5"};
  s.dnsSearch = {"demo.lb.local", "lb.local"};
  s.dnsOptions = {"ndots:1"};
  auto j = nlohmann::json::parse(*docker::createBody(s));
  EXPECT_EQ(j["HostConfig"]["Dns"], nlohmann::json::array({"10.1.0.5"}));
  EXPECT_EQ(j["HostConfig"]["DnsSearch"], nlohmann::json::array({"demo.lb.local", "lb.local"}));
  EXPECT_EQ(j["HostConfig"]["DnsOptions"], nlohmann::json::array({"ndots:1"}));
}

TEST(NetworkSpecTest, NamesBridgesSubnetsAndGatewaysAreChecked) {
  NetworkSpec ok{"lb", "lb0", "10.244.1.0/24", "10.244.1.1", 1450, {}};
  EXPECT_TRUE(validateNetworkSpec(ok).isOk());
  auto field = [&](auto mutate) {
    NetworkSpec n = ok;
    mutate(n);
    return validateNetworkSpec(n).field();
  };
  EXPECT_EQ(field([](auto& n) { n.name = ""; }), "name");
  EXPECT_EQ(field([](auto& n) { n.name = "lb net"; }), "name");
  EXPECT_EQ(field([](auto& n) { n.bridge = "a/b"; }), "bridge");
  EXPECT_EQ(field([](auto& n) { n.subnet = "10.244.1.0/33"; }), "subnet");
  EXPECT_EQ(field([](auto& n) { n.gateway = "10.244.2.1"; }), "gateway");
  EXPECT_EQ(field([](auto& n) { n.gateway = "10.244.1.0"; }), "gateway");
  EXPECT_EQ(field([](auto& n) { n.gateway = "10.244.1.255"; }), "gateway");
  EXPECT_EQ(field([](auto& n) { n.mtu = 20; }), "mtu");
}

TEST(DockerNetworkTest, BodyInspectAndDifference) {
  NetworkSpec want{"lb",         "lb0", "10.244.1.0/24",
                   "10.244.1.1", 1450,  {{"io.lastbackend.network", "pods"}}};
  auto body = nlohmann::json::parse(docker::networkCreateBody(want));
  EXPECT_EQ(body["Name"], "lb");
  EXPECT_EQ(body["Driver"], "bridge");
  EXPECT_EQ(body["IPAM"]["Config"][0]["Subnet"], "10.244.1.0/24");
  EXPECT_EQ(body["IPAM"]["Config"][0]["Gateway"], "10.244.1.1");
  EXPECT_EQ(body["Options"][docker::kOptBridgeName], "lb0");
  EXPECT_EQ(body["Options"][docker::kOptMasquerade], "false");
  EXPECT_EQ(body["Options"][docker::kOptMtu], "1450");
  EXPECT_EQ(body["Labels"]["io.lastbackend.network"], "pods");

  // What docker answers for it (trimmed), and for a NATing default-style one.
  auto seen = docker::networkFromInspect(
      R"({"Name":"lb","Id":"abc","Driver":"bridge","IPAM":{"Driver":"default","Config":[)"
      R"({"Subnet":"10.244.1.0/24","Gateway":"10.244.1.1"}]},"Options":{)"
      R"("com.docker.network.bridge.name":"lb0",)"
      R"("com.docker.network.bridge.enable_ip_masquerade":"false",)"
      R"("com.docker.network.driver.mtu":"1450"},"Labels":{"io.lastbackend.network":"pods"}})");
  ASSERT_TRUE(seen.isOk()) << seen.status().message();
  EXPECT_EQ(seen->info.id, "abc");
  EXPECT_EQ(seen->info.spec, want);
  EXPECT_EQ(docker::networkDifference(*seen, want), "");
  auto moved = want;
  moved.subnet = "10.244.2.0/24";
  EXPECT_EQ(docker::networkDifference(*seen, moved), "subnet 10.244.1.0/24, want 10.244.2.0/24");
  auto nat = docker::networkFromInspect(
      R"({"Name":"lb","Driver":"bridge","IPAM":{"Config":[{"Subnet":"10.244.1.0/24",)"
      R"("Gateway":"10.244.1.1"}]},"Options":{"com.docker.network.bridge.name":"lb0"}})");
  ASSERT_TRUE(nat.isOk());
  EXPECT_EQ(docker::networkDifference(*nat, want), "NAT on, want off, MTU (none), want 1450");
  EXPECT_EQ(docker::networkFromInspect("[]").status().code(), Code::kInternal);
}

TEST(FactoryTest, UnknownDriversListTheValidOnes) {
  auto c = open(Options{"containerd", {}});
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().message(), "unknown container runtime driver 'containerd' (valid: docker)");
  EXPECT_EQ(c.status().field(), "container.cri.type");
  EXPECT_EQ(cii::open(cii::Options{"podman", {}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(driverNames(), std::vector<std::string>{"docker"});
  EXPECT_EQ(csi::driverNames(), std::vector<std::string>{"dir"});
  EXPECT_EQ(cni::driverNames(), std::vector<std::string>{"vxlan"});
}

TEST(FactoryTest, TcpDockerHostIsRefusedClearly) {
  Options o;
  o.docker.host = "tcp://127.0.0.1:2375";
  auto c = open(o);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_NE(
      c.status().message().find("container runtime driver 'docker': docker: docker host option"),
      std::string::npos)
      << c.status().message();
}

class FakeCriTest : public ::testing::Test {
 protected:
  FakeImageRuntime images;
  FakeContainerRuntime cri{realClock(), &images};
  void SetUp() override { images.addImage("lb/busybox:local"); }
};

TEST_F(FakeCriTest, LifecycleListAndSharedNetwork) {
  auto owner = cri.create(spec("p1-web"));
  ASSERT_TRUE(owner.isOk());
  EXPECT_EQ(cri.create(spec("p1-web")).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(cri.create(spec("x", "absent:1")).status().code(), Code::kNotFound);
  auto side = spec("p1-side");
  side.networkMode = "container:" + *owner;
  auto joined = cri.create(side);
  ASSERT_TRUE(joined.isOk());
  // Joining needs the owner running, as with docker.
  EXPECT_EQ(cri.start(*joined).code(), Code::kConflict);
  ASSERT_TRUE(cri.start(*owner).isOk());
  ASSERT_TRUE(cri.start(*joined).isOk());
  EXPECT_TRUE(cri.start(*owner).isOk());  // already running is fine
  EXPECT_EQ(cri.inspect(*joined)->ip, cri.inspect(*owner)->ip);
  EXPECT_EQ(cri.list({{{kLabelPod, "demo:web:d1:p1"}}, true})->size(), 2u);
  EXPECT_EQ(cri.list({{{kLabelPod, "other"}}, true})->size(), 0u);
  EXPECT_EQ(cri.list({{{kLabelContainer, ""}}, true})->size(), 2u);
  EXPECT_EQ(cri.remove(*owner, false).code(), Code::kConflict);
  ASSERT_TRUE(cri.stop(*owner, std::chrono::seconds(1)).isOk());
  EXPECT_EQ(cri.inspect(*owner)->state, kStateExited);
  EXPECT_EQ(cri.list({{}, false})->size(), 1u);
  ASSERT_TRUE(cri.remove(*owner, false).isOk());
  ASSERT_TRUE(cri.remove(*joined, true).isOk());
  EXPECT_EQ(cri.inspect(*owner).status().code(), Code::kNotFound);
  EXPECT_EQ(cri.size(), 0u);
}

TEST_F(FakeCriTest, WaitLogsFollowAndEvents) {
  auto id = *cri.create(spec("echo"));
  ASSERT_TRUE(cri.start(id).isOk());
  cri.writeLog(id, LogStream::kStdout, "one\n");
  cri.writeLog(id, LogStream::kStderr, "warn\n");
  cri.writeLog(id, LogStream::kStdout, "two\n");

  std::vector<Event> events;
  CancelToken stopEvents;
  std::thread watcher([&] {
    EventOptions o;
    o.labels = {{kLabelContainer, "web"}};
    o.actions = {"die"};
    (void)cri.events(  // ends with the cancel below; its status says only that
        o,
        [&](const Event& e) {
          events.push_back(e);
          return true;
        },
        &stopEvents);
  });

  std::string followed;
  std::thread follower([&] {
    LogOptions o;
    o.follow = true;
    o.stderrStream = false;
    Status s = cri.logs(id, o, [&](const LogChunk& c) {
      followed += c.data;
      return true;
    });
    EXPECT_TRUE(s.isOk()) << s.message();
  });
  EXPECT_EQ(cri.wait(id, std::chrono::milliseconds(50)).status().code(), Code::kDeadlineExceeded);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  cri.writeLog(id, LogStream::kStdout, "three\n");
  cri.exit(id, 3);
  EXPECT_EQ(*cri.wait(id, std::chrono::seconds(5)), 3);
  follower.join();
  EXPECT_EQ(followed, "one\ntwo\nthree\n");

  std::string tail;
  LogOptions t;
  t.tail = 1;
  ASSERT_TRUE(cri.logs(id, t,
                       [&](const LogChunk& c) {
                         tail += c.data;
                         return true;
                       })
                  .isOk());
  EXPECT_EQ(tail, "three\n");

  for (int i = 0; i < 100 && events.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stopEvents.cancel();
  watcher.join();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "die");
  EXPECT_EQ(events[0].exitCode, 3);
  EXPECT_EQ(events[0].name, "echo");
}

TEST_F(FakeCriTest, RestartPolicyBringsItBack) {
  auto s = spec("r");
  s.restart = {"on-failure", 2};
  auto id = *cri.create(s);
  ASSERT_TRUE(cri.start(id).isOk());
  cri.exit(id, 1);
  cri.exit(id, 1);
  EXPECT_EQ(cri.inspect(id)->restartCount, 2);
  EXPECT_EQ(cri.inspect(id)->state, kStateRunning);
  cri.exit(id, 1);
  EXPECT_EQ(cri.inspect(id)->state, kStateExited);
}

TEST_F(FakeCriTest, ExecRunsTheTestsHandlerInRunningContainersOnly) {
  auto id = *cri.create(spec("x"));
  ExecOptions eo;
  eo.command = {"cat", "/ready"};
  EXPECT_EQ(cri.exec(id, eo).status().code(), Code::kConflict);  // created, not running
  ASSERT_TRUE(cri.start(id).isOk());
  auto r = cri.exec(id, eo);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->exitCode, 0);  // no handler: success
  cri.setExecHandler(
      [&](const std::string& cid, const std::vector<std::string>& cmd) -> StatusOr<ExecResult> {
        EXPECT_EQ(cid, id);
        return ExecResult{cmd[1] == "/ready" ? 1 : 0, "cat: can't open '/ready'"};
      });
  r = cri.exec("x", eo);  // by name, as docker resolves it
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->exitCode, 1);
  eo.maxOutput = 3;
  EXPECT_EQ(cri.exec(id, eo)->output, "cat");
  EXPECT_EQ(cri.execs().size(), 3u);
  EXPECT_EQ(cri.exec("nope", eo).status().code(), Code::kNotFound);
  eo.command.clear();
  EXPECT_EQ(cri.exec(id, eo).status().code(), Code::kInvalidArgument);
  cri.errors().fail("exec", unavailable("dockerd is down"));
  eo.command = {"true"};
  EXPECT_EQ(cri.exec(id, eo).status().code(), Code::kUnavailable);
}

TEST_F(FakeCriTest, InjectedErrorsAndCancelledFollow) {
  cri.errors().fail("create", unavailable("dockerd is down"), fakes::ErrorInjector::kForever);
  auto r = cri.create(spec("x"));
  EXPECT_EQ(r.status().message(), "fake: create container 'x': dockerd is down");
  EXPECT_EQ(cri.create(spec("x")).status().code(), Code::kUnavailable);
  cri.errors().clear("create");
  auto id = *cri.create(spec("x"));
  ASSERT_TRUE(cri.start(id).isOk());
  CancelToken cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancel.cancel();
  });
  LogOptions o;
  o.follow = true;
  EXPECT_TRUE(cri.logs(
                     id, o, [](const LogChunk&) { return true; }, &cancel)
                  .isOk());
  t.join();
  EXPECT_EQ(cri.errors().calls("create"), 3);
}

}  // namespace
}  // namespace lb::runtime::cri
