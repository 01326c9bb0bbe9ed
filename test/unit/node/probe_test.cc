#include "node/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lb::node {
namespace {

using namespace std::chrono_literals;

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
