// `lastbackend discovery` answering real clients (dig, kdig) over UDP and
// TCP, from an in-memory store, with a Knot DNS server the test started as
// its only upstream. Hostile packets go in raw.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "discovery/discovery.h"
#include "dns_client.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"
#include "support/endpoints.h"

namespace lb {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kDig = "/usr/bin/dig";
constexpr const char* kKdig = "/usr/bin/kdig";

types::Endpoint endpoint(const std::string& ns, const std::string& svc, const std::string& vip,
                         const std::vector<types::PortMapping>& ports) {
  return testing::makeEndpoint(ns, svc, vip, ports, {});
}

// "many" with 40 addresses: an answer larger than 512 bytes.
std::string manyRecords() {
  std::string z;
  for (int i = 1; i <= 40; ++i) z += "many A 192.0.2." + std::to_string(i) + "\n";
  return z;
}

class DiscoveryDnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kDig) || !std::filesystem::exists(kKdig))
      GTEST_SKIP() << "dig/kdig not installed (bind9-dnsutils, knot-dnsutils)";
    dir_ = testing::makeTempDir("lb-dns-");
    ASSERT_TRUE(knot_.start(std::filesystem::path(dir_) / "knot",
                            {{"example.test",
                              "$ORIGIN example.test.\n$TTL 300\n"
                              "@ SOA ns hostmaster 1 7200 1800 86400 60\n@ NS ns\n"
                              "ns A 127.0.0.1\nwww A 192.0.2.10\n" + manyRecords()}}))
        << "knotd not installed (package knot)";
    storage::Options so;
    so.driver = "mock";
    auto opened = storage::open(so);
    ASSERT_TRUE(opened.isOk()) << opened.status().toString();
    store_ = std::shared_ptr<storage::Storage>(std::move(*opened));
    put(endpoint("demo", "web", "10.96.0.10", {{80, 8080, "tcp"}, {53, 53, "udp"}}));

    config::DiscoveryConfig c;
    c.dns.host = "127.0.0.1";
    c.dns.port = testing::freeLoopbackPort();
    c.ttl = 24h;
    c.domain = "lb.local";
    c.resolvers = {"127.0.0.1:" + std::to_string(knot_.port())};
    auto d = discovery::DiscoveryProcess::start(c, store_);
    ASSERT_TRUE(d.isOk()) << d.status().toString();
    dns_ = std::move(*d);
    port_ = dns_->port();
    ASSERT_TRUE(resolvesWithin(5s, "web.demo.lb.local", "10.96.0.10"));
    // knotd answers once its zone is loaded.
    for (int i = 0; i < 50 && !testing::udpAsk(knot_.port(), testing::dnsQuery("www.example.test", 1)); ++i)
      std::this_thread::sleep_for(100ms);
  }
  void TearDown() override {
    if (dns_) dns_->stop();
    knot_.stop();
    if (HasFailure()) std::cerr << "--- knot log\n" << knot_.log();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  void put(const types::Endpoint& e) {
    ASSERT_TRUE(store_->set(*storage::keys::endpointKey(e.meta.namespace_, e.meta.name), types::toJson(e)).isOk());
  }
  std::string tool(const char* bin, std::vector<std::string> args) {
    const bool knot = std::string(bin) == kKdig;
    std::vector<std::string> argv = {bin, "@127.0.0.1", "-p", std::to_string(port_),
                                     knot ? "+timeout=2" : "+time=2", knot ? "+retry=0" : "+tries=1"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = testing::runProcess(argv, {}, dir_, "dig", 10s);
    return r.out + r.err;
  }
  std::string dig(std::vector<std::string> args) { return tool(kDig, std::move(args)); }
  std::string kdig(std::vector<std::string> args) { return tool(kKdig, std::move(args)); }
  bool resolvesWithin(std::chrono::milliseconds limit, const std::string& name, const std::string& ip) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      auto a = testing::udpAsk(port_, testing::dnsQuery(name, 1));
      if (a && testing::rcodeOf(*a) == 0 && testing::countOf(*a, 1) == 1 && a->size() >= 4 &&
          std::to_string((*a)[a->size() - 4]) + "." + std::to_string((*a)[a->size() - 3]) + "." +
                  std::to_string((*a)[a->size() - 2]) + "." + std::to_string((*a)[a->size() - 1]) == ip)
        return true;
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  std::string dir_;
  testing::Knot knot_;
  std::shared_ptr<storage::Storage> store_;
  std::unique_ptr<discovery::DiscoveryProcess> dns_;
  uint16_t port_ = 0;
};

TEST_F(DiscoveryDnsTest, AServiceResolvesToItsVipOverUdpAndTcp) {
  for (const char* transport : {"+notcp", "+tcp"}) {
    std::string out = dig({transport, "web.demo.lb.local", "A"});
    EXPECT_THAT(out, HasSubstr("status: NOERROR")) << transport;
    EXPECT_THAT(out, HasSubstr("flags: qr aa")) << transport;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(web\.demo\.lb\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.10)")))
        << transport << "\n" << out;
  }
  EXPECT_THAT(kdig({"+tcp", "web.demo.lb.local", "A"}), HasSubstr("10.96.0.10"));
}

TEST_F(DiscoveryDnsTest, NamesMatchInAnyCaseAndAnswerInTheCaseAsked) {
  std::string out = dig({"WeB.DeMo.Lb.LoCaL", "A"});
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(WeB\.DeMo\.Lb\.LoCaL\.\s+5\s+IN\s+A\s+10\.96\.0\.10)"))) << out;
}

TEST_F(DiscoveryDnsTest, SrvForEachPortWithTheTargetAddress) {
  std::string out = dig({"_80._tcp.web.demo.lb.local", "SRV"});
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(IN\s+SRV\s+0 100 80 web\.demo\.lb\.local\.)"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(ADDITIONAL SECTION:\n(.*\n)*web\.demo\.lb\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.10)")))
      << out;
  EXPECT_THAT(dig({"_53._udp.web.demo.lb.local", "SRV"}), HasSubstr("0 100 53 web.demo.lb.local."));
  // _81 has no port: NXDOMAIN; _tcp.web... is an empty non-terminal: NODATA.
  EXPECT_THAT(dig({"_81._tcp.web.demo.lb.local", "SRV"}), HasSubstr("status: NXDOMAIN"));
  EXPECT_THAT(dig({"_tcp.web.demo.lb.local", "SRV"}), HasSubstr("status: NOERROR"));
}

