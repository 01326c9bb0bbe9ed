#include "discovery/zone.h"

#include <gtest/gtest.h>

#include <string>

#include "support/endpoints.h"

namespace lb::discovery {
namespace {

types::Endpoint endpoint(const std::string& ns, const std::string& name, const std::string& vip,
                         const std::vector<types::PortMapping>& ports = {{80, 8080, "tcp"}}) {
  return testing::makeEndpoint(ns, name, vip, ports, {});
}

class ZoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = Zone::create({"lb.local", 5, "10.0.0.1"});
    ASSERT_TRUE(made.isOk());
    zone_ = std::move(*made);
  }
  Zone::Lookup find(const std::string& text) const {
    auto name = wireName(text);
    EXPECT_TRUE(name.isOk()) << text;
    Zone::Reader reader(*zone_);
    return reader.find(reinterpret_cast<const uint8_t*>(name->data()), name->size());
  }
  std::unique_ptr<Zone> zone_;
};

TEST_F(ZoneTest, AServiceHasItsNameSrvPtrAndParents) {
  zone_->put(endpoint("Demo", "Web", "10.96.0.10", {{80, 8080, "TCP"}, {53, 53, "udp"}}));
  EXPECT_EQ(zone_->records(), 4u);  // A, PTR, two SRV

  auto a = find("web.demo.lb.local");
  EXPECT_EQ(a.kind, Zone::Kind::kName);
  EXPECT_EQ(a.holds, Zone::Holds::kA);
  ASSERT_NE(a.service, nullptr);
  EXPECT_EQ(a.service->ns, "demo");

  auto srv = find("_53._udp.web.demo.lb.local");
  EXPECT_EQ(srv.holds, Zone::Holds::kSrv);
  EXPECT_EQ(srv.service->ports[srv.port].first, 53);
  EXPECT_EQ(find("_53._tcp.web.demo.lb.local").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("_053._udp.web.demo.lb.local").kind, Zone::Kind::kNxDomain);

  for (const char* ent : {"demo.lb.local", "_tcp.web.demo.lb.local", "_udp.web.demo.lb.local"}) {
    auto e = find(ent);
    EXPECT_EQ(e.kind, Zone::Kind::kName) << ent;
    EXPECT_EQ(e.holds, Zone::Holds::kNothing) << ent;
  }
  EXPECT_EQ(find("_sctp.web.demo.lb.local").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("x.web.demo.lb.local").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("lb.local").holds, Zone::Holds::kApex);
  EXPECT_EQ(find("ns.lb.local").holds, Zone::Holds::kNsHost);

  auto ptr = find("10.0.96.10.in-addr.arpa");
  EXPECT_EQ(ptr.holds, Zone::Holds::kPtr);
  EXPECT_TRUE(ptr.authoritative);
  EXPECT_EQ(find("11.0.96.10.in-addr.arpa").kind, Zone::Kind::kOutside);
  EXPECT_EQ(find("010.0.96.10.in-addr.arpa").kind, Zone::Kind::kOutside);

  EXPECT_EQ(find("web.demo").kind, Zone::Kind::kAlias);
  EXPECT_EQ(find("api.demo").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("web.example").kind, Zone::Kind::kOutside);
  EXPECT_EQ(find("example.com").kind, Zone::Kind::kOutside);
}

TEST_F(ZoneTest, RemovingAServiceLeavesNothingBehind) {
  zone_->put(endpoint("demo", "web", "10.96.0.10"));
  zone_->remove("demo:web");
  EXPECT_EQ(zone_->records(), 0u);
  EXPECT_EQ(zone_->services(), 0u);
  for (const char* gone : {"web.demo.lb.local", "_80._tcp.web.demo.lb.local",
                           "_tcp.web.demo.lb.local", "demo.lb.local"})
    EXPECT_EQ(find(gone).kind, Zone::Kind::kNxDomain) << gone;
  EXPECT_EQ(find("10.0.96.10.in-addr.arpa").kind, Zone::Kind::kOutside);
  EXPECT_EQ(find("web.demo").kind, Zone::Kind::kOutside);
}

TEST_F(ZoneTest, ANameOrVipTwoServicesShareStaysWithTheOneLeft) {
  // A VIP given twice (a store being repaired): the last put answers; when it
  // goes, nothing points at freed memory and the other keeps its own name.
  zone_->put(endpoint("demo", "web", "10.96.0.10"));
  zone_->put(endpoint("demo", "api", "10.96.0.10"));
  EXPECT_EQ(find("10.0.96.10.in-addr.arpa").service->fqdn, *wireName("api.demo.lb.local"));
  zone_->remove("demo:api");
  EXPECT_EQ(find("web.demo.lb.local").holds, Zone::Holds::kA);
  EXPECT_EQ(find("10.0.96.10.in-addr.arpa").kind, Zone::Kind::kOutside);
  zone_->remove("demo:web");
  EXPECT_EQ(zone_->records(), 0u);
}

TEST_F(ZoneTest, AChangedEndpointReplacesItsRecords) {
  zone_->put(endpoint("demo", "web", "10.96.0.10"));
  zone_->put(endpoint("demo", "web", "10.96.0.11", {{443, 8443, "tcp"}, {443, 8443, "tcp"}}));
  EXPECT_EQ(zone_->records(), 3u);  // duplicate ports count once
  EXPECT_EQ(find("_80._tcp.web.demo.lb.local").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("_443._tcp.web.demo.lb.local").holds, Zone::Holds::kSrv);
  EXPECT_EQ(find("10.0.96.10.in-addr.arpa").kind, Zone::Kind::kOutside);
  EXPECT_EQ(find("11.0.96.10.in-addr.arpa").holds, Zone::Holds::kPtr);
}

TEST_F(ZoneTest, EndpointsDnsCannotCarryAreLeftOut) {
  zone_->put(endpoint("demo", "novip", ""));
  zone_->put(endpoint("demo", "badvip", "10.96.0"));
  zone_->put(endpoint("demo", std::string(64, 'a'), "10.96.0.12"));
  zone_->put(endpoint("demo", "ports", "10.96.0.13", {{0, 1, "tcp"}, {70000, 1, "tcp"}}));
  EXPECT_EQ(zone_->services(), 1u);
  EXPECT_EQ(zone_->records(), 2u);  // "ports": A and PTR, no SRV
}

TEST_F(ZoneTest, ASnapshotReplacesEverythingAtOnce) {
  zone_->put(endpoint("old", "web", "10.96.0.10"));
  Zone::Snapshot fresh;
  zone_->add(fresh, endpoint("new", "web", "10.96.0.20"));
  EXPECT_EQ(find("web.old.lb.local").holds, Zone::Holds::kA);  // not yet swapped
  zone_->replace(std::move(fresh));
  EXPECT_EQ(find("web.old.lb.local").kind, Zone::Kind::kNxDomain);
  EXPECT_EQ(find("web.new.lb.local").holds, Zone::Holds::kA);
  EXPECT_EQ(zone_->services(), 1u);
}

}  // namespace
}  // namespace lb::discovery
