// The docker CRI's attached exec (ContainerRuntime::openExec) on a real
// dockerd: output by stream, stdin, a terminal and its size, the exit
// status, and no process left behind when the client goes.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "lastbackend/runtime/factory.h"
#include "support/docker_rig.h"

namespace lb::runtime {
namespace {

namespace cri = runtime::cri;
using namespace std::chrono_literals;

constexpr const char* kLabel = "io.lastbackend.test.exec";

class DockerExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LB_REQUIRE_DOCKER_RIG();
    auto c = cri::open({});
    ASSERT_TRUE(c.isOk()) << c.status().message();
    cri_ = std::move(*c);
    cri::ContainerSpec s;
    s.name = "lbexec-" + std::to_string(::getpid());
    s.image = "lb/busybox:local";
    s.command = {"/bin/sh", "-c", "trap 'exit 143' TERM; sleep 3600 & wait"};
    s.labels = {{kLabel, std::to_string(::getpid())},
                {cri::kLabelPod, "it:exec:d1:p1"},
                {cri::kLabelContainer, "main"}};
    auto id = cri_->create(s);
    ASSERT_TRUE(id.isOk()) << id.status().message();
    id_ = *id;
    ASSERT_TRUE(cri_->start(id_).isOk());
  }
  void TearDown() override {
    if (cri_ && !id_.empty()) (void)cri_->remove(id_, true);
  }

  // Everything the session writes, by stream, until it ends.
  std::pair<std::string, std::string> drain(cri::ExecSession& s) {
    std::string out, err;
    while (true) {
      auto o = s.read();
      EXPECT_TRUE(o.isOk()) << o.status().message();
      if (!o.isOk() || !*o) break;
      ((*o)->stream == 2 ? err : out) += (*o)->data;
    }
    return {out, err};
  }
  bool running(const std::string& pattern) {
    auto r = cri_->exec(
        id_, {{"/bin/sh", "-c", "ps -o args | grep -v grep | grep -q '" + pattern + "'"}});
    return r.isOk() && r->exitCode == 0;
  }

  std::unique_ptr<cri::ContainerRuntime> cri_;
  std::string id_;
};

TEST_F(DockerExecTest, OutputByStreamAndTheExitStatus) {
  auto s = cri_->openExec(id_, {{"/bin/sh", "-c", "cat /etc/hostname; echo oops >&2; exit 3"}});
  ASSERT_TRUE(s.isOk()) << s.status().message();
  auto [out, err] = drain(**s);
  EXPECT_EQ(out.size(), 13u) << out;  // a 12-hex-digit hostname and a newline
  EXPECT_EQ(err, "oops\n");
  auto code = (*s)->exitCode();
  ASSERT_TRUE(code.isOk()) << code.status().message();
  EXPECT_EQ(*code, 3);
}

TEST_F(DockerExecTest, StdinReachesTheProcess) {
  auto s =
      cri_->openExec(id_, {{"/bin/sh", "-c", "read a; echo \"got $a\"; tr a-z A-Z"}, false, true});
  ASSERT_TRUE(s.isOk()) << s.status().message();
  ASSERT_TRUE((*s)->write("one\nrest of it\n").isOk());
  (*s)->closeStdin();
  auto [out, err] = drain(**s);
  EXPECT_EQ(out, "got one\nREST OF IT\n");
  EXPECT_EQ(*(*s)->exitCode(), 0);
}

TEST_F(DockerExecTest, ATerminalHasASizeAndEchoes) {
  auto s = cri_->openExec(id_, {{"/bin/sh"}, true, true});
  ASSERT_TRUE(s.isOk()) << s.status().message();
  ASSERT_TRUE((*s)->resize(33, 111).isOk());
  ASSERT_TRUE((*s)->write("stty size; exit 7\n").isOk());
  std::string all;
  while (true) {
    auto o = (*s)->read();
    ASSERT_TRUE(o.isOk()) << o.status().message();
    if (!*o) break;
    EXPECT_EQ((*o)->stream, 1) << "a terminal is one stream";
    all += (*o)->data;
  }
  EXPECT_NE(all.find("33 111"), std::string::npos) << all;
  EXPECT_EQ(*(*s)->exitCode(), 7);
  EXPECT_EQ((*s)->resize(0, 80).code(), Code::kInvalidArgument);
}

TEST_F(DockerExecTest, KillLeavesNoProcessBehind) {
  auto s = cri_->openExec(id_, {{"/bin/sh", "-c", "echo started; exec sleep 4242"}, true, true});
  ASSERT_TRUE(s.isOk()) << s.status().message();
  auto first = (*s)->read();
  ASSERT_TRUE(first.isOk() && *first) << first.status().message();
  EXPECT_TRUE(running("sleep 4242"));
  std::thread reader([&] { (void)drain(**s); });  // a pending read returns on kill
  EXPECT_EQ((*s)->kill(), " (killed)");
  reader.join();
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = !running("sleep 4242");
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone) << "the exec's process outlived its session";
}

TEST_F(DockerExecTest, ErrorsNameWhatIsWrong) {
  EXPECT_EQ(cri_->openExec(id_, {}).status().code(), Code::kInvalidArgument);
  auto missing = cri_->openExec("no-such-container", {{"true"}});
  EXPECT_EQ(missing.status().code(), Code::kNotFound) << missing.status().message();
}

}  // namespace
}  // namespace lb::runtime
