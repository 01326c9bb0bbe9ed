#include "common/ipv4.h"

#include <gtest/gtest.h>

namespace lb {
namespace {

TEST(Ipv4, ParsesAndFormatsDottedQuads) {
  EXPECT_EQ(parseIpv4("10.244.1.2"), 0x0af40102u);
  EXPECT_EQ(parseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(parseIpv4("255.255.255.255"), 0xffffffffu);
  for (const char* bad : {"", "10.244.1", "10.244.1.2.3", "10.244.1.256", "10.244.1.2 ", "a.b.c.d",
                          "10..1.2", "1234.1.1.1"}) {
    EXPECT_FALSE(parseIpv4(bad)) << bad;
  }
  EXPECT_EQ(formatIpv4(0x0af40102u), "10.244.1.2");
}

TEST(Ipv4, PrefixesHaveNoHostBitsAndABoundedLength) {
  auto p = parseIpv4Prefix("10.244.2.0/24", "subnet");
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(p->network, 0x0af40200u);
  EXPECT_EQ(p->bits, 24);
  EXPECT_EQ(p->str(), "10.244.2.0/24");
  EXPECT_EQ(p->size(), 256u);
  EXPECT_TRUE(p->contains(0x0af402ffu));
  EXPECT_FALSE(p->contains(0x0af40300u));
  EXPECT_EQ(parseIpv4Prefix("0.0.0.0/0", "route")->mask(), 0u);

  auto err = [](const char* cidr, int lo = 0, int hi = 32) {
    auto r = parseIpv4Prefix(cidr, "subnet", lo, hi);
    EXPECT_FALSE(r.isOk()) << cidr;
    return r.isOk() ? std::string() : r.status().message();
  };
  EXPECT_EQ(err("10.244.2.1/24"),
            "subnet '10.244.2.1/24': host bits set (the network is 10.244.2.0/24)");
  EXPECT_EQ(err("10.244.2.0"), "subnet '10.244.2.0': not a CIDR (want a.b.c.d/n)");
  EXPECT_EQ(err("10.244.2.0/33"), "subnet '10.244.2.0/33': bad prefix length");
  EXPECT_EQ(err("10.244.2.0/x"), "subnet '10.244.2.0/x': bad prefix length");
  EXPECT_EQ(err("10.244.2/24"), "subnet '10.244.2/24': not an IPv4 address");
  EXPECT_EQ(err("10.244.2.0/31", 8, 30),
            "subnet '10.244.2.0/31': prefix length must be between 8 and 30");
}

TEST(Ipv4Test, PrefixesOverlapWhenTheyShareAnAddress) {
  auto p = [](std::string_view c) { return parseIpv4Prefix(c, "cidr").value(); };
  EXPECT_TRUE(p("10.96.0.0/12").overlaps(p("10.96.0.0/16")));
  EXPECT_TRUE(p("10.100.1.0/24").overlaps(p("10.96.0.0/12")));
  EXPECT_FALSE(p("10.96.0.0/12").overlaps(p("10.244.0.0/16")));
  EXPECT_TRUE(p("0.0.0.0/0").overlaps(p("10.244.0.0/16")));
  EXPECT_FALSE(p("10.244.0.0/24").overlaps(p("10.244.1.0/24")));
}

}  // namespace
}  // namespace lb
