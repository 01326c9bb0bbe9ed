// What only the docker CRI/CII drivers show against a real dockerd (the
// contracts themselves: docker_conformance_test.cc), and the dir CSI driver.
// CTest starts that dockerd inside a network namespace of its own
// (scripts/netns-dockerd.sh, FIXTURES_SETUP) and runs this binary inside the
// same namespace, so the HTTP requests below to container IPs never leave it.
// Everything a test creates carries the label io.lastbackend.test=<pid> and
// is removed in TearDown.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "lastbackend/runtime/factory.h"
#include "support/docker_rig.h"

namespace lb::runtime {
namespace {

using namespace std::chrono_literals;
using cri::ContainerSpec;

constexpr const char* kImage = "lb/busybox:local";
constexpr const char* kTestLabel = "io.lastbackend.test";

std::string pidText() { return std::to_string(::getpid()); }

// GET http://ip:port/ with a plain socket; "" on any failure.
std::string httpGet(const std::string& ip, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string req = "GET / HTTP/1.0\r\nHost: " + ip + "\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out;
}

class DockerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LB_REQUIRE_DOCKER_RIG();
    auto c = cri::open({});
    ASSERT_TRUE(c.isOk()) << c.status().message();
    cri_ = std::move(*c);
    auto i = cii::open({});
    ASSERT_TRUE(i.isOk()) << i.status().message();
    images_ = std::move(*i);
  }

  void TearDown() override {
    if (!cri_) return;
    auto all = cri_->list({{{kTestLabel, pidText()}}, true});
    if (all) {
      for (const auto& c : *all) (void)cri_->remove(c.id, true);  // best effort: the next run's labels differ
    }
  }

  ContainerSpec spec(const std::string& name, std::vector<std::string> command) {
    ContainerSpec s;
    s.name = "lbit-" + pidText() + "-" + name;
    s.image = kImage;
    s.command = std::move(command);
    s.labels = {{kTestLabel, pidText()},
                {cri::kLabelPod, "it:web:d1:" + name},
                {cri::kLabelContainer, name}};
    return s;
  }

  std::string run(const ContainerSpec& s) {
    auto id = cri_->create(s);
    EXPECT_TRUE(id.isOk()) << id.status().message();
    if (!id) return "";
    Status st = cri_->start(*id);
    EXPECT_TRUE(st.isOk()) << st.message();
    return *id;
  }

  std::string logsOf(const std::string& id, cri::LogOptions o = {}) {
    std::string out;
    Status s = cri_->logs(id, o, [&](const cri::LogChunk& c) {
      out += c.data;
      return true;
    });
    EXPECT_TRUE(s.isOk()) << s.message();
    return out;
  }

  std::string waitForHttp(const std::string& ip, int port) {
    for (int i = 0; i < 100; ++i) {
      std::string r = httpGet(ip, port);
      if (!r.empty()) return r;
      std::this_thread::sleep_for(100ms);
    }
    return "";
  }

  std::unique_ptr<cri::ContainerRuntime> cri_;
  std::unique_ptr<cii::ImageRuntime> images_;
};

TEST_F(DockerRuntimeTest, NegotiatesTheApiVersion) {
  auto info = cri_->info();
  ASSERT_TRUE(info.isOk());
  EXPECT_EQ(info->driver, "docker");
  EXPECT_FALSE(info->version.empty());
  // dockerd 20.10 speaks 1.41, the highest we support; newer daemons too.
  EXPECT_EQ(info->apiVersion, "1.41");

  cri::Options pinned;
  pinned.docker.apiVersion = "1.40";
  auto old = cri::open(pinned);
  ASSERT_TRUE(old.isOk());
  EXPECT_EQ((*old)->info()->apiVersion, "1.40");
  EXPECT_TRUE((*old)->list({{{kTestLabel, pidText()}}, true}).isOk());
}

