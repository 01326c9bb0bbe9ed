// The IPAM loop alone: after a restart the allocator adopts the addresses
// stored endpoints hold and frees those nobody holds any more.

#include <gtest/gtest.h>

#include "controller/loops/ipam.h"
#include "loop_harness.h"

namespace lb::controller::testing {
namespace {

Ipam stored(LoopHarness& h) {
  Ipam ipam = Ipam::create("10.96.0.0/24").value();
  auto o = h.store().get(keys::ipamKey());
  EXPECT_TRUE(o.isOk());
  if (o.isOk()) {
    EXPECT_TRUE(ipam.loadJson(o->value).isOk());
  }
  return ipam;
}

TEST(IpamLoop, AdoptsTheAddressesEndpointsHold) {
  LoopHarness h(only<loops::IpamLoop>());
  types::Endpoint e;
  e.meta.name = "web";
  e.meta.namespace_ = "demo";
  e.meta.selflink = "demo:web";
  e.spec.ip = "10.96.0.7";
  h.put(*keys::endpointKey("demo", "web"), e);
  h.pass();
  EXPECT_EQ(stored(h).addressOf("demo:web"), "10.96.0.7");
}

TEST(IpamLoop, ReleasesAddressesWithoutServiceOrEndpoint) {
  LoopHarness h(only<loops::IpamLoop>());
  Ipam ipam = Ipam::create("10.96.0.0/24").value();
  ASSERT_TRUE(ipam.adopt("demo:gone", "10.96.0.9"));
  ASSERT_TRUE(h.store().set(keys::ipamKey(), ipam.toJson()).isOk());
  h.pass();
  EXPECT_FALSE(stored(h).addressOf("demo:gone").has_value());

  // A restarted allocator's write is a compare-and-swap on the loaded
  // revision, so a second change lands too.
  ASSERT_TRUE(ipam.adopt("demo:other", "10.96.0.10"));
  ASSERT_TRUE(h.store().set(keys::ipamKey(), ipam.toJson()).isOk());
  h.pass();
  EXPECT_TRUE(stored(h).owners().empty());
  EXPECT_EQ(h.core().stats().conflicts, 0u);
}

}  // namespace
}  // namespace lb::controller::testing