TEST_F(DiscoveryDnsTest, PtrForEveryVip) {
  std::string out = dig({"-x", "10.96.0.10"});
  EXPECT_THAT(out, HasSubstr("status: NOERROR"));
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(10\.0\.96\.10\.in-addr\.arpa\.\s+5\s+IN\s+PTR\s+web\.demo\.lb\.local\.)"))) << out;
}

TEST_F(DiscoveryDnsTest, SoaAndNsAtTheApex) {
  EXPECT_TRUE(std::regex_search(dig({"lb.local", "SOA"}), std::regex(R"(lb\.local\.\s+5\s+IN\s+SOA\s+ns\.lb\.local\. hostmaster\.lb\.local\.)")));
  EXPECT_TRUE(std::regex_search(kdig({"lb.local", "NS"}), std::regex(R"(lb\.local\.\s+5\s+IN\s+NS\s+ns\.lb\.local\.)")));
}

TEST_F(DiscoveryDnsTest, AnExistingNameOfAnotherTypeIsNodataNeverNxdomain) {
  for (const char* transport : {"+notcp", "+tcp"}) {
    std::string out = dig({transport, "web.demo.lb.local", "AAAA"});
    EXPECT_THAT(out, HasSubstr("status: NOERROR")) << out;
    EXPECT_THAT(out, HasSubstr("ANSWER: 0, AUTHORITY: 1")) << out;
    EXPECT_THAT(out, HasSubstr("SOA")) << out;
  }
  // The namespace level exists too (it has services).
  EXPECT_THAT(dig({"demo.lb.local", "A"}), HasSubstr("status: NOERROR"));
}

TEST_F(DiscoveryDnsTest, AnUnknownNameInTheZoneIsNxdomainWithTheSoa) {
  for (const char* transport : {"+notcp", "+tcp"}) {
    std::string out = dig({transport, "nope.demo.lb.local", "A"});
    EXPECT_THAT(out, HasSubstr("status: NXDOMAIN")) << out;
    EXPECT_THAT(out, HasSubstr("flags: qr aa")) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(AUTHORITY SECTION:\nlb\.local\.\s+5\s+IN\s+SOA)"))) << out;
  }
  // "<svc>.<ns>." for a namespace of the cluster (the first try of the
  // search path under ndots:1) never leaves the cluster: the service by
  // CNAME, else NXDOMAIN.
  std::string alias = dig({"WeB.demo", "A"});
  EXPECT_THAT(alias, HasSubstr("status: NOERROR"));
  EXPECT_TRUE(std::regex_search(alias, std::regex(R"(WeB\.demo\.\s+5\s+IN\s+CNAME\s+web\.demo\.lb\.local\.)"))) << alias;
  EXPECT_TRUE(std::regex_search(alias, std::regex(R"(web\.demo\.lb\.local\.\s+5\s+IN\s+A\s+10\.96\.0\.10)"))) << alias;
  EXPECT_THAT(dig({"nope.demo", "A"}), HasSubstr("status: NXDOMAIN"));
}

