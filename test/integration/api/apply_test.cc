// PUT /namespace/{namespace}/apply: create -> update -> unchanged, one
// transaction, all-or-nothing validation, the Namespace document.

#include "lastbackend/types/codec.h"
#include "lastbackend/types/service.h"
#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;  // the shared fixture and manifests (test/support)
namespace {

class ApplyTest : public ApiFixture {};

Json items(std::initializer_list<std::tuple<std::string, std::string, std::string>> list) {
  Json arr = Json::array();
  for (const auto& [kind, name, action] : list)
    arr.push_back({{"action", action}, {"kind", kind}, {"name", name}});
  return Json{{"items", arr}};
}

// An apply answer without the services' deployment hashes (tested on
// their own below).
Json actions(Json answer) {
  for (auto& item : answer["items"]) item.erase("hash");
  return answer;
}

std::string hashOf(const Json& answer, const std::string& service) {
  for (const auto& item : answer["items"])
    if (item["kind"] == "Service" && item["name"] == service) return item.value("hash", "");
  return "";
}

TEST_F(ApplyTest, CreateThenUpdateThenUnchanged) {
  createNamespace("demo");
  std::string file = joinDocuments({kServiceYaml, kSecretYaml, kRouteYaml});
  auto before = store_->info()->revision;
  auto r = apply("demo", file);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(actions(json(r)), items({{"Service", "web", "created"},
                                     {"Secret", "db", "created"},
                                     {"Route", "www", "created"}}));
  EXPECT_EQ(store_->info()->revision, before + 1) << "one transaction for all documents";
  auto svc = getJson("/namespace/demo/service/web");
  EXPECT_EQ(svc["spec"]["replicas"], 2);
  EXPECT_EQ(svc["meta"]["labels"]["app"], "web");

  // Unchanged: nothing written at all.
  std::string snapshot = storeSnapshot();
  r = apply("demo", file);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(actions(json(r)), items({{"Service", "web", "unchanged"},
                                     {"Secret", "db", "unchanged"},
                                     {"Route", "www", "unchanged"}}));
  EXPECT_EQ(storeSnapshot(), snapshot);

  // Update one document: only it changes.
  std::string scaled = kServiceYaml;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 4");
  clock_.advance(std::chrono::seconds(10));
  r = apply("demo", joinDocuments({scaled, kSecretYaml, kRouteYaml}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(actions(json(r)), items({{"Service", "web", "updated"},
                                     {"Secret", "db", "unchanged"},
                                     {"Route", "www", "unchanged"}}));
  auto updated = getJson("/namespace/demo/service/web");
  EXPECT_EQ(updated["spec"]["replicas"], 4);
  EXPECT_EQ(updated["meta"]["created"], svc["meta"]["created"]);
  EXPECT_NE(updated["meta"]["updated"], svc["meta"]["updated"]);
  EXPECT_EQ(getJson("/namespace/demo/secret/db")["meta"]["revision"],
            getJson("/namespace/demo/route/www")["meta"]["revision"]);
}

TEST_F(ApplyTest, JsonManifestsAndContentTypes) {
  createNamespace("demo");
  Json arr = Json::array({serviceManifest("a"), serviceManifest("b")});
  auto r = apply("demo", arr.dump(), "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["items"].size(), 2u);
  for (std::string type :
       {"text/yaml", "application/x-yaml", "text/plain", "application/yaml; charset=utf-8"}) {
    r = apply("demo", kServiceYaml, type);
    EXPECT_EQ(r.status, 200) << type << ": " << r.body;
  }
  r = apply("demo", kServiceYaml, "application/xml");
  EXPECT_EQ(r.status, 415);
}

TEST_F(ApplyTest, OneBadDocumentWritesNothing) {
  createNamespace("demo");
  std::string bad = R"(kind: Config
version: v1
meta:
  name: cfg
spec:
  type: text
  data:
  - key: a
)";
  std::string snapshot = storeSnapshot();
  auto r = apply("demo", joinDocuments({kServiceYaml, kSecretYaml, bad}));
  ASSERT_EQ(r.status, 422) << r.body;
  auto err = json(r);
  EXPECT_NE(err["message"].get<std::string>().find("document 3"), std::string::npos) << r.body;
  EXPECT_EQ(err["field"], "spec.data[0]");
  EXPECT_EQ(storeSnapshot(), snapshot);

  // A wrong type deep inside: the field path is exact.
  std::string wrong = kServiceYaml;
  wrong.replace(wrong.find("replicas: 2"), 11, "replicas: [1]");
  r = apply("demo", joinDocuments({kSecretYaml, wrong}));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json(r)["field"], "spec.replicas");
  EXPECT_NE(json(r)["message"].get<std::string>().find("document 2"), std::string::npos);

  // Unknown kind.
  r = apply("demo", joinDocuments({kSecretYaml, "kind: Gadget\nversion: v1\nmeta:\n  name: x\n"}));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json(r)["field"], "kind");
  EXPECT_EQ(storeSnapshot(), snapshot);
}

TEST_F(ApplyTest, NamespaceDocumentCreatesOrUpdatesTheNamespace) {
  std::string nsDoc =
      "kind: Namespace\nversion: v1\nmeta:\n  name: fresh\n  description: from a file\n";
  // Without the Namespace document a missing namespace is 404.
  EXPECT_EQ(apply("fresh", kServiceYaml).status, 404);
  auto r = apply("fresh", joinDocuments({nsDoc, kServiceYaml}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(actions(json(r)),
            items({{"Namespace", "fresh", "created"}, {"Service", "web", "created"}}));
  auto ns = getJson("/namespace/fresh");
  EXPECT_EQ(ns["meta"]["description"], "from a file");
  EXPECT_EQ(ns["spec"]["domain"]["internal"], "fresh.lb.local");
  r = apply("fresh", joinDocuments({nsDoc, kServiceYaml}));
  EXPECT_EQ(actions(json(r)),
            items({{"Namespace", "fresh", "unchanged"}, {"Service", "web", "unchanged"}}));

  // Its name must be the path's.
  std::string snapshot = storeSnapshot();
  r = apply("fresh",
            joinDocuments({kServiceYaml, "kind: Namespace\nversion: v1\nmeta:\n  name: other\n"}));
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json(r)["field"], "meta.name");
  EXPECT_NE(json(r)["message"].get<std::string>().find("document 2"), std::string::npos);
  EXPECT_EQ(storeSnapshot(), snapshot);
}

TEST_F(ApplyTest, DuplicatesAndFileReferencesAreRejected) {
  createNamespace("demo");
  std::string snapshot = storeSnapshot();
  auto r = apply("demo", joinDocuments({kServiceYaml, kServiceYaml}));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json(r)["field"], "meta.name");

  // A `file:` item would make the server read its own files.
  r = apply("demo",
            "kind: Secret\nversion: v1\nmeta:\n  name: s\nspec:\n  type: file\n  data:\n  - key: "
            "k\n    file: /etc/passwd\n");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(json(r)["field"], "spec.data[0].file");
  EXPECT_EQ(r.body.find("root:"), std::string::npos);
  r = apply("demo",
            joinDocuments({kServiceYaml,
                           "kind: Config\nversion: v1\nmeta:\n  name: c\nspec:\n  data:\n  - key: "
                           "k\n    file: x.txt\n"}));
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(json(r)["message"].get<std::string>().find("document 2"), std::string::npos);
  EXPECT_EQ(storeSnapshot(), snapshot);
}

TEST_F(ApplyTest, ApplyToAServiceBeingDestroyedIsAConflict) {
  createNamespace("demo");
  ASSERT_EQ(apply("demo", kServiceYaml).status, 200);
  seed("/deployment/demo:web:d1", R"({"meta":{"name":"d1"}})");
  ASSERT_EQ(send("DELETE", "/namespace/demo/service/web").status, 200);
  std::string scaled = kServiceYaml;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 9");
  EXPECT_EQ(apply("demo", scaled).status, 409);
}

TEST_F(ApplyTest, ConcurrentAppliesAllSucceedOrConflictCleanly) {
  createNamespace("demo");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, conflicts{0}, other{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto c = makeClient(kToken);
      std::string doc = kServiceYaml;
      doc.replace(doc.find("replicas: 2"), 11, "replicas: " + std::to_string(t + 1));
      auto r = c->send("PUT", "/namespace/demo/apply", {}, doc, "application/yaml");
      if (r.isOk() && r->status == 200)
        ++ok;
      else if (r.isOk() && r->status == 409)
        ++conflicts;
      else
        ++other;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(ok.load(), 1);
  EXPECT_EQ(getJson("/namespace/demo/service").size(), 1u);
}

// Each Service item carries the hash its deployment will have: the
// template's alone, or with the data of the secrets and configs its env
// takes, so a changed secret gives a new hash and an unrelated one does not.
TEST_F(ApplyTest, ServiceItemsCarryTheirDeploymentHash) {
  createNamespace("demo");
  auto r = apply("demo", kServiceYaml);
  ASSERT_EQ(r.status, 200) << r.body;
  lb::types::Service plain;
  ASSERT_TRUE(lb::types::fromJson(getJson("/namespace/demo/service/web").dump(), &plain).isOk());
  EXPECT_EQ(hashOf(json(r), "web"), lb::types::templateHash(plain.spec.template_));
  EXPECT_TRUE(json(r)["items"][0].contains("hash"));

  std::string withEnv = kServiceYaml;
  withEnv += "      env:\n      - name: PASSWORD\n        secret: {name: db, key: password}\n";
  r = apply("demo", joinDocuments({withEnv, kSecretYaml}));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string h1 = hashOf(json(r), "web");
  EXPECT_EQ(h1.size(), 16u);
  EXPECT_NE(h1, lb::types::templateHash(plain.spec.template_));
  r = apply("demo", joinDocuments({withEnv, kSecretYaml}));
  EXPECT_EQ(hashOf(json(r), "web"), h1) << "unchanged";
  std::string otherSecret = kSecretYaml;
  otherSecret.replace(otherSecret.find("name: db"), 8, "name: xx");
  r = apply("demo", joinDocuments({withEnv, otherSecret}));
  EXPECT_EQ(hashOf(json(r), "web"), h1) << "a secret the service does not take";
  std::string changed = kSecretYaml;
  changed.replace(changed.find("hunter2"), 7, "hunter3");
  r = apply("demo", joinDocuments({withEnv, changed}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(hashOf(json(r), "web"), h1) << "its secret changed";
}

}  // namespace
}  // namespace lb::api::testing
