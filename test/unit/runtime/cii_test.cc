// CII helpers shared by drivers: auth header, references, pull policies,
// ensureImage (over the fake), and how pull failures are classified.

#include "lastbackend/runtime/cii.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/runtime/fake_cii.h"
#include "runtime/cii/docker/docker_cii.h"

namespace lb::runtime::cii {
namespace {

std::string base64UrlDecode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

TEST(RegistryAuthTest, EncodesJsonAsBase64Url) {
  RegistryAuth a{"user", "p@ss/+?", "registry.example.com:5000", ""};
  std::string enc = encodeRegistryAuth(a);
  EXPECT_EQ(enc.find_first_of("+/"), std::string::npos);
  auto j = nlohmann::json::parse(base64UrlDecode(enc));
  EXPECT_EQ(j["username"], "user");
  EXPECT_EQ(j["password"], "p@ss/+?");
  EXPECT_EQ(j["serveraddress"], "registry.example.com:5000");
  EXPECT_EQ(enc.size() % 4, 0u);

  auto tok = nlohmann::json::parse(base64UrlDecode(encodeRegistryAuth({"", "", "", "tok"})));
  EXPECT_EQ(tok, nlohmann::json({{"identitytoken", "tok"}}));
  EXPECT_EQ(base64UrlDecode(encodeRegistryAuth({})), "{}");
  // Every padding length.
  for (std::string pw : {"a", "ab", "abc", "abcd"}) {
    auto d = nlohmann::json::parse(base64UrlDecode(encodeRegistryAuth({"u", pw, "", ""})));
    EXPECT_EQ(d["password"], pw);
  }
}

TEST(ImageRefTest, SplitsRegistryPortTagAndDigest) {
  auto r = parseImageRef("localhost:5000/team/app:1.2");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->repository, "localhost:5000/team/app");
  EXPECT_EQ(r->tag, "1.2");
  EXPECT_EQ(parseImageRef("localhost:5000/team/app")->tag, "latest");
  EXPECT_EQ(parseImageRef("busybox")->str(), "busybox:latest");
  auto d = parseImageRef("app@sha256:abc");
  EXPECT_EQ(d->tag, "");
  EXPECT_EQ(d->digest, "sha256:abc");
  EXPECT_EQ(d->str(), "app@sha256:abc");
  for (const char* bad : {"", "a b", "app:", "/app", "app/", "a//b", "app@nodigest", "x?y"}) {
    EXPECT_FALSE(parseImageRef(bad).isOk()) << bad;
  }
}

TEST(PullPolicyTest, ParsesWordsAndDecides) {
  EXPECT_EQ(*parsePullPolicy(""), PullPolicy::kIfNotPresent);
  EXPECT_EQ(*parsePullPolicy("always"), PullPolicy::kAlways);
  EXPECT_EQ(*parsePullPolicy("IfNotPresent"), PullPolicy::kIfNotPresent);
  EXPECT_EQ(*parsePullPolicy("if-not-present"), PullPolicy::kIfNotPresent);
  EXPECT_EQ(*parsePullPolicy("Never"), PullPolicy::kNever);
  auto bad = parsePullPolicy("sometimes");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("Always, IfNotPresent, Never"), std::string::npos);
  EXPECT_TRUE(shouldPull(PullPolicy::kAlways, true));
  EXPECT_FALSE(shouldPull(PullPolicy::kIfNotPresent, true));
  EXPECT_TRUE(shouldPull(PullPolicy::kIfNotPresent, false));
  EXPECT_FALSE(shouldPull(PullPolicy::kNever, false));
  EXPECT_STREQ(pullPolicyName(PullPolicy::kNever), "Never");
}

TEST(EnsureImageTest, FollowsThePolicy) {
  fakes::FakeImageRuntime images;
  images.addImage("local/app:1");
  images.addRemote("remote/app:1");
  EXPECT_TRUE(ensureImage(images, "local/app:1", PullPolicy::kIfNotPresent, {}).isOk());
  EXPECT_TRUE(images.pulled().empty());
  EXPECT_TRUE(ensureImage(images, "remote/app:1", PullPolicy::kIfNotPresent, {}).isOk());
  EXPECT_EQ(images.pulled(), std::vector<std::string>{"remote/app:1"});
  EXPECT_TRUE(ensureImage(images, "remote/app:1", PullPolicy::kAlways, {}).isOk());
  EXPECT_EQ(images.pulled().size(), 2u);
  Status never = ensureImage(images, "absent/app:1", PullPolicy::kNever, {});
  EXPECT_EQ(never.code(), Code::kNotFound);
  EXPECT_NE(never.message().find("Never"), std::string::npos);
  EXPECT_EQ(ensureImage(images, "absent/app:1", PullPolicy::kIfNotPresent, {}).code(),
            Code::kNotFound);
}

TEST(EnsureImageTest, InjectedErrorsPassThroughWithContext) {
  fakes::FakeImageRuntime images;
  images.errors().fail("exists", unavailable("daemon down"));
  Status s = ensureImage(images, "a:1", PullPolicy::kIfNotPresent, {});
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "fake: image 'a:1': daemon down");
  EXPECT_EQ(images.errors().calls("exists"), 1);
}

TEST(FakeImageRuntimeTest, AuthTagRemoveAndInUse) {
  fakes::FakeImageRuntime images;
  images.addRemote("priv/app:1", "alice");
  EXPECT_EQ(images.pull("priv/app:1", {}, {}).status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(images.pull("priv/app:1", {"alice", "pw", "", ""}, {}).isOk());
  ASSERT_TRUE(images.tag("priv/app:1", "copy/app:2").isOk());
  EXPECT_EQ(images.inspect("copy/app:2")->id, images.inspect("priv/app:1")->id);
  EXPECT_EQ(images.list()->size(), 1u);
  images.setInUse("copy/app:2", true);
  EXPECT_EQ(images.remove("copy/app:2", false).code(), Code::kConflict);
  EXPECT_TRUE(images.remove("copy/app:2", true).isOk());
  EXPECT_FALSE(*images.exists("copy/app:2"));
  EXPECT_TRUE(*images.exists("priv/app:1"));
}

TEST(ClassifyPullErrorTest, Kinds) {
  using docker::classifyPullError;
  EXPECT_EQ(classifyPullError("Get \"https://localhost:1/v2/\": dial tcp 127.0.0.1:1: connect: "
                              "connection refused"),
            Code::kUnavailable);
  EXPECT_EQ(classifyPullError("manifest for x:y not found: manifest unknown"), Code::kNotFound);
  EXPECT_EQ(classifyPullError("pull access denied for x, repository does not exist"),
            Code::kPermissionDenied);
  EXPECT_EQ(classifyPullError("something odd"), Code::kInternal);
}

}  // namespace
}  // namespace lb::runtime::cii
