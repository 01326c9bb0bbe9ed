// The nftables CPI's ruleset without a kernel: the batch text it writes, and
// what it reads back from a listing (data/nft: what nft 1.0.6 listed after
// running that very text), whole and damaged by hand in each way that
// matters. The driver on a real table: test/conformance and
// test/integration/runtime/nftables_cpi_test.cc.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/cpi/nftables/ruleset.h"
#include "support/endpoints.h"

namespace lb::runtime::cpi::nftables {
namespace {

using nlohmann::json;
using testing::makeEndpoint;
using testing::tcpPort;
using testing::udpPort;

std::string readData(const std::string& name) {
  std::ifstream in(std::string(LB_RUNTIME_TEST_DATA) + "/nft/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EndpointState web() {
  auto e = makeEndpoint("demo", "web", "10.96.0.10",
                        {tcpPort(80, 8080), tcpPort(81, 8081), udpPort(53, 5353), udpPort(54, 54)},
                        {"10.244.1.5", "10.244.2.7"});
  // Only some pods serve 8081, 5353 and 54, as readiness would have it.
  std::erase_if(e.spec.upstreams, [](const types::Upstream& u) {
    return u.port == 8081 || u.port == 54 || (u.port == 5353 && u.ip == "10.244.2.7");
  });
  return *programmedState(e);
}

EndpointState db() {
  return *programmedState(makeEndpoint("demo", "db", "10.96.0.11", {tcpPort(5432, 5432)},
                                       {"10.244.1.9"}, kPolicyRandom));
}

json sample() { return json::parse(readData("listing.json")); }

Listing parse(const json& j) {
  auto l = parseListing(j.dump());
  EXPECT_TRUE(l.isOk()) << l.status().message();
  return l.isOk() ? *l : Listing{};
}

// Drops the items of the listing `drop` says yes to.
json without(json j, const std::function<bool(const json&)>& drop) {
  auto& items = j["nftables"];
  for (auto it = items.begin(); it != items.end();) it = drop(*it) ? items.erase(it) : it + 1;
  return j;
}

bool ruleOf(const json& item, const std::string& chain, const std::string& part) {
  return item.contains("rule") && item["rule"]["chain"] == chain &&
         item["rule"]["expr"].dump().find(part) != std::string::npos;
}

TEST(NftablesRuleset, ChainNames) {
  EXPECT_EQ(chainName("10.96.0.10"), "ep_10_96_0_10");
  EXPECT_EQ(vipOfChain("ep_10_96_0_10"), "10.96.0.10");
  EXPECT_EQ(vipOfChain("prerouting"), "");
  EXPECT_EQ(vipOfChain("ep_10_96_0"), "");
  EXPECT_EQ(vipOfChain("ep_010_96_0_10"), "");  // not what chainName writes
}

TEST(NftablesRuleset, TheBatchIsTheSample) {
  Batch b;
  b.skeleton();
  b.program(web());
  b.program(db());
  EXPECT_EQ(b.text(), readData("program.nft"));
}

TEST(NftablesRuleset, ReadsBackWhatItWrote) {
  auto l = parse(sample());
  EXPECT_TRUE(l.table);
  EXPECT_TRUE(l.skeleton);
  EXPECT_EQ(l.served,
            (std::map<std::string, EndpointState>{{"demo:web", web()}, {"demo:db", db()}}));
  EXPECT_EQ(l.found, l.served);
  EXPECT_EQ(l.targets.at("10.96.0.11"), "ep_10_96_0_11");
}

TEST(NftablesRuleset, AMissingVipEntryServesNothing) {
  auto j = sample();
  for (auto& item : j["nftables"]) {
    if (item.contains("map")) item["map"]["elem"].erase(0);  // 10.96.0.10
  }
  auto l = parse(j);
  EXPECT_TRUE(l.served.at("demo:web").ports.empty());
  EXPECT_EQ(l.served.at("demo:web").policy, "");
  EXPECT_EQ(l.found.at("demo:web"), web());  // still there to clean up
  EXPECT_EQ(l.served.at("demo:db"), db());
}

// The last two rules of an endpoint chain: "reject with tcp reset" and "reject".
bool guardOf(const json& item, const std::string& chain, bool tcp) {
  return ruleOf(item, chain, "reject") && item["rule"]["expr"].size() == 1 &&
         (item["rule"]["expr"].dump().find("tcp reset") != std::string::npos) == tcp;
}

TEST(NftablesRuleset, DamagedChainsServeNothing) {
  // Without either guard rule, or with a rule of another name, the
  // endpoint has no ports.
  for (bool tcp : {true, false}) {
    auto l =
        parse(without(sample(), [&](const json& i) { return guardOf(i, "ep_10_96_0_10", tcp); }));
    EXPECT_TRUE(l.served.at("demo:web").ports.empty()) << tcp;
    EXPECT_EQ(l.served.at("demo:db"), db());
  }
  auto renamed = sample();
  for (auto& item : renamed["nftables"]) {
    if (ruleOf(item, "ep_10_96_0_10", "5353")) item["rule"]["comment"] = "demo:other";
  }
  EXPECT_TRUE(parse(renamed).served.at("demo:web").ports.empty());
  // A port rule after the guards is never reached.
  auto late = sample();
  auto& items = late["nftables"];
  for (size_t i = 0; i < items.size(); ++i) {
    if (ruleOf(items[i], "ep_10_96_0_10", "5353")) {
      items.push_back(items[i]);
      items.erase(i);
      break;
    }
  }
  EXPECT_TRUE(parse(late).served.at("demo:web").ports.empty());
}

TEST(NftablesRuleset, AMissingPortRuleIsAMissingPort) {
  auto l =
      parse(without(sample(), [](const json& i) { return ruleOf(i, "ep_10_96_0_10", "5353"); }));
  auto want = web();
  std::erase_if(want.ports, [](const PortState& p) { return p.port == 53; });
  EXPECT_EQ(l.served.at("demo:web"), want);
}

TEST(NftablesRuleset, ABackendWithoutItsHairpinIsLeftOut) {
  auto j = sample();
  for (auto& item : j["nftables"]) {
    if (item.contains("set")) item["set"]["elem"].erase(2);  // 10.244.1.9 . 10.244.1.9
  }
  auto l = parse(j);
  EXPECT_EQ(l.served.at("demo:web"), web());
  EXPECT_TRUE(l.served.at("demo:db").ports.at(0).backends.empty());
  EXPECT_EQ(l.served.at("demo:db").policy, "");
  EXPECT_EQ(l.found.at("demo:db"), db());
}

TEST(NftablesRuleset, ABrokenSkeletonServesNothing) {
  for (const char* chain : {"prerouting", "output", "postrouting"}) {
    auto l = parse(without(sample(), [&](const json& i) { return ruleOf(i, chain, ""); }));
    EXPECT_FALSE(l.skeleton) << chain;
    EXPECT_TRUE(l.served.at("demo:web").ports.empty()) << chain;
    EXPECT_TRUE(l.served.at("demo:db").ports.empty()) << chain;
  }
}

TEST(NftablesRuleset, WhatHasNoNameIsKeyedByVip) {
  // A chain emptied by hand, and a map element leading elsewhere.
  auto j = without(sample(), [](const json& i) { return ruleOf(i, "ep_10_96_0_11", ""); });
  for (auto& item : j["nftables"]) {
    if (item.contains("map"))
      item["map"]["elem"].push_back(
          json::array({"10.96.0.12", {{"goto", {{"target", "ep_10_96_0_10"}}}}}));
  }
  auto l = parse(j);
  ASSERT_EQ(l.served.count("vip/10.96.0.11"), 1u);
  EXPECT_EQ(l.served.at("vip/10.96.0.11").name, "");
  ASSERT_EQ(l.served.count("vip/10.96.0.12"), 1u);
  EXPECT_EQ(l.targets.at("10.96.0.12"), "ep_10_96_0_10");
  EXPECT_EQ(l.served.at("demo:web"), web());
}

TEST(NftablesRuleset, NoTableAndNonsense) {
  auto l = parse(json::parse(R"({"nftables": [{"metainfo": {"version": "1.0.6"}}]})"));
  EXPECT_FALSE(l.table);
  EXPECT_TRUE(l.served.empty());
  EXPECT_EQ(parseListing("{").status().code(), Code::kInternal);
  EXPECT_EQ(parseListing("[]").status().code(), Code::kInternal);
  // Fields of the wrong type are damage, not a crash.
  auto odd = sample();
  for (auto& item : odd["nftables"]) {
    if (item.contains("rule")) item["rule"]["expr"] = json::parse(R"([{"dnat": 7}, {"match": 1}])");
  }
  auto broken = parse(odd);
  EXPECT_TRUE(broken.served.at("demo:web").ports.empty());
}

TEST(NftablesRuleset, RemovalsAddFirstSoAbsenceIsFine) {
  Batch b;
  b.removeVip("10.96.0.10", "ep_10_96_0_10");
  b.removeHairpin("10.244.1.5");
  EXPECT_EQ(b.text(),
            "add chain ip lastbackend ep_10_96_0_10\n"
            "add element ip lastbackend endpoints { 10.96.0.10 : goto ep_10_96_0_10 }\n"
            "delete element ip lastbackend endpoints { 10.96.0.10 }\n"
            "flush chain ip lastbackend ep_10_96_0_10\n"
            "delete chain ip lastbackend ep_10_96_0_10\n"
            "add element ip lastbackend hairpin { 10.244.1.5 . 10.244.1.5 }\n"
            "delete element ip lastbackend hairpin { 10.244.1.5 . 10.244.1.5 }\n");
  Batch odd;
  odd.removeVip("10.96.0.12", "ep_10_96_0_10");  // its element led elsewhere
  EXPECT_NE(odd.text().find("add chain ip lastbackend ep_10_96_0_10\n"), std::string::npos);
  EXPECT_NE(odd.text().find("{ 10.96.0.12 : goto ep_10_96_0_10 }"), std::string::npos);
}

}  // namespace
}  // namespace lb::runtime::cpi::nftables
