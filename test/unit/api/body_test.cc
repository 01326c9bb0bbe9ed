// Request-body decoding and the shared write plan, without a server.

#include "api/body.h"

#include <gtest/gtest.h>

#include "http/metrics_registry.h"
#include "api/instrumented_storage.h"
#include "api/kinds.h"

namespace lb::api {
namespace {

http::Request jsonRequest(std::string body, std::string type = "application/json") {
  http::Request r;
  r.body = std::move(body);
  if (!type.empty()) r.headers.emplace_back("Content-Type", std::move(type));
  return r;
}

TEST(BodyTest, ManifestBodyDefaultsKindVersionAndName) {
  auto b = decodeManifestBody(jsonRequest(R"({"spec":{"type":"text"}})"), types::Kind::kSecret,
                              "demo", "pw");
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  EXPECT_EQ(b->doc.kind, types::Kind::kSecret);
  EXPECT_EQ(b->doc.version, "v1");
  EXPECT_EQ(b->doc.meta.name, "pw");
  EXPECT_FALSE(b->revision);
}

TEST(BodyTest, ManifestBodyTakesRevisionAndChecksNamespace) {
  auto b =
      decodeManifestBody(jsonRequest(R"({"meta":{"name":"pw","namespace":"demo","revision":7}})"),
                         types::Kind::kSecret, "demo", "");
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  EXPECT_EQ(b->revision, 7);
  b = decodeManifestBody(jsonRequest(R"({"meta":{"name":"pw","namespace":"x"}})"),
                         types::Kind::kSecret, "demo", "");
  EXPECT_EQ(b.status().field(), "meta.namespace");
  b = decodeManifestBody(jsonRequest(R"({"meta":{"name":"pw","revision":1.5}})"),
                         types::Kind::kSecret, "demo", "");
  EXPECT_EQ(b.status().field(), "meta.revision");
}

TEST(BodyTest, ManifestBodyRejectsOtherKindsAndRenames) {
  auto b = decodeManifestBody(jsonRequest(R"({"kind":"Route","meta":{"name":"x"}})"),
                              types::Kind::kSecret, "d", "");
  EXPECT_EQ(b.status().field(), "kind");
  EXPECT_NE(b.status().message().find("expected kind Secret"), std::string::npos);
  b = decodeManifestBody(jsonRequest(R"({"meta":{"name":"x"}})"), types::Kind::kSecret, "d", "y");
  EXPECT_EQ(b.status().field(), "meta.name");
}

TEST(BodyTest, ContentTypes) {
  EXPECT_TRUE(requireJsonBody(jsonRequest("{}", "")).isOk());
  EXPECT_TRUE(requireJsonBody(jsonRequest("{}", "Application/JSON; charset=utf-8")).isOk());
  EXPECT_EQ(requireJsonBody(jsonRequest("{}", "text/yaml")).code(), Code::kUnsupported);
  for (const char* t :
       {"application/yaml", "text/yaml", "application/x-yaml", "application/json", "text/plain"})
    EXPECT_TRUE(checkManifestContentType(jsonRequest("", t)).isOk()) << t;
  EXPECT_EQ(checkManifestContentType(jsonRequest("", "multipart/form-data")).code(),
            Code::kUnsupported);
}

TEST(BodyTest, FileReferencesAreFoundInYamlAndJson) {
  EXPECT_TRUE(
      rejectFileReferences("kind: Secret\nspec:\n  data:\n  - key: a\n    value: b\n").isOk());
  Status s = rejectFileReferences(
      "kind: Secret\nspec:\n  data:\n  - key: a\n    value: b\n  - key: c\n    file: "
      "/etc/passwd\n");
  EXPECT_EQ(s.field(), "spec.data[1].file");
  s = rejectFileReferences(
      "---\nkind: Service\n---\nkind: Config\nspec:\n  data:\n  - {key: a, file: x}\n");
  EXPECT_EQ(s.field(), "spec.data[0].file");
  EXPECT_NE(s.message().find("document 2"), std::string::npos);
  s = rejectFileReferences(
      R"([{"kind":"Secret"},{"kind":"Secret","spec":{"data":[{"key":"a","file":"f"}]}}])");
  EXPECT_EQ(s.field(), "spec.data[0].file");
  // An alias cannot hide one either: aliases are expanded before the scan.
  s = rejectFileReferences("x: &f {key: a, file: /etc/hosts}\nspec:\n  data:\n  - *f\n");
  EXPECT_EQ(s.field(), "spec.data[0].file");
  EXPECT_TRUE(rejectFileReferences("{not yaml: [").isOk());  // parseManifests reports it
}

TEST(BodyTest, NamespaceBody) {
  auto b = decodeNamespaceBody(
      jsonRequest(R"({"name":"demo","description":"d","labels":{"a":"b"}})"), true);
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->name, "demo");
  EXPECT_EQ(*b->description, "d");
  EXPECT_EQ(b->labels->at("a"), "b");
  EXPECT_EQ(decodeNamespaceBody(jsonRequest(R"({"description":"d"})"), true).status().field(),
            "name");
  EXPECT_EQ(decodeNamespaceBody(jsonRequest(R"({"name":"x"})"), false).status().field(), "name");
  EXPECT_EQ(decodeNamespaceBody(jsonRequest(R"({"revision":-2})"), false).status().field(),
            "revision");
}

types::Service service(int replicas) {
  types::Service s;
  s.meta.name = "web";
  s.meta.namespace_ = "demo";
  s.spec.replicas = replicas;
  return s;
}

TEST(PlanTest, CreateUpdateUnchanged) {
  auto created = planWrite<types::Service>(std::nullopt, service(1), "/service/demo:web", "T1");
  ASSERT_TRUE(created.isOk());
  EXPECT_EQ(created->action, Action::kCreated);
  EXPECT_EQ(created->op->expect, 0);
  EXPECT_EQ(created->object.meta.created, "T1");

  types::Service stored = created->object;
  stored.meta.revision = 5;
  stored.status.message = "running";
  auto same = planWrite<types::Service>(stored, service(1), "/service/demo:web", "T2");
  EXPECT_EQ(same->action, Action::kUnchanged);
  EXPECT_FALSE(same->op);

  auto changed = planWrite<types::Service>(stored, service(3), "/service/demo:web", "T2");
  EXPECT_EQ(changed->action, Action::kUpdated);
  EXPECT_EQ(changed->op->expect, 5);
  EXPECT_EQ(changed->object.meta.created, "T1");
  EXPECT_EQ(changed->object.meta.updated, "T2");
  EXPECT_EQ(changed->object.status.message, "running");  // status is kept
  // The key revision is the truth; the stored value never carries a stale one.
  EXPECT_EQ(changed->op->value.find("\"revision\":5"), std::string::npos) << changed->op->value;

  stored.status.state = types::State::kDestroy;
  EXPECT_EQ(planWrite<types::Service>(stored, service(3), "/k", "T3").status().code(),
            Code::kConflict);
}

TEST(PlanTest, DefaultsKeepOmittedFieldsUnchanged) {
  ClusterOptions c{"c", "", "lb.local", "example.io"};
  types::Route r;
  r.meta.name = "www";
  r.meta.namespace_ = "demo";
  normalize(r, c);
  EXPECT_EQ(r.spec.domain, "www.demo.example.io");
  r.spec.domain = "custom.io";
  normalize(r, c);
  EXPECT_EQ(r.spec.domain, "custom.io");
  types::Namespace ns;
  ns.meta.name = "demo";
  normalize(ns, c);
  EXPECT_EQ(ns.spec.domain.internal, "demo.lb.local");
  EXPECT_EQ(ns.spec.domain.external, "demo.example.io");
}

TEST(InstrumentedStorageTest, CountsOperationsByResult) {
  storage::Options o;
  o.driver = "mock";
  auto inner = storage::open(o);
  ASSERT_TRUE(inner.isOk());
  http::MetricsRegistry metrics;
  InstrumentedStorage store(std::shared_ptr<storage::Storage>(std::move(*inner)), metrics);
  ASSERT_TRUE(store.put("/a", "1").isOk());
  EXPECT_EQ(store.get("/b").status().code(), Code::kNotFound);
  EXPECT_TRUE(store.list("/").isOk());
  EXPECT_EQ(metrics.counterValue(kStoreOpsMetric, {{"op", "txn"}, {"result", "ok"}}), 1);
  EXPECT_EQ(metrics.counterValue(kStoreOpsMetric, {{"op", "get"}, {"result", "NotFound"}}), 1);
  EXPECT_EQ(metrics.counterValue(kStoreOpsMetric, {{"op", "list"}, {"result", "ok"}}), 1);
  EXPECT_NE(metrics.render().find(kStoreLatencyMetric), std::string::npos);
}

}  // namespace
}  // namespace lb::api