TEST_F(DockerRuntimeTest, CreateStartInspectStopRemove) {
  ContainerSpec s = spec("life", {"echo \"$GREETING\"; pwd; echo \"$0 $1\"; exec sleep 60"});
  s.entrypoint = {"/bin/sh", "-c"};
  s.args = {"arg1"};
  s.env = {{"GREETING", "hello world"}};
  s.workdir = "/tmp";
  s.memoryBytes = 32 << 20;
  s.milliCpu = 250;
  s.restart = {"on-failure", 2};
  s.labels["extra"] = "x=y";
  auto id = cri_->create(s);
  ASSERT_TRUE(id.isOk()) << id.status().message();
  auto created = cri_->inspect(*id);
  ASSERT_TRUE(created.isOk());
  EXPECT_EQ(created->state, cri::kStateCreated);
  ASSERT_TRUE(cri_->start(*id).isOk());
  EXPECT_TRUE(cri_->start(*id).isOk());  // already running: fine

  auto info = cri_->inspect(s.name);  // by name as well as by id
  ASSERT_TRUE(info.isOk()) << info.status().message();
  EXPECT_EQ(info->id, *id);
  EXPECT_EQ(info->name, s.name);
  EXPECT_EQ(info->image, kImage);
  EXPECT_EQ(info->state, cri::kStateRunning);
  EXPECT_TRUE(info->running());
  EXPECT_FALSE(info->startedAt.empty());
  EXPECT_TRUE(info->finishedAt.empty());
  EXPECT_FALSE(info->ip.empty());
  EXPECT_EQ(info->labels.at("extra"), "x=y");
  EXPECT_EQ(info->labels.at(cri::kLabelContainer), "life");
  // HostConfig as dockerd reports it.
  EXPECT_EQ(info->memoryBytes, 32 << 20);
  EXPECT_EQ(info->milliCpu, 250);
  EXPECT_EQ(info->restart.policy, "on-failure");
  EXPECT_EQ(info->restart.maxRetries, 2);
  EXPECT_FALSE(info->privileged);

  std::string out;
  for (int i = 0; i < 50 && out.find("arg1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(100ms);
    out = logsOf(*id);
  }
  EXPECT_EQ(out, "hello world\n/tmp\narg1 \n");

  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(cri_->stop(*id, 1s).isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);
  EXPECT_TRUE(cri_->stop(*id, 1s).isOk());  // already stopped: fine
  info = cri_->inspect(*id);
  EXPECT_EQ(info->state, cri::kStateExited);
  EXPECT_FALSE(info->finishedAt.empty());
  ASSERT_TRUE(cri_->remove(*id, false).isOk());
}

TEST_F(DockerRuntimeTest, ErrorsNameTheCallAndTheDaemonsReason) {
  ContainerSpec s = spec("noimg", {"true"});
  s.image = "lb/nope:1";
  auto r = cri_->create(s);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().message(),
            "docker: create container '" + s.name + "': 404 No such image: lb/nope:1");

  // (Codes of the other errors: the CRI conformance suite.)
}

