// The CPI's shared parts: endpoint -> programmed state, the checks, the
// driver table and the choice of driver for the reference default; the
// fake's error injection. The contract itself: test/conformance.

#include "lastbackend/runtime/cpi.h"

#include <gtest/gtest.h>

#include "fakes/runtime/fake_cpi.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/cpi/ipvs/ipvs_cpi.h"
#include "support/endpoints.h"

namespace lb::runtime::cpi {
namespace {

using testing::makeEndpoint;
using testing::tcpPort;
using testing::udpPort;

TEST(CpiProgrammedState, PortsGoToTheUpstreamsOfTheirContainerPort) {
  // Two service ports onto the same container port, one onto another.
  auto e = makeEndpoint("demo", "web", "10.96.0.10",
                        {tcpPort(443, 8443), tcpPort(80, 8080), tcpPort(8080, 8080)},
                        {"10.244.2.7", "10.244.1.5"});
  e.spec.upstreams.push_back({"10.244.1.5", 8080});  // a duplicate
  e.spec.upstreams.push_back({"10.244.3.3", 9999});  // no port of the service
  auto s = programmedState(e);
  ASSERT_TRUE(s.isOk()) << s.status().message();
  ASSERT_EQ(s->ports.size(), 3u);
  const std::vector<Backend> web{{"10.244.1.5", 8080}, {"10.244.2.7", 8080}};
  EXPECT_EQ(s->ports[0], (PortState{"tcp", 80, web}));
  EXPECT_EQ(s->ports[1], (PortState{"tcp", 443, {{"10.244.1.5", 8443}, {"10.244.2.7", 8443}}}));
  EXPECT_EQ(s->ports[2], (PortState{"tcp", 8080, web}));
  EXPECT_EQ(s->policy, kPolicyRoundRobin);
}

TEST(CpiProgrammedState, NameAndPolicy) {
  auto e = makeEndpoint("demo", "web", "10.96.0.10", {udpPort(53, 53)}, {"10.244.1.5"}, "");
  e.meta.selflink.clear();  // made of namespace and name then
  auto s = programmedState(e);
  ASSERT_TRUE(s.isOk()) << s.status().message();
  EXPECT_EQ(s->name, "demo:web");
  EXPECT_EQ(s->policy, kPolicyRoundRobin);  // "" is the default
  e.spec.policy = kPolicyRandom;
  EXPECT_EQ(programmedState(e)->policy, kPolicyRandom);
  e.spec.upstreams.clear();
  EXPECT_EQ(programmedState(e)->policy, "");  // nothing to balance
}

TEST(CpiProgrammedState, ChecksNameTheField) {
  auto e = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  e.meta.selflink = std::string(70, 'a') + ":" + std::string(60, 'b');  // over 127
  auto s = programmedState(e);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().field(), "meta.selflink");
  e = makeEndpoint("demo", "web", "224.0.0.1", {tcpPort(80, 8080)}, {});
  EXPECT_EQ(programmedState(e).status().field(), "spec.ip");
  e = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  e.spec.upstreams[0].port = -1;
  EXPECT_EQ(programmedState(e).status().field(), "spec.upstreams[0].port");
}

TEST(CpiState, KeyAndValidation) {
  EndpointState s{"demo:web", "10.96.0.10", "", {}};
  EXPECT_EQ(stateKey(s), "demo:web");
  s.name.clear();
  EXPECT_EQ(stateKey(s), "vip/10.96.0.10");
  EXPECT_TRUE(validateState(s).isOk());
  s.ports = {{"tcp", 80, {{"10.244.1.5 . 10.0.0.1", 80}}}};
  EXPECT_EQ(validateState(s).field(), "ports[0].backends[0].ip");
  s.ports = {{"icmp", 80, {}}};
  EXPECT_EQ(validateState(s).field(), "ports[0].protocol");
  s.ports.clear();
  s.ip = "";
  EXPECT_EQ(validateState(s).field(), "ip");
}

TEST(CpiDrivers, TableAndDefault) {
  EXPECT_EQ(driverNames(), (std::vector<std::string>{"ipvs", "nftables"}));
  auto unknown = open({"iptables"});
  ASSERT_FALSE(unknown.isOk());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(unknown.status().field(), "network.cpi.type");
  EXPECT_NE(unknown.status().message().find("valid: ipvs, nftables"), std::string::npos);
  // The reference default becomes nftables; what is asked for stays.
  EXPECT_EQ(resolveDriver("ipvs", false), "nftables");
  EXPECT_EQ(resolveDriver("ipvs", true), "ipvs");
  EXPECT_EQ(resolveDriver("nftables", false), "nftables");
  EXPECT_EQ(resolveDriver("nftables", true), "nftables");
}

TEST(CpiDrivers, AnExplicitIpvsNamesNftables) {
  auto without = ipvs::open([](bool) { return false; });
  ASSERT_FALSE(without.isOk());
  EXPECT_EQ(without.status().code(), Code::kInvalidArgument);
  EXPECT_NE(without.status().message().find("no IPVS"), std::string::npos);
  EXPECT_NE(without.status().message().find("--network-proxy nftables"), std::string::npos);
  auto with = ipvs::open([](bool) { return true; });
  ASSERT_FALSE(with.isOk());
  EXPECT_EQ(with.status().code(), Code::kUnsupported);
  EXPECT_NE(with.status().message().find("nftables"), std::string::npos);
}

TEST(FakeCpi, InjectedErrorsAndSharedDataPlane) {
  fakes::FakeProxyRuntime fake;
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  fake.errors().fail("create", unavailable("kernel says no"));
  auto s = fake.create(web);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_EQ(s.status().message(), "fake cpi: create endpoint 'demo:web': kernel says no");
  EXPECT_TRUE(fake.info()->empty());
  auto made = fake.create(web);  // armed once
  ASSERT_TRUE(made.isOk());
  fake.errors().fail("info", internalError("boom"), fakes::ErrorInjector::kForever);
  EXPECT_FALSE(fake.info().isOk());
  EXPECT_FALSE(fake.info().isOk());
  fake.errors().clearAll();
  auto other = fake.reopened();
  EXPECT_EQ(other->info()->at("demo:web"), *made);
  fake.errors().fail("destroy", unavailable("later"));
  EXPECT_EQ(fake.destroy(*made).code(), Code::kUnavailable);
  EXPECT_TRUE(other->destroy(*made).isOk());  // its own injector
  EXPECT_TRUE(fake.info()->empty());
  EXPECT_EQ(fake.errors().calls("create"), 2);
}

}  // namespace
}  // namespace lb::runtime::cpi