TEST_F(DiscoveryDnsTest, Edns0PayloadAndTruncationThenTheFullAnswerOverTcp) {
  EXPECT_THAT(dig({"+bufsize=4096", "web.demo.lb.local"}), HasSubstr("udp: 1232"));
  EXPECT_THAT(dig({"+noedns", "web.demo.lb.local"}), Not(HasSubstr("OPT PSEUDOSECTION")));
  // 40 A records (upstream) do not fit in 512 bytes without EDNS: TC with
  // the question alone, within the amplification bound...
  const auto q = testing::dnsQuery("many.example.test", 1);
  auto udp = testing::udpAsk(port_, q, 3s);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(testing::tcOf(*udp));
  EXPECT_EQ(testing::countOf(*udp, 1), 0);
  EXPECT_LE(udp->size(), q.size() * 8);
  // ...and dig, retrying over TCP, gets them all.
  std::string out = dig({"+noedns", "many.example.test", "A"});
  EXPECT_THAT(out, HasSubstr("Truncated, retrying in TCP mode"));
  EXPECT_THAT(out, HasSubstr("ANSWER: 40,")) << out;
}

TEST_F(DiscoveryDnsTest, TcpTakesSeveralQueriesOnOneConnection) {
  std::vector<testing::Bytes> qs = {testing::dnsQuery("web.demo.lb.local", 1, 1, 1),
                                    testing::dnsQuery("nope.demo.lb.local", 1, 1, 2),
                                    testing::dnsQuery("www.example.test", 1, 1, 3),
                                    testing::dnsQuery("_80._tcp.web.demo.lb.local", 33, 1, 4)};
  auto answers = testing::tcpAsk(port_, qs);
  ASSERT_EQ(answers.size(), 4u);
  std::map<uint16_t, uint8_t> rcodes;
  for (const auto& a : answers) rcodes[static_cast<uint16_t>((a[0] << 8) | a[1])] = testing::rcodeOf(a);
  EXPECT_EQ(rcodes[1], 0);
  EXPECT_EQ(rcodes[2], 3);
  EXPECT_EQ(rcodes[3], 0);
  EXPECT_EQ(rcodes[4], 0);
}

TEST_F(DiscoveryDnsTest, OutsideNamesAreForwardedAndCachedWithNegativeAnswers) {
  std::string out = dig({"www.example.test", "A"});
  EXPECT_THAT(out, HasSubstr("status: NOERROR"));
  EXPECT_THAT(out, HasSubstr("192.0.2.10"));
  EXPECT_THAT(out, Not(HasSubstr("flags: qr aa")));  // not ours
  EXPECT_THAT(dig({"nope.example.test", "A"}), HasSubstr("status: NXDOMAIN"));
  EXPECT_THAT(kdig({"+tcp", "www.example.test", "A"}), HasSubstr("192.0.2.10"));
  // The upstream goes away: both answers come from the cache, TTLs counting down.
  knot_.stop();
  out = dig({"www.example.test", "A"});
  EXPECT_THAT(out, HasSubstr("192.0.2.10")) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(www\.example\.test\.\s+(300|29\d)\s+IN\s+A)"))) << out;
  EXPECT_THAT(dig({"nope.example.test", "A"}), HasSubstr("status: NXDOMAIN"));
  // Never asked before, no upstream answers: SERVFAIL, and the server goes on.
  EXPECT_THAT(dig({"+time=4", "other.example.test", "A"}), HasSubstr("status: SERVFAIL"));
  EXPECT_TRUE(resolvesWithin(1s, "web.demo.lb.local", "10.96.0.10"));
}

TEST_F(DiscoveryDnsTest, WithoutAnUpstreamOutsideNamesAreRefused) {
  config::DiscoveryConfig c;
  c.dns.host = "127.0.0.1";
  c.dns.port = testing::freeLoopbackPort();
  c.domain = "lb.local";
  c.resolvers = {"none"};
  auto d = discovery::DiscoveryProcess::start(c, store_);
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  auto a = testing::udpAsk((*d)->port(), testing::dnsQuery("www.example.test", 1));
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 5);  // REFUSED
  EXPECT_FALSE((*a)[3] & 0x80) << "RA set without recursion";
}

