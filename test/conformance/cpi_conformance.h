#pragma once

// The CPI contract (include/lastbackend/runtime/cpi.h) as one typed suite,
// instantiated for fakes::FakeProxyRuntime and for the nftables driver in a
// network namespace of the test's own (cpi_conformance_test.cc). Traffic
// through the nftables rules is checked apart
// (test/integration/runtime/nftables_cpi_test.cc).
//
// A backend B provides:
//   std::string problem();  why it cannot run here, or ""
//   bool maySkip();          whether that problem skips (else it fails)
//   runtime::cpi::ProxyRuntime& proxy();
//   void reopen();           a new driver instance over what is programmed
//   void damage(const std::string& vip);
//                            removes the VIP's entry by hand, as an operator would

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "conformance/backend_test.h"
#include "lastbackend/runtime/cpi.h"
#include "support/endpoints.h"

namespace lb::conformance {

template <typename B>
class CpiConformance : public BackendTest<B> {
 protected:
  using State = runtime::cpi::EndpointState;

  runtime::cpi::ProxyRuntime& proxy() { return this->backend_.proxy(); }

  std::map<std::string, State> info() {
    auto i = proxy().info();
    EXPECT_TRUE(i.isOk()) << i.status().message();
    return i.isOk() ? *i : std::map<std::string, State>{};
  }

  State create(const types::Endpoint& e) {
    auto s = proxy().create(e);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : State{};
  }

  State update(const State& from, const types::Endpoint& e) {
    auto s = proxy().update(from, e);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : State{};
  }

  // What info() must say for `e`.
  static State wanted(const types::Endpoint& e) {
    auto s = runtime::cpi::programmedState(e);
    EXPECT_TRUE(s.isOk()) << s.status().message();
    return s.isOk() ? *s : State{};
  }
};

TYPED_TEST_SUITE_P(CpiConformance);

namespace cpi = runtime::cpi;
using testing::makeEndpoint;
using testing::tcpPort;
using testing::udpPort;

TYPED_TEST_P(CpiConformance, EachServicePortGoesToItsPodPort) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), udpPort(53, 5353)},
                          {"10.244.1.5", "10.244.2.7"});
  auto made = this->create(web);
  EXPECT_EQ(made.name, "demo:web");
  EXPECT_EQ(made.ip, "10.96.0.10");
  EXPECT_EQ(made.policy, cpi::kPolicyRoundRobin);
  ASSERT_EQ(made.ports.size(), 2u);
  EXPECT_EQ(made.ports[0],
            (cpi::PortState{"tcp", 80, {{"10.244.1.5", 8080}, {"10.244.2.7", 8080}}}));
  EXPECT_EQ(made.ports[1],
            (cpi::PortState{"udp", 53, {{"10.244.1.5", 5353}, {"10.244.2.7", 5353}}}));
  auto all = this->info();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all["demo:web"], made);
}

TYPED_TEST_P(CpiConformance, WithoutReadyPodsEveryPortIsRefused) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), udpPort(53, 53)}, {});
  auto made = this->create(web);
  EXPECT_EQ(made.policy, "");  // nothing to balance
  ASSERT_EQ(made.ports.size(), 2u);
  EXPECT_TRUE(made.ports[0].backends.empty());
  EXPECT_TRUE(made.ports[1].backends.empty());
  EXPECT_EQ(this->info()["demo:web"], made);
}

TYPED_TEST_P(CpiConformance, UpdateAppliesTheChange) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), udpPort(53, 5353)},
                          {"10.244.1.5", "10.244.2.7"});
  auto db = makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(5432, 5432)}, {"10.244.1.9"});
  auto was = this->create(web);
  auto dbWas = this->create(db);
  // One pod left, one came; a port added, one gone; random balancing.
  auto next = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), tcpPort(443, 8443)},
                           {"10.244.2.7", "10.244.3.2"}, cpi::kPolicyRandom);
  auto now = this->update(was, next);
  EXPECT_EQ(now, this->wanted(next));
  auto all = this->info();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all["demo:web"], now);
  EXPECT_EQ(all["demo:db"], dbWas);
  // The last ready pod goes: the ports stay, refused.
  auto none = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {});
  auto empty = this->update(now, none);
  EXPECT_EQ(this->info()["demo:web"], empty);
  EXPECT_TRUE(empty.ports.at(0).backends.empty());
}

TYPED_TEST_P(CpiConformance, UpdateMovesTheVip) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  auto was = this->create(web);
  auto moved = web;
  moved.spec.ip = "10.96.0.20";
  auto now = this->update(was, moved);
  auto all = this->info();
  ASSERT_EQ(all.size(), 1u) << "the old VIP is left: " << all.begin()->first;
  EXPECT_EQ(all["demo:web"], now);
  EXPECT_EQ(now.ip, "10.96.0.20");
}

TYPED_TEST_P(CpiConformance, DestroyRemovesAndMayRepeat) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  auto db = makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(5432, 5432)}, {"10.244.1.5"});
  auto made = this->create(web);
  auto dbMade = this->create(db);
  ASSERT_TRUE(this->proxy().destroy(made).isOk());
  auto all = this->info();
  EXPECT_EQ(all.count("demo:web"), 0u);
  // The pod both used still serves the other endpoint.
  EXPECT_EQ(all["demo:db"], dbMade);
  EXPECT_TRUE(this->proxy().destroy(made).isOk());  // gone already: fine
  cpi::EndpointState bad = made;
  bad.ip = "not-an-ip";
  EXPECT_EQ(this->proxy().destroy(bad).code(), Code::kInvalidArgument);
}