TEST_F(DockerRuntimeTest, RestartPolicyIsApplied) {
  ContainerSpec s = spec("restarts", {"/bin/sh", "-c", "exit 1"});
  s.restart = {"on-failure", 2};
  std::string id = run(s);
  cri::ContainerInfo info;
  for (int i = 0; i < 100; ++i) {
    info = *cri_->inspect(id);
    if (info.restartCount == 2 && info.state == cri::kStateExited) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(info.restartCount, 2);
  EXPECT_EQ(info.state, cri::kStateExited);
  EXPECT_EQ(info.exitCode, 1);
}

TEST_F(DockerRuntimeTest, HttpdAnswersOnTheContainerIp) {
  std::string id = run(spec("httpd", {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"}));
  auto info = cri_->inspect(id);
  ASSERT_TRUE(info.isOk());
  ASSERT_FALSE(info->ip.empty());
  std::string resp = waitForHttp(info->ip, 8080);
  EXPECT_NE(resp.find("200 OK"), std::string::npos) << resp;
  EXPECT_NE(resp.find("lb busybox"), std::string::npos) << resp;
}

TEST_F(DockerRuntimeTest, TwoContainersShareOneNetworkNamespace) {
  ContainerSpec ownerSpec = spec("owner", {"/bin/httpd", "-f", "-p", "8080", "-h", "/www"});
  ownerSpec.labels[cri::kLabelNetwork] = "owner";
  std::string owner = run(ownerSpec);
  auto ownerInfo = cri_->inspect(owner);
  ASSERT_TRUE(ownerInfo.isOk());
  ASSERT_FALSE(waitForHttp(ownerInfo->ip, 8080).empty());

  ContainerSpec side = spec("side", {"/bin/sh", "-c",
                                     "for i in 1 2 3 4 5; do wget -qO- http://127.0.0.1:8080/ && "
                                     "exit 0; sleep 0.2; done; exit 1"});
  side.networkMode = "container:" + owner;
  std::string sideId = run(side);
  auto code = cri_->wait(sideId, 30s);
  ASSERT_TRUE(code.isOk()) << code.status().message();
  EXPECT_EQ(*code, 0) << logsOf(sideId);
  EXPECT_EQ(logsOf(sideId), "lb busybox\n");
  EXPECT_EQ(cri_->inspect(sideId)->networkMode, "container:" + owner);
}

TEST_F(DockerRuntimeTest, LogsTailAndFollowStreamAsWritten) {
  std::string id = run(
      spec("logs", {"/bin/sh", "-c",
                    "for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 1; echo late; "
                    "sleep 1; echo done"}));
  // Follow from the start: chunks must arrive while the container still runs.
  cri::LogOptions follow;
  follow.follow = true;
  std::string out, err;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  Status s = cri_->logs(id, follow, [&](const cri::LogChunk& c) {
    (c.stream == cri::LogStream::kStderr ? err : out) += c.data;
    arrivals.push_back(std::chrono::steady_clock::now());
    return true;
  });
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(out, "line1\nline2\nline3\nline4\nline5\nlate\ndone\n");
  EXPECT_EQ(err, "oops\n");
  ASSERT_GE(arrivals.size(), 3u);
  EXPECT_GT(arrivals.back() - arrivals.front(), 1500ms) << "follow did not stream";

  cri::LogOptions tail;
  tail.tail = 2;
  EXPECT_EQ(logsOf(id, tail), "late\ndone\n");
  cri::LogOptions onlyErr;
  onlyErr.stdoutStream = false;
  EXPECT_EQ(logsOf(id, onlyErr), "oops\n");
  tail.tail = 0;
  EXPECT_EQ(logsOf(id, tail), "");
}

TEST_F(DockerRuntimeTest, FollowCanBeCancelledAndStopped) {
  std::string id =
      run(spec("ticker", {"/bin/sh", "-c", "while true; do echo tick; sleep 0.1; done"}));
  CancelToken cancel;
  int chunks = 0;
  std::thread t([&] {
    std::this_thread::sleep_for(500ms);
    cancel.cancel();
  });
  cri::LogOptions o;
  o.follow = true;
  auto t0 = std::chrono::steady_clock::now();
  Status s = cri_->logs(
      id, o, [&](const cri::LogChunk&) { return ++chunks > 0; }, &cancel);
  t.join();
  EXPECT_TRUE(s.isOk()) << s.message();
  EXPECT_GT(chunks, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  int seen = 0;
  s = cri_->logs(id, o, [&](const cri::LogChunk&) { return ++seen < 3; });
  EXPECT_TRUE(s.isOk());
  EXPECT_EQ(seen, 3);
}

TEST_F(DockerRuntimeTest, PullOfAnUnreachableRegistryFailsFast) {
  // localhost:1 from dockerd's namespace: a refused connection on loopback.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> progress;
  auto r = images_->pull("localhost:1/x:y", {"u", "p", "localhost:1", ""},
                         [&](const cii::PullProgress& p) { progress.push_back(p.status); });
  ASSERT_FALSE(r.isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().message();
  EXPECT_EQ(r.status().message().rfind("docker: pull image 'localhost:1/x:y': ", 0), 0u)
      << r.status().message();
  EXPECT_FALSE(*images_->exists("localhost:1/x:y"));
  EXPECT_EQ(images_->pull("bad ref", {}, {}).status().code(), Code::kInvalidArgument);
}

TEST_F(DockerRuntimeTest, SecretVolumeIsMountedReadOnly) {
  std::string root = "/tmp/lb-it-csi-" + pidText();
  auto volumes = csi::open({"dir", root});
  ASSERT_TRUE(volumes.isOk()) << volumes.status().message();
  auto& v = **volumes;
  auto path = v.create("it:web:d1:secret");
  ASSERT_TRUE(path.isOk()) << path.status().message();
  EXPECT_EQ(path->rfind(root + "/", 0), 0u);
  std::map<std::string, std::string> data{{"password", "s3cr3t pa55\n"}, {"unused", "no"}};
  ASSERT_TRUE(v.writeFiles("it:web:d1:secret", data, {"password"}).isOk());
  EXPECT_EQ(v.writeFiles("it:web:d1:secret", {{"../escape", "x"}}, {}).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(v.create("../escape").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(v.create("a/b").status().code(), Code::kInvalidArgument);

  ContainerSpec s = spec("reader", {"/bin/sh", "-c",
                                    "cat /etc/secret/password; ls /etc/secret; "
                                    "echo x > /etc/secret/password || echo readonly"});
  s.mounts = {{*path, "/etc/secret", true}};
  std::string id = run(s);
  ASSERT_EQ(*cri_->wait(id, 30s), 0);
  cri::LogOptions o;
  o.stderrStream = false;
  EXPECT_EQ(logsOf(id, o), "s3cr3t pa55\npassword\nreadonly\n");
  auto info = cri_->inspect(id);
  ASSERT_EQ(info->mounts.size(), 1u);
  EXPECT_TRUE(info->mounts[0].readOnly);
  EXPECT_EQ(info->mounts[0].target, "/etc/secret");

  ASSERT_TRUE(cri_->remove(id, true).isOk());
  ASSERT_TRUE(v.remove("it:web:d1:secret").isOk());
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace lb::runtime
