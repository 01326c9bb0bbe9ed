// Namespace quotas (spec.resources.limits: ram, cpu, pods, services): a
// write that would take the namespace's services past a limit is refused
// (403) naming the limit and the usage, and changes nothing; GET of the
// namespace shows what its services take.

#include "lastbackend/storage/keys.h"
#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;
namespace {

// Pods of serviceManifest request the defaults: 100m CPU and 64MB each.
constexpr const char* kQuota = R"(kind: Namespace
version: v1
meta: {name: team}
spec:
  resources:
    limits: {ram: 512MB, cpu: 500m, pods: 5, services: 2}
)";

class QuotaTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    auto r = apply("team", kQuota);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  client::HttpResponse createService(const std::string& name, int replicas) {
    return send("POST", "/namespace/team/service", serviceManifest(name, replicas).dump());
  }
};

TEST_F(QuotaTest, TheNamespaceShowsItsLimitsAndUsage) {
  ASSERT_EQ(createService("web", 3).status, 201);
  const Json ns = getJson("/namespace/team");
  EXPECT_EQ(ns["spec"]["resources"]["limits"]["pods"], 5);
  EXPECT_EQ(ns["spec"]["resources"]["limits"]["ram"], 512 << 20);  // bytes in JSON
  EXPECT_EQ(ns["status"]["usage"]["pods"], 3);
  EXPECT_EQ(ns["status"]["usage"]["services"], 1);
  EXPECT_EQ(ns["status"]["usage"]["cpu"], "300m");
  EXPECT_EQ(ns["status"]["usage"]["ram"], 192 << 20);
  // Not stored: the stored namespace has no usage.
  auto stored = store_->get(*storage::keys::namespaceKey("team"));
  ASSERT_TRUE(stored.isOk());
  EXPECT_EQ(stored->value.find("usage"), std::string::npos) << stored->value;
}

TEST_F(QuotaTest, ACreatePastALimitIsRefusedNamingItAndTheUsage) {
  ASSERT_EQ(createService("web", 3).status, 201);
  const std::string before = storeSnapshot();
  auto r = createService("api", 3);  // 6 pods, 600m CPU: cpu is checked before pods
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(json(r)["field"], "spec.resources.limits.cpu") << r.body;
  EXPECT_NE(r.body.find("500m allowed, 600m asked (in use 300m)"), std::string::npos) << r.body;
  EXPECT_EQ(storeSnapshot(), before) << "a refused write changes nothing";
  EXPECT_EQ(createService("api", 2).status, 201) << "what fits is taken";
  auto third = createService("db", 0);
  EXPECT_EQ(third.status, 403);
  EXPECT_EQ(json(third)["field"], "spec.resources.limits.services") << third.body;
}

TEST_F(QuotaTest, AnUpdateAndAnApplyAreCheckedAsTheStoreWouldBeAfter) {
  ASSERT_EQ(createService("web", 2).status, 201);
  // Scaling web itself: its old replicas are not counted twice.
  EXPECT_EQ(send("PUT", "/namespace/team/service/web", serviceManifest("web", 5).dump()).status,
            200);
  auto over = send("PUT", "/namespace/team/service/web", serviceManifest("web", 6).dump());
  EXPECT_EQ(over.status, 403) << over.body;
  EXPECT_EQ(json(over)["field"], "spec.resources.limits.cpu");
  // An apply that raises the limit in the same file takes the new limit.
  const std::string raise =
      std::string(kQuota).replace(std::string(kQuota).find("cpu: 500m"), 9, "cpu: 900m") + "---\n" +
      "kind: Service\nversion: v1\nmeta: {name: web}\nspec:\n  replicas: 5\n"
      "  template: {containers: [{name: main, image: {name: nginx}}]}\n" +
      "---\n" +
      "kind: Service\nversion: v1\nmeta: {name: api}\nspec:\n  replicas: 1\n"
      "  template: {containers: [{name: main, image: {name: nginx}}]}\n";
  auto refused = apply("team", raise);  // 6 pods of 5 allowed
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(json(refused)["field"], "spec.resources.limits.pods") << refused.body;
  EXPECT_NE(refused.body.find("5 allowed, 6 asked (in use 5)"), std::string::npos) << refused.body;
  EXPECT_EQ(getJson("/namespace/team")["spec"]["resources"]["limits"]["cpu"], "500m")
      << "nothing of a refused apply is written";
  auto dry = send("PUT", "/namespace/team/apply?dry-run=true", raise, "application/yaml");
  EXPECT_EQ(dry.status, 403) << "a dry run answers what the apply would";
}

TEST_F(QuotaTest, BadLimitsAreRefused) {
  auto r = apply("team",
                 "kind: Namespace\nversion: v1\nmeta: {name: team}\n"
                 "spec: {resources: {limits: {pods: -1}}}\n");
  EXPECT_EQ(r.status / 100, 4) << r.body;
  EXPECT_NE(r.body.find("spec.resources.limits"), std::string::npos) << r.body;
  r = apply("team",
            "kind: Namespace\nversion: v1\nmeta: {name: team}\n"
            "spec: {resources: {limits: {disks: 3}}}\n");
  EXPECT_EQ(r.status / 100, 4) << r.body;
  EXPECT_NE(r.body.find("disks"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace lb::api::testing
