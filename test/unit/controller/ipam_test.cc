#include "controller/ipam.h"

#include <gtest/gtest.h>

#include <set>

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

// Pod subnets: blocks tiling the range, every one usable, never one twice.
TEST(IpamTest, BlocksTileTheRange) {
  auto pool = Ipam::createBlocks("10.244.0.0/22", 24);
  ASSERT_TRUE(pool.isOk()) << pool.status().toString();
  EXPECT_EQ(pool->capacity(), 4u);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto cidr = pool->allocate("n" + std::to_string(i));
    ASSERT_TRUE(cidr.isOk());
    EXPECT_TRUE(seen.insert(*cidr).second) << *cidr;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24",
                                         "10.244.3.0/24"}));
  auto full = pool->allocate("n4");
  EXPECT_EQ(full.status().code(), Code::kUnavailable);
  EXPECT_EQ(full.status().message(),
            "pods CIDR 10.244.0.0/22 is exhausted (4 subnets of /24 in use)");
  EXPECT_EQ(pool->ownerOf("10.244.2.0/24"), "n2");
  EXPECT_TRUE(pool->release("n2"));
  EXPECT_FALSE(pool->ownerOf("10.244.2.0/24").has_value());
  EXPECT_EQ(*pool->allocate("n4"), "10.244.2.0/24");

  // Adopt takes only blocks of this range and size, aligned.
  auto fresh = Ipam::createBlocks("10.244.0.0/16", 24);
  EXPECT_TRUE(fresh->adopt("a", "10.244.7.0/24"));
  EXPECT_FALSE(fresh->adopt("b", "10.244.7.0/24"));  // taken
  EXPECT_FALSE(fresh->adopt("b", "10.244.7.128/24"));
  EXPECT_FALSE(fresh->adopt("b", "10.244.8.0/25"));
  EXPECT_FALSE(fresh->adopt("b", "10.245.0.0/24"));
  EXPECT_FALSE(fresh->adopt("b", "10.244.8.1"));
}

TEST(IpamTest, BlockSizeMustFitTheRange) {
  EXPECT_TRUE(Ipam::createBlocks("10.244.0.0/16", 16).isOk());  // one node
  EXPECT_TRUE(Ipam::createBlocks("10.244.0.0/16", 30).isOk());
  for (int bits : {15, 31, 32}) {
    auto s = Ipam::createBlocks("10.244.0.0/16", bits).status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bits;
    EXPECT_EQ(s.field(), "nodeSubnetSize") << bits;
  }
  // At most 65536 subnets.
  EXPECT_TRUE(Ipam::createBlocks("10.0.0.0/8", 24).isOk());
  EXPECT_FALSE(Ipam::createBlocks("10.0.0.0/8", 25).isOk());
  EXPECT_EQ(Ipam::createBlocks("10.244.0.0/33", 24).status().field(), "podsCidr");
}

// A range with host bits set is a typo the error names, not a range.
TEST(IpamTest, ARangeWithHostBitsIsRefused) {
  auto s = Ipam::create("10.96.0.1/12").status();
  EXPECT_EQ(s.message(), "services CIDR '10.96.0.1/12': host bits set (the network is 10.96.0.0/12)");
  EXPECT_EQ(s.field(), "servicesCidr");
  EXPECT_EQ(Ipam::createBlocks("10.244.3.7/16", 24).status().field(), "podsCidr");
}

}  // namespace
}  // namespace lb::controller