TYPED_TEST_P(CpiConformance, BadEndpointsAreRefusedNamingTheField) {
  auto good = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  struct Case {
    const char* field;
    void (*spoil)(types::Endpoint&);
  };
  const Case cases[] = {
      {"spec.ip", [](types::Endpoint& e) { e.spec.ip = "10.96.0.300"; }},
      {"spec.ip", [](types::Endpoint& e) { e.spec.ip = "127.0.0.1"; }},
      {"spec.ip", [](types::Endpoint& e) { e.spec.ip = "10.96.0.1; flush ruleset"; }},
      {"meta.selflink", [](types::Endpoint& e) { e.meta.selflink = "demo:web\" accept"; }},
      {"spec.ports", [](types::Endpoint& e) { e.spec.ports.clear(); }},
      {"spec.ports[0].protocol", [](types::Endpoint& e) { e.spec.ports[0].protocol = "sctp"; }},
      {"spec.ports[0].port", [](types::Endpoint& e) { e.spec.ports[0].port = 70000; }},
      {"spec.ports[0].containerPort",
       [](types::Endpoint& e) { e.spec.ports[0].containerPort = 0; }},
      {"spec.ports[1].port", [](types::Endpoint& e) { e.spec.ports.push_back(tcpPort(80, 9090)); }},
      {"spec.upstreams[0].ip", [](types::Endpoint& e) { e.spec.upstreams[0].ip = "pod-a"; }},
      {"spec.policy", [](types::Endpoint& e) { e.spec.policy = "wrr"; }},
  };
  for (const auto& c : cases) {
    auto e = good;
    c.spoil(e);
    auto s = this->proxy().create(e);
    ASSERT_FALSE(s.isOk()) << c.field;
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << c.field;
    EXPECT_EQ(s.status().field(), c.field) << s.status().message();
  }
  EXPECT_TRUE(this->info().empty());
}

TYPED_TEST_P(CpiConformance, AVipServesOneEndpoint) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  auto made = this->create(web);
  auto other = makeEndpoint("demo", "api", "10.96.0.10", {tcpPort(81, 8081)}, {"10.244.1.6"});
  auto s = this->proxy().create(other);
  EXPECT_EQ(s.status().code(), Code::kConflict) << s.status().message();
  // A state of another endpoint cannot steer an update.
  auto u = this->proxy().update(
      made, makeEndpoint("demo", "api", "10.96.0.12", {tcpPort(81, 8081)}, {"10.244.1.6"}));
  EXPECT_EQ(u.status().code(), Code::kInvalidArgument) << u.status().message();
  auto all = this->info();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all["demo:web"], made);
}

TYPED_TEST_P(CpiConformance, ANewInstanceAdoptsWhatIsProgrammed) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080), udpPort(53, 53)},
                          {"10.244.1.5"});
  auto db = makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(5432, 5432)}, {"10.244.1.9"});
  this->create(web);
  this->create(db);
  auto before = this->info();
  this->backend_.reopen();
  EXPECT_EQ(this->info(), before);
  // create() of an adopted endpoint replaces it: the port it lost is gone.
  auto fewer = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  auto now = this->create(fewer);
  auto all = this->info();
  EXPECT_EQ(all["demo:web"], now);
  EXPECT_EQ(all["demo:db"], before["demo:db"]);
}

TYPED_TEST_P(CpiConformance, DriftShowsInInfoAndUpdatePutsItBack) {
  auto web = makeEndpoint("demo", "web", "10.96.0.10", {tcpPort(80, 8080)}, {"10.244.1.5"});
  auto db = makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(5432, 5432)}, {"10.244.1.9"});
  auto made = this->create(web);
  auto dbMade = this->create(db);
  this->backend_.damage("10.96.0.10");
  auto seen = this->info();
  ASSERT_EQ(seen.count("demo:web"), 1u);
  EXPECT_NE(seen["demo:web"], made);  // a difference the caller acts on
  EXPECT_EQ(seen["demo:db"], dbMade);
  this->update(seen["demo:web"], web);
  EXPECT_EQ(this->info()["demo:web"], made);
  // create() puts it back too.
  this->backend_.damage("10.96.0.10");
  this->create(web);
  EXPECT_EQ(this->info()["demo:web"], made);
}

TYPED_TEST_P(CpiConformance, ManyEndpointsChangeOneByOne) {
  std::map<std::string, cpi::EndpointState> made;
  for (int i = 0; i < 20; ++i) {
    auto e = makeEndpoint("demo", "s" + std::to_string(i), "10.96.1." + std::to_string(i + 1),
                          {tcpPort(80, 8080)}, {"10.244.1." + std::to_string(i + 1)});
    auto s = this->create(e);
    made[s.name] = s;
  }
  auto e = makeEndpoint("demo", "s7", "10.96.1.8", {tcpPort(80, 8080)}, {"10.244.9.9"});
  made["demo:s7"] = this->update(made["demo:s7"], e);
  EXPECT_EQ(this->info(), made);
}

REGISTER_TYPED_TEST_SUITE_P(CpiConformance, EachServicePortGoesToItsPodPort,
                            WithoutReadyPodsEveryPortIsRefused, UpdateAppliesTheChange,
                            UpdateMovesTheVip, DestroyRemovesAndMayRepeat,
                            BadEndpointsAreRefusedNamingTheField, AVipServesOneEndpoint,
                            ANewInstanceAdoptsWhatIsProgrammed, DriftShowsInInfoAndUpdatePutsItBack,
                            ManyEndpointsChangeOneByOne);

}  // namespace lb::conformance