TEST_F(DiscoveryDnsTest, ACreatedServiceResolvesAndADeletedOneIsNxdomainWithinMoments) {
  put(endpoint("demo", "fresh", "10.96.0.20", {{80, 80, "tcp"}}));
  EXPECT_TRUE(resolvesWithin(1s, "fresh.demo.lb.local", "10.96.0.20"));
  ASSERT_TRUE(store_->del(*storage::keys::endpointKey("demo", "fresh")).isOk());
  auto deadline = std::chrono::steady_clock::now() + 1s;
  uint8_t rcode = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto a = testing::udpAsk(port_, testing::dnsQuery("fresh.demo.lb.local", 1));
    if (a && (rcode = testing::rcodeOf(*a)) == 3) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(rcode, 3);
  EXPECT_THAT(dig({"-x", "10.96.0.20"}), Not(HasSubstr("fresh.demo")));
}

// Raw packets no client would send: each gets its rule's answer (or none),
// no answer is larger than kAmplification times the query, and the server
// still answers a good query after all of them.
TEST_F(DiscoveryDnsTest, HostilePacketsNeitherCrashNorStallNorAmplify) {
  using testing::Bytes;
  const Bytes good = testing::dnsQuery("web.demo.lb.local", 1);
  auto ask = [&](const Bytes& q) { return testing::udpAsk(port_, q, 200ms); };
  auto bounded = [&](const Bytes& q, const std::optional<Bytes>& a) {
    if (a) {
      EXPECT_LE(a->size(), std::max<size_t>(q.size(), 12) * 8) << "query of " << q.size();
    }
  };
  // Shorter than a header: dropped.
  EXPECT_FALSE(ask(Bytes{0x12, 0x34, 0x01}));
  // QR set (a response): dropped, never answered (no reflection loops).
  Bytes response = good;
  response[2] |= 0x80;
  EXPECT_FALSE(ask(response));
  // Opcode STATUS (2): NOTIMP.
  Bytes status = good;
  status[2] = static_cast<uint8_t>((status[2] & 0x87) | (2 << 3));
  auto a = ask(status);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 4);
  // Truncated inside the question: FORMERR.
  Bytes cut(good.begin(), good.begin() + 20);
  a = ask(cut);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 1);
  bounded(cut, a);
  // A compression pointer to itself as the question name: FORMERR.
  Bytes loop = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  a = ask(loop);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 1);
  // Counts larger than the packet: FORMERR.
  Bytes counts = good;
  counts[6] = counts[7] = counts[8] = counts[9] = counts[10] = counts[11] = 0xff;
  a = ask(counts);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 1);
  bounded(counts, a);
  // Two questions: FORMERR.
  Bytes two = good;
  two[5] = 2;
  a = ask(two);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 1);
  // Class CH: REFUSED.
  a = ask(testing::dnsQuery("version.bind", 16, 3));
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 5);
  // ANY: one record set (RFC 8482), small.
  const Bytes anyQ = testing::dnsQuery("_80._tcp.web.demo.lb.local", 255);
  a = ask(anyQ);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::rcodeOf(*a), 0);
  EXPECT_EQ(testing::countOf(*a, 1), 1);
  bounded(anyQ, a);
  // Oversized junk (4000 bytes): FORMERR or nothing, never more than a header.
  Bytes junk(4000, 0x41);
  junk[2] = 0x01;
  junk[4] = 0;
  junk[5] = 1;
  a = ask(junk);
  if (a) {
    EXPECT_LE(a->size(), 12u);
  }
  // Larger than any UDP query we take: dropped.
  Bytes huge(9000, 0);
  EXPECT_FALSE(ask(huge));
  // An unsupported EDNS version: BADVERS (extended rcode 1 in the OPT).
  Bytes v1 = testing::dnsQuery("web.demo.lb.local", 1, 1, 7, 1232);
  v1[v1.size() - 5] = 1;  // OPT TTL byte 2: version
  a = ask(v1);
  ASSERT_TRUE(a);
  EXPECT_EQ(testing::countOf(*a, 1), 0);
  // And a good query still gets its answer, over UDP and TCP.
  EXPECT_TRUE(resolvesWithin(1s, "web.demo.lb.local", "10.96.0.10"));
  EXPECT_EQ(testing::tcpAsk(port_, {good}).size(), 1u);
  // A TCP message claiming 64 KiB and sending less, then closing, ends that
  // connection only.
  EXPECT_TRUE(testing::tcpAsk(port_, {Bytes(3, 0)}).empty());
  EXPECT_TRUE(resolvesWithin(1s, "web.demo.lb.local", "10.96.0.10"));
}

}  // namespace
}  // namespace lb
