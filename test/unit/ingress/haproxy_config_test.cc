#include "ingress/haproxy_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/endpoints.h"
#include "ingress/haproxy.h"

namespace lb::ingress {
namespace {

types::Route route(const std::string& ns, const std::string& name, const std::string& domain,
                   std::vector<types::RouteRule> rules, int port = 80,
                   const std::string& created = "2026-01-01T00:00:00Z") {
  types::Route r;
  r.meta.name = name;
  r.meta.namespace_ = ns;
  r.meta.selflink = ns + ":" + name;
  r.meta.created = created;
  r.spec.domain = domain;
  r.spec.port = port;
  r.spec.rules = std::move(rules);
  return r;
}

// The controller's endpoint of `svc`: service port `port` -> `target` on `ips`.
types::Endpoint endpoint(const std::string& ns, const std::string& svc, int port, int target,
                         std::vector<std::string> ips) {
  return testing::makeEndpoint(ns, svc, "10.96.0.10", {testing::tcpPort(port, target)}, ips);
}

void add(Manifest& m, types::Route r) { m.routes[r.meta.selflink] = std::move(r); }
void add(Manifest& m, types::Endpoint e) { m.endpoints[e.meta.selflink] = std::move(e); }

TEST(HaproxyModelTest, RulesGoLongestPathFirstToTheServicesPods) {
  Manifest m;
  add(m, route("demo", "web", "Shop.Example", {{"/", "web", 80}, {"/api", "api", 8080}}));
  add(m, endpoint("demo", "web", 80, 8000, {"10.0.0.2", "10.0.0.1"}));
  add(m, endpoint("demo", "api", 8080, 9000, {"10.0.0.3"}));
  Model model = buildModel(m, "lb.localhost");
  ASSERT_EQ(model.frontends.size(), 1u);
  const auto& f = model.frontends[0];
  EXPECT_EQ(f.port, 80);
  ASSERT_EQ(f.rules.size(), 2u);
  EXPECT_EQ(f.rules[0].path, "/api");
  EXPECT_EQ(f.rules[0].host, "shop.example");
  EXPECT_EQ(f.rules[1].path, "/");
  ASSERT_EQ(model.backends.size(), 2u);
  // Sorted by name: be_demo_web_0 (/), be_demo_web_1 (/api).
  EXPECT_EQ(model.backends[0].servers, (std::vector<Server>{{"10.0.0.1", 8000}, {"10.0.0.2", 8000}}));
  EXPECT_EQ(model.backends[1].servers, (std::vector<Server>{{"10.0.0.3", 9000}}));
  EXPECT_EQ(model.backends[0].slots, 8);
  EXPECT_TRUE(model.errors.empty());
  EXPECT_EQ(model.routes, (std::vector<std::string>{"demo:web"}));
}

TEST(HaproxyModelTest, ARouteWithoutDomainGetsTheFallbackAndAMissingServiceNoServers) {
  Manifest m;
  add(m, route("demo", "site", "", {{"/", "gone", 80}}));
  Model model = buildModel(m, "lb.localhost");
  ASSERT_EQ(model.frontends.size(), 1u);
  EXPECT_EQ(model.frontends[0].rules[0].host, "site.demo.lb.localhost");
  ASSERT_EQ(model.backends.size(), 1u);
  EXPECT_TRUE(model.backends[0].servers.empty());
}

TEST(HaproxyModelTest, TheOlderRouteKeepsAHostAndPathTheNewerClaims) {
  Manifest m;
  add(m, route("a", "first", "x.example", {{"/", "web", 80}}, 80, "2026-01-01T00:00:00Z"));
  add(m, route("b", "second", "x.example", {{"/", "web", 80}}, 80, "2026-02-01T00:00:00Z"));
  Model model = buildModel(m, "lb.localhost");
  EXPECT_EQ(model.routes, (std::vector<std::string>{"a:first"}));
  ASSERT_EQ(model.errors.count("b:second"), 1u);
  EXPECT_NE(model.errors["b:second"].find("a:first"), std::string::npos);
}

TEST(HaproxyModelTest, AnUnsafePathOrAMissingSecretIsThatRoutesErrorOnly) {
  Manifest m;
  add(m, route("demo", "bad", "bad.example", {{"/a b", "web", 80}}));
  auto tls = route("demo", "tls", "tls.example", {{"/", "web", 80}}, 443);
  tls.spec.tls.secret = "cert";
  add(m, tls);
  add(m, route("demo", "ok", "ok.example", {{"/", "web", 80}}));
  Model model = buildModel(m, "lb.localhost");
  EXPECT_EQ(model.routes, (std::vector<std::string>{"demo:ok"}));
  EXPECT_NE(model.errors["demo:bad"].find("path"), std::string::npos);
  EXPECT_EQ(model.errors["demo:tls"], "secret 'cert' not found");
}

TEST(HaproxyModelTest, SlotsStayWhileTheServersFitSoAScaleNeedsNoReload) {
  Backend b;
  b.name = "be";
  b.servers = {{"10.0.0.1", 80}, {"10.0.0.2", 80}};
  Model running;
  b.slots = slotsFor(b.servers.size());
  running.backends = {b};
  Model next = running;
  next.backends[0].servers.resize(5, {"10.0.0.9", 80});
  next.backends[0].slots = slotsFor(5);
  EXPECT_EQ(next.backends[0].slots, 16);
  keepSlots(next, running);
  EXPECT_EQ(next.backends[0].slots, 8);
  ConfigOptions o{"/tmp/x", "", 0, "", ""};
  running.backends[0].servers.clear();
  next.backends[0].servers.clear();
  EXPECT_EQ(layout(next, o), layout(running, o));
  next.backends[0].servers.resize(9, {"10.0.0.9", 80});
  next.backends[0].slots = slotsFor(9);
  keepSlots(next, running);
  EXPECT_EQ(next.backends[0].slots, 32);  // outgrown: a reload with more slots
}

TEST(HaproxyModelTest, RuntimeCommandsKeepSlotsOfServersThatStay) {
  Backend b;
  b.name = "be_demo_web_0";
  b.slots = 8;
  b.servers = {{"10.0.0.1", 80}, {"10.0.0.2", 80}};
  auto assign = initialAssignment(b);
  EXPECT_EQ(assign["10.0.0.1:80"], 1);
  EXPECT_EQ(assign["10.0.0.2:80"], 2);
  b.servers = {{"10.0.0.2", 80}, {"10.0.0.3", 80}};
  auto cmds = runtimeCommands(b, assign);
  EXPECT_EQ(cmds, (std::vector<std::string>{
                      "set server be_demo_web_0/s1 state maint",
                      "set server be_demo_web_0/s1 addr 10.0.0.3 port 80",
                      "set server be_demo_web_0/s1 state ready",
                      "set server be_demo_web_0/s1 health up",
                  }));
  EXPECT_EQ(assign.size(), 2u);
  EXPECT_EQ(assign["10.0.0.2:80"], 2);
  EXPECT_EQ(assign["10.0.0.3:80"], 1);
  EXPECT_TRUE(runtimeCommands(b, assign).empty());
}

TEST(HaproxyModelTest, AManifestThatIsNotJsonIsRefused) {
  int64_t rev = 0;
  EXPECT_FALSE(decodeManifest("{nope", &rev).isOk());
  auto m = decodeManifest(R"({"revision":7,"routes":{"a:b":{"spec":{"port":"x"}}},"endpoints":{}})",
                          &rev);
  ASSERT_TRUE(m.isOk());
  EXPECT_EQ(rev, 7);
  EXPECT_TRUE(m->routes.empty());  // the item that does not decode is skipped
}

// The config we render is one HAProxy accepts, TLS included; a key that is
// not the certificate's makes that route an error, never the config.
class HaproxyCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/sbin/haproxy", X_OK) != 0 || ::access("/usr/bin/openssl", X_OK) != 0)
      GTEST_SKIP() << "needs haproxy and openssl (Debian packages)";
    dir_ = std::filesystem::temp_directory_path() / ("lb-haproxy-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A self-signed certificate and key for `cn`.
  std::pair<std::string, std::string> makeCert(const std::string& cn) {
    std::string out;
    const std::string crt = (dir_ / (cn + ".crt")).string(), key = (dir_ / (cn + ".key")).string();
    int rc = runCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-subj", "/CN=" + cn, "-days", "2", "-keyout", key, "-out", crt},
                        &out);
    EXPECT_EQ(rc, 0) << out;
    auto read = [](const std::string& p) {
      std::ifstream in(p);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    return {read(crt), read(key)};
  }

  std::filesystem::path dir_;
};

TEST_F(HaproxyCheckTest, TheRenderedConfigPassesHaproxyCheck) {
  Manifest m;
  add(m, route("demo", "web", "web.example", {{"/", "web", 80}, {"/api", "web", 80}}));
  auto a = route("demo", "a", "a.example", {{"/", "web", 80}}, 443);
  a.spec.tls = {"a-cert", true};
  auto b = route("demo", "b", "b.example", {{"/", "web", 80}}, 443);
  b.spec.tls = {"b-cert", false};
  auto bad = route("demo", "bad", "bad.example", {{"/", "web", 80}}, 443);
  bad.spec.tls = {"mixed", false};
  add(m, a);
  add(m, b);
  add(m, bad);
  add(m, endpoint("demo", "web", 80, 8080, {"10.1.0.1", "10.1.0.2"}));
  auto [ca, ka] = makeCert("a.example");
  auto [cb, kb] = makeCert("b.example");
  for (auto [name, crt, key] : {std::tuple{"a-cert", ca, ka}, {"b-cert", cb, kb}, {"mixed", ca, kb}}) {
    types::Secret s;
    s.meta.name = name;
    s.spec.type = types::kSecretFile;
    s.spec.data = {{"tls.crt", crt}, {"tls.key", key}};
    m.secrets[std::string("demo:") + name] = s;
  }
  Model model = buildModel(m, "lb.localhost");
  EXPECT_EQ(model.errors.size(), 1u);
  EXPECT_NE(model.errors["demo:bad"].find("does not match"), std::string::npos);
  ASSERT_EQ(model.certs.size(), 2u);
  ASSERT_EQ(model.frontends.size(), 2u);  // 80 (web + the redirect of a), 443
  EXPECT_EQ(model.frontends[0].redirectHosts, (std::vector<std::string>{"a.example"}));

  ConfigOptions o{dir_.string(), "127.0.0.1", 1936, "admin", "pw"};
  std::string list;
  std::filesystem::create_directories(dir_ / "certs");
  for (const auto& c : model.certs) {
    std::ofstream(dir_ / "certs" / c.file) << c.pem;
    list += (dir_ / "certs" / c.file).string() + " " + c.host + "\n";
  }
  std::ofstream(dir_ / "certs.list") << list;
  std::ofstream(dir_ / "haproxy.cfg") << renderConfig(model, o);
  std::string out;
  EXPECT_EQ(runCommand({"/usr/sbin/haproxy", "-c", "-f", (dir_ / "haproxy.cfg").string()}, &out),
            0)
      << out << "\n" << renderConfig(model, o);
}

}  // namespace
}  // namespace lb::ingress
