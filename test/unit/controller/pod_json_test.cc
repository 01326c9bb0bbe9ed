// PodJson must write exactly what types::toJson writes (stored pods and node
// manifests are compared byte for byte elsewhere).

#include "controller/pod_json.h"

#include <gtest/gtest.h>

#include "lastbackend/types/codec.h"

namespace lb::controller {
namespace {

types::Pod pod(const std::string& dep, const std::string& name, const std::string& image) {
  types::Pod p;
  p.meta.name = name;
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:" + dep + ":" + name;
  p.meta.labels["app"] = "web";
  p.meta.labels["status"] = "tricky";  // a key named like a Pod field
  p.meta.created = "2026-11-26T10:00:00Z";
  p.meta.revision = 42;  // never stored
  types::ContainerSpec c;
  c.name = "main";
  c.image.name = image;
  c.env.push_back({"A", std::string("1"), std::nullopt, std::nullopt});
  c.resources.request = {64 << 20, 100};
  p.spec.template_.containers.push_back(c);
  return p;
}

std::string expected(types::Pod p) {
  p.meta.revision = 0;
  return types::toJson(p);
}

TEST(PodJsonTest, SameBytesAsTheCodec) {
  PodJson enc;
  types::Pod a = pod("d1", "p1", "nginx:1");
  EXPECT_EQ(enc.encode(a), expected(a));  // default status: omitted
  a.status.node = "n1";
  a.status.state = types::State::kProvision;
  EXPECT_EQ(enc.encode(a), expected(a));
  a.status.ready = true;
  a.status.ip = "10.0.0.1";
  a.status.containers.push_back({"id", "main", "nginx:1", "started", true, 2, ""});
  EXPECT_EQ(enc.encode(a), expected(a));
}

TEST(PodJsonTest, SharedSpecFollowsChanges) {
  PodJson enc;
  types::Pod a = pod("d1", "p1", "nginx:1");
  types::Pod b = pod("d1", "p2", "nginx:1");
  EXPECT_EQ(enc.encode(a), expected(a));
  EXPECT_EQ(enc.encode(b), expected(b));      // from the cached spec
  types::Pod c = pod("d1", "p3", "nginx:2");  // same owner, other spec
  EXPECT_EQ(enc.encode(c), expected(c));
  EXPECT_EQ(enc.encode(a), expected(a));
  types::Pod e = pod("d2", "p1", "redis:7");
  e.spec.selector.node = "n9";
  EXPECT_EQ(enc.encode(e), expected(e));
}

TEST(PodJsonTest, DefaultPartsAreOmittedLikeTheCodec) {
  PodJson enc;
  types::Pod empty;
  EXPECT_EQ(enc.encode(empty), expected(empty));
  types::Pod noSpec;
  noSpec.meta.selflink = "a:b:c:d";
  noSpec.status.node = "n1";
  EXPECT_EQ(enc.encode(noSpec), expected(noSpec));
}

}  // namespace
}  // namespace lb::controller
