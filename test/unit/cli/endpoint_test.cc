#include "cli/endpoint.h"

#include <gtest/gtest.h>

namespace lb::cli {
namespace {

ClusterConfig clusters(const std::string& current = "local") {
  ClusterConfig c;
  c.current = current;
  c.clusters.push_back({"local", "http://127.0.0.1:2967", "local-token", "", "", ""});
  c.clusters.push_back({"prod", "https://prod.example:2967", "prod-token", "/ca.pem", "", ""});
  return c;
}

TEST(EndpointTest, SelectedClusterWhenNothingElse) {
  auto r = resolveEndpoint({}, {}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "http://127.0.0.1:2967");
  EXPECT_EQ(r->token, "local-token");
  EXPECT_EQ(r->source, "cluster local");
}

TEST(EndpointTest, EnvBeatsSelectedCluster) {
  auto r = resolveEndpoint({}, {"10.0.0.1:2967", "env-token"}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "http://10.0.0.1:2967");
  EXPECT_EQ(r->token, "env-token");
  EXPECT_EQ(r->source, "env");
}

TEST(EndpointTest, StoredTokenNeverGoesToAnotherHost) {
  auto r = resolveEndpoint({}, {"10.0.0.1:2967", ""}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->token, "");
  EndpointFlags f;
  f.host = "http://evil.example";
  r = resolveEndpoint(f, {}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->token, "");
}

TEST(EndpointTest, EnvTokenWithSelectedClusterHost) {
  auto r = resolveEndpoint({}, {"", "env-token"}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "http://127.0.0.1:2967");
  EXPECT_EQ(r->token, "env-token");
}

TEST(EndpointTest, FlagsBeatEverything) {
  EndpointFlags f;
  f.host = "127.0.0.1:9999";
  f.token = "flag-token";
  f.cluster = "prod";
  auto r = resolveEndpoint(f, {"10.0.0.1", "env-token"}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "http://127.0.0.1:9999");
  EXPECT_EQ(r->token, "flag-token");
  EXPECT_EQ(r->source, "flag");
}

TEST(EndpointTest, NamedClusterBeatsEnv) {
  EndpointFlags f;
  f.cluster = "prod";
  auto r = resolveEndpoint(f, {"10.0.0.1", "env-token"}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "https://prod.example:2967");
  EXPECT_EQ(r->token, "prod-token");
  EXPECT_EQ(r->caFile, "/ca.pem");
  EXPECT_EQ(r->source, "cluster prod");
}

TEST(EndpointTest, HostFlagOfAStoredClusterKeepsItsCredentials) {
  EndpointFlags f;
  f.host = "http://127.0.0.1:2967/";
  auto r = resolveEndpoint(f, {}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->token, "local-token");
}

TEST(EndpointTest, Errors) {
  EndpointFlags f;
  f.cluster = "nope";
  auto r = resolveEndpoint(f, {}, clusters());
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  auto none = resolveEndpoint({}, {}, ClusterConfig{});
  ASSERT_FALSE(none.isOk());
  EXPECT_NE(none.status().message().find("no cluster selected"), std::string::npos);
}

TEST(EndpointTest, TlsFlagsSwitchToHttps) {
  EndpointFlags f;
  f.tls = true;
  auto r = resolveEndpoint(f, {}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "https://127.0.0.1:2967");
  f.tls = false;
  f.caFile = "/my-ca.pem";
  r = resolveEndpoint(f, {}, clusters());
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->url, "https://127.0.0.1:2967");
  EXPECT_EQ(r->caFile, "/my-ca.pem");
}

TEST(EndpointTest, NormalizeUrl) {
  EXPECT_EQ(normalizeUrl("host:1", false), "http://host:1");
  EXPECT_EQ(normalizeUrl("host:1", true), "https://host:1");
  EXPECT_EQ(normalizeUrl("http://host:1/", true), "https://host:1");
  EXPECT_EQ(normalizeUrl("https://host:1", false), "https://host:1");
}

}  // namespace
}  // namespace lb::cli
