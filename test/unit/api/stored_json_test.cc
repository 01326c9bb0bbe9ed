// The read path answers from stored bytes with meta.revision filled in; it
// must give exactly what decoding and re-encoding would.

#include <gtest/gtest.h>

#include "api/context.h"

namespace lb::api {
namespace {

template <class T>
void expectSameAsCodec(T obj) {
  obj.meta.revision = 0;
  storage::Object o{"/k", types::toJson(obj), 4242, 1};
  auto fast = storedWithRevision(o);
  ASSERT_TRUE(fast.isOk()) << fast.status().toString();
  obj.meta.revision = 4242;
  EXPECT_EQ(*fast, types::toJson(obj));
}

TEST(StoredJson, MatchesTheCodecForEveryReadKind) {
  types::Service svc;
  svc.meta.name = "web";
  svc.meta.namespace_ = "demo";
  svc.meta.labels = {{"revision", "x\"}{"}, {"meta", "{"}};  // keys that look like ours
  svc.meta.description = "a \"quoted\" {meta} [revision]";
  expectSameAsCodec(svc);
  types::Namespace ns;
  ns.meta.name = "demo";
  expectSameAsCodec(ns);
  types::Pod pod;
  pod.meta.name = "p";
  pod.status.ip = "10.0.0.1";
  expectSameAsCodec(pod);
  types::Deployment dep;
  dep.meta.name = "d";
  expectSameAsCodec(dep);
  types::Secret secret;
  secret.meta.name = "s";
  expectSameAsCodec(secret);
  types::Route route;
  route.meta.name = "r";
  expectSameAsCodec(route);
}

TEST(StoredJson, CorruptValuesAreInternalErrors) {
  for (std::string bad : {"", "not json", "[]", "{\"spec\":{}}", "{\"meta\":[]}",
                          "{\"meta\":{\"revision\":x}}", "{\"meta\":{\"name\":\"unterminated}}"}) {
    auto r = storedWithRevision(storage::Object{"/k", bad, 1, 1});
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInternal) << bad;
  }
}

TEST(StoredJson, MissingRevisionIsAdded) {
  auto r = storedWithRevision(storage::Object{"/k", "{\"meta\":{\"name\":\"a\"}}", 7, 1});
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(*r, "{\"meta\":{\"revision\":7,\"name\":\"a\"}}");
  auto e = storedWithRevision(storage::Object{"/k", "{\"meta\":{}}", 7, 1});
  ASSERT_TRUE(e.isOk());
  EXPECT_EQ(*e, "{\"meta\":{\"revision\":7}}");
}

}  // namespace
}  // namespace lb::api
