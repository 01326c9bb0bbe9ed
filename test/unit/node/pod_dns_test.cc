// Which registered discovery servers pods resolve through, and what a
// container gets from them.

#include "node/pod_dns.h"

#include <gtest/gtest.h>

namespace lb::node {
namespace {

using namespace std::chrono_literals;

types::Discovery discovery(const std::string& name, const std::string& ip, int port,
                           Clock::TimePoint beat, bool ready = true) {
  types::Discovery d;
  d.meta.name = name;
  d.spec.ip = ip;
  d.spec.port = port;
  d.spec.domain = "lb.local";
  d.status.online = true;
  d.status.ready = ready;
  d.status.heartbeat = formatRfc3339(beat);
  return d;
}

TEST(PodDnsTest, OnlyReadyFreshPort53ServersCountInNameOrder) {
  const auto now = std::chrono::system_clock::now();
  std::vector<std::string> skipped;
  PodDns dns = choosePodDns({discovery("b", "10.1.0.6", 53, now), discovery("a", "10.1.0.5", 53, now),
                             discovery("c", "10.1.0.7", 53, now, false),
                             discovery("d", "10.1.0.8", 53, now - 5min),
                             discovery("e", "10.1.0.9", 5353, now), discovery("f", "0.0.0.0", 53, now),
                             discovery("g", "", 53, now)},
                            now, &skipped);
  EXPECT_EQ(dns.servers, (std::vector<std::string>{"10.1.0.5", "10.1.0.6"}));
  EXPECT_EQ(dns.domain, "lb.local");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_NE(skipped[0].find("5353"), std::string::npos);
}

TEST(PodDnsTest, NoServerLeavesTheRuntimeDefault) {
  runtime::cri::ContainerSpec spec;
  applyPodDns(choosePodDns({}, std::chrono::system_clock::now()), "demo", &spec);
  EXPECT_TRUE(spec.dns.empty());
  EXPECT_TRUE(spec.dnsSearch.empty());
  EXPECT_TRUE(spec.dnsOptions.empty());
}

TEST(PodDnsTest, ThePodsNamespaceComesFirstInTheSearchPath) {
  runtime::cri::ContainerSpec spec;
  applyPodDns({{"10.1.0.5"}, "lb.local"}, "shop", &spec);
  EXPECT_EQ(spec.dns, std::vector<std::string>{"10.1.0.5"});
  EXPECT_EQ(spec.dnsSearch, (std::vector<std::string>{"shop.lb.local", "lb.local"}));
  EXPECT_EQ(spec.dnsOptions, std::vector<std::string>{"ndots:1"});
}

}  // namespace
}  // namespace lb::node
