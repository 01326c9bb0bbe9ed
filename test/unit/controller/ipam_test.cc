#include "controller/ipam.h"

#include <gtest/gtest.h>

namespace lb::controller {
namespace {

TEST(IpamTest, AllocatesReleasesAndRoundTrips) {
  auto ipam = Ipam::create("10.96.0.0/29");
  ASSERT_TRUE(ipam.isOk());
  EXPECT_EQ(ipam->capacity(), 6u);
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto ip = ipam->allocate("ns:s" + std::to_string(i));
    ASSERT_TRUE(ip.isOk());
    EXPECT_TRUE(seen.insert(*ip).second);
    EXPECT_NE(*ip, "10.96.0.0");
    EXPECT_NE(*ip, "10.96.0.7");
  }
  EXPECT_EQ(ipam->allocate("ns:extra").status().code(), Code::kUnavailable);
  EXPECT_EQ(*ipam->allocate("ns:s1"), *ipam->addressOf("ns:s1"));  // idempotent
  EXPECT_TRUE(ipam->release("ns:s1"));
  EXPECT_TRUE(ipam->allocate("ns:extra").isOk());

  auto copy = Ipam::create("10.96.0.0/29");
  ASSERT_TRUE(copy->loadJson(ipam->toJson()).isOk());
  EXPECT_EQ(copy->owners(), ipam->owners());
}

TEST(IpamTest, AdoptRejectsForeignAndTakenAddresses) {
  auto ipam = Ipam::create("10.96.0.0/24");
  EXPECT_TRUE(ipam->adopt("a", "10.96.0.9"));
  EXPECT_FALSE(ipam->adopt("b", "10.96.0.9"));
  EXPECT_FALSE(ipam->adopt("b", "192.168.0.1"));
  EXPECT_FALSE(ipam->adopt("b", "10.96.0.255"));
  EXPECT_EQ(Ipam::create("10.96.0.0").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Ipam::create("300.0.0.0/8").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace lb::controller
