#include "node/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakes/runtime/fake_cri.h"

namespace lb::node {
namespace {

using namespace std::chrono_literals;
namespace cri = runtime::cri;

types::Probe probe(int delay, int period, int success, int failure) {
  types::Probe p;
  p.tcp = types::ProbeTcp{80};
  p.initialDelay = delay;
  p.period = period;
  p.successThreshold = success;
  p.failureThreshold = failure;
  return p;
}

TEST(ProbeTracker, ReadinessNeedsSuccessThresholdAndDropsAfterFailures) {
  SteadyTime t0{};
  ProbeTracker r(probe(5, 2, 2, 3), /*readiness=*/true);
  r.reset(t0);
  EXPECT_FALSE(r.passing());
  EXPECT_FALSE(r.due(t0 + 4s));
  EXPECT_TRUE(r.due(t0 + 5s));
  r.record(true, t0 + 5s);
  EXPECT_FALSE(r.passing());  // 1 of 2
  EXPECT_EQ(r.nextDue(), t0 + 7s);
  r.record(true, t0 + 7s);
  EXPECT_TRUE(r.passing());
  r.record(false, t0 + 9s);
  r.record(false, t0 + 11s);
  EXPECT_TRUE(r.passing());  // 2 of 3 failures
  r.record(false, t0 + 13s, "refused");
  EXPECT_FALSE(r.passing());
  EXPECT_EQ(r.lastMessage(), "refused");
}

TEST(ProbeTracker, LivenessFailsAfterThresholdAndResets) {
  SteadyTime t0{};
  ProbeTracker l(probe(0, 1, 1, 2), /*readiness=*/false);
  l.reset(t0);
  EXPECT_TRUE(l.passing());
  l.record(false, t0);
  EXPECT_FALSE(l.failed());
  l.record(true, t0 + 1s);  // a success clears the count
  l.record(false, t0 + 2s);
  EXPECT_FALSE(l.failed());
  l.record(false, t0 + 3s);
  EXPECT_TRUE(l.failed());
  l.reset(t0 + 4s);
  EXPECT_FALSE(l.failed());
}

TEST(ProbeTracker, ReadinessRetriesQuicklyUntilItsFirstSuccess) {
  SteadyTime t0{};
  ProbeTracker r(probe(0, 10, 1, 3), /*readiness=*/true);
  r.reset(t0);
  EXPECT_TRUE(r.due(t0));  // at once after the start
  r.record(false, t0, "refused");
  EXPECT_EQ(r.nextDue(), t0 + kFastRetryTcp);
  r.record(false, t0 + 1s);
  EXPECT_EQ(r.nextDue(), t0 + 1s + kFastRetryTcp);
  r.record(false, t0 + kFastBurst);  // after the first burst, less often
  EXPECT_EQ(r.nextDue(), t0 + kFastBurst + kRetryTcp);
  r.record(true, t0 + 2s);
  EXPECT_TRUE(r.passing());
  EXPECT_EQ(r.nextDue(), t0 + 12s);  // then every period
  r.record(false, t0 + 12s);
  EXPECT_EQ(r.nextDue(), t0 + 22s);  // failures after a success: every period
  // Never faster than the period, and only within kFastWindow of the start.
  r.reset(t0);
  r.record(false, t0 + kFastWindow);
  EXPECT_EQ(r.nextDue(), t0 + kFastWindow + 10s);
  types::Probe exec = probe(0, 1, 1, 3);
  exec.tcp.reset();
  exec.exec = types::ProbeExec{{"true"}};
  ProbeTracker e(exec, true);
  e.reset(t0);
  e.record(false, t0);
  EXPECT_EQ(e.nextDue(), t0 + kFastRetryExec);
  // Liveness keeps its period.
  ProbeTracker l(probe(0, 10, 1, 3), /*readiness=*/false);
  l.reset(t0);
  l.record(false, t0);
  EXPECT_EQ(l.nextDue(), t0 + 10s);
}

TEST(ExecCheck, ExitCodeZeroIsSuccess) {
  fakes::FakeContainerRuntime cri;
  cri::ContainerSpec spec;
  spec.name = "c";
  spec.image = "img";
  auto id = *cri.create(spec);
  auto s = execCheck(cri, id, {"cat", "/ready"}, 1s);
  EXPECT_EQ(s.code(), Code::kConflict) << s.message();  // not running
  ASSERT_TRUE(cri.start(id).isOk());
  EXPECT_TRUE(execCheck(cri, id, {"cat", "/ready"}, 1s).isOk());
  cri.setExecHandler([](const std::string&, const std::vector<std::string>&) {
    return StatusOr<cri::ExecResult>(cri::ExecResult{1, "cat: can't open '/ready'\nmore"});
  });
  s = execCheck(cri, id, {"cat", "/ready"}, 1s);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "exec cat /ready: exit code 1: cat: can't open '/ready'");
  cri.setExecHandler([](const std::string&, const std::vector<std::string>&) {
    return StatusOr<cri::ExecResult>(Status(Code::kDeadlineExceeded, "not done within 1000ms"));
  });
  EXPECT_EQ(execCheck(cri, id, {"sleep", "9"}, 1s).code(), Code::kDeadlineExceeded);
}

TEST(TcpCheck, ConnectsOrFails) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  EXPECT_TRUE(tcpCheck("127.0.0.1", port, 500ms).isOk());
  close(fd);
  auto s = tcpCheck("127.0.0.1", port, 500ms);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.message();
  EXPECT_EQ(tcpCheck("not-an-ip", 80, 100ms).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace lb::node
