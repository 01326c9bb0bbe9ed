// PUT /namespace/{namespace}/apply?dry-run=true: the plan of an apply,
// committed nowhere. It must leave the store byte-for-byte as it was and
// predict exactly what the real apply then does, say whether a new
// deployment would roll, and never show a secret's values.

#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/deployment.h"
#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;  // the shared fixture and manifests (test/support)
namespace {

class DryRunTest : public ApiFixture {
 protected:
  client::HttpResponse dryRun(const std::string& ns, const std::string& text,
                              const std::string& query = "?dry-run=true") {
    return send("PUT", "/namespace/" + ns + "/apply" + query, text, "application/yaml");
  }

  // The deployment the controller makes for an applied service's hash.
  void seedDeployment(const std::string& svc, const std::string& name, const std::string& hash) {
    types::Deployment d;
    d.meta.name = name;
    d.meta.namespace_ = "demo";
    d.meta.selflink = "demo:" + svc + ":" + name;
    d.spec.templateHash = hash;
    d.status.state = types::State::kReady;
    seed(*storage::keys::deploymentKey("demo", svc, name), types::toJson(d));
  }
};

// The item of kind/name in an answer; null when absent.
Json itemOf(const Json& answer, const std::string& kind, const std::string& name) {
  for (const auto& item : answer["items"])
    if (item["kind"] == kind && item["name"] == name) return item;
  return nullptr;
}

// kind/name -> action, for comparing a plan with the apply that follows.
std::map<std::string, std::string> actionsOf(const Json& answer) {
  std::map<std::string, std::string> out;
  for (const auto& item : answer["items"])
    out[item["kind"].get<std::string>() + "/" + item["name"].get<std::string>()] = item["action"];
  return out;
}

TEST_F(DryRunTest, PredictsTheApplyAndWritesNothing) {
  createNamespace("demo");
  const std::string file = joinDocuments({kServiceYaml, kSecretYaml, kRouteYaml});
  std::string snapshot = storeSnapshot();
  auto plan = dryRun("demo", file);
  ASSERT_EQ(plan.status, 200) << plan.body;
  EXPECT_EQ(storeSnapshot(), snapshot) << "a dry run writes nothing";
  EXPECT_EQ(json(plan)["dryRun"], true);
  Json web = itemOf(json(plan), "Service", "web");
  ASSERT_TRUE(web.is_object());
  EXPECT_EQ(web["action"], "created");
  EXPECT_EQ(web["rolls"], true);
  EXPECT_FALSE(web.contains("before"));
  EXPECT_NE(web["after"].get<std::string>().find("replicas: 2"), std::string::npos);

  auto real = apply("demo", file);
  ASSERT_EQ(real.status, 200) << real.body;
  EXPECT_EQ(actionsOf(json(plan)), actionsOf(json(real)));
  EXPECT_EQ(web["hash"], itemOf(json(real), "Service", "web")["hash"]);
  seedDeployment("web", "d1", web["hash"]);

  // Unchanged: the same again, nothing rolls.
  snapshot = storeSnapshot();
  plan = dryRun("demo", file);
  ASSERT_EQ(plan.status, 200) << plan.body;
  web = itemOf(json(plan), "Service", "web");
  EXPECT_EQ(web["action"], "unchanged");
  EXPECT_EQ(web["rolls"], false);
  EXPECT_EQ(web["before"], web["after"]);

  // Scaled: updated, the same deployment takes it.
  std::string scaled = kServiceYaml;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 4");
  plan = dryRun("demo", joinDocuments({scaled, kSecretYaml, kRouteYaml}));
  web = itemOf(json(plan), "Service", "web");
  EXPECT_EQ(web["action"], "updated");
  EXPECT_EQ(web["rolls"], false);
  EXPECT_NE(web["before"].get<std::string>().find("replicas: 2"), std::string::npos);
  EXPECT_NE(web["after"].get<std::string>().find("replicas: 4"), std::string::npos);

  // A new image: a new deployment.
  std::string image = kServiceYaml;
  image.replace(image.find("nginx:1.25"), 10, "nginx:1.27");
  plan = dryRun("demo", joinDocuments({image, kSecretYaml, kRouteYaml}));
  web = itemOf(json(plan), "Service", "web");
  EXPECT_EQ(web["action"], "updated");
  EXPECT_EQ(web["rolls"], true);
  EXPECT_EQ(storeSnapshot(), snapshot) << "none of the plans wrote anything";

  real = apply("demo", joinDocuments({image, kSecretYaml, kRouteYaml}));
  EXPECT_EQ(actionsOf(json(plan)), actionsOf(json(real)));
  EXPECT_EQ(web["hash"], itemOf(json(real), "Service", "web")["hash"]);
}

// A changed secret that a service's env takes rolls the service, though
// the service document itself is unchanged: the plan hashes the secret as
// the apply would store it.
TEST_F(DryRunTest, ASecretChangeRollsTheServicesThatTakeIt) {
  createNamespace("demo");
  std::string withEnv = kServiceYaml;
  withEnv += "      env:\n      - name: PASSWORD\n        secret: {name: db, key: password}\n";
  auto r = apply("demo", joinDocuments({withEnv, kSecretYaml}));
  ASSERT_EQ(r.status, 200) << r.body;
  seedDeployment("web", "d1", itemOf(json(r), "Service", "web")["hash"]);

  std::string changed = kSecretYaml;
  changed.replace(changed.find("hunter2"), 7, "hunter3");
  auto plan = dryRun("demo", joinDocuments({withEnv, changed}));
  ASSERT_EQ(plan.status, 200) << plan.body;
  Json web = itemOf(json(plan), "Service", "web");
  EXPECT_EQ(web["action"], "unchanged");
  EXPECT_EQ(web["rolls"], true);
  Json db = itemOf(json(plan), "Secret", "db");
  EXPECT_EQ(db["action"], "updated");

  // Values never leave the api; which of them changes does.
  EXPECT_EQ(plan.body.find("hunter"), std::string::npos) << plan.body;
  EXPECT_EQ(plan.body.find("admin"), std::string::npos) << plan.body;
  const std::string before = db["before"], after = db["after"];
  EXPECT_NE(before.find("*** (before)"), std::string::npos) << before;
  EXPECT_NE(after.find("*** (after)"), std::string::npos) << after;
  EXPECT_NE(after.find("value: \"***\""), std::string::npos) << "username is the same: " << after;

  auto real = apply("demo", joinDocuments({withEnv, changed}));
  EXPECT_EQ(web["hash"], itemOf(json(real), "Service", "web")["hash"]);
}

TEST_F(DryRunTest, ErrorsAreTheApplysOwn) {
  // No namespace: the same 404 a real apply answers.
  auto plan = dryRun("nowhere", kServiceYaml);
  auto real = apply("nowhere", kServiceYaml);
  EXPECT_EQ(plan.status, 404) << plan.body;
  EXPECT_EQ(plan.status, real.status);
  EXPECT_EQ(json(plan)["message"], json(real)["message"]);

  createNamespace("demo");
  std::string bad = kServiceYaml;
  bad.replace(bad.find("replicas: 2"), 11, "replicas: x");
  plan = dryRun("demo", bad);
  EXPECT_EQ(plan.status, 422) << plan.body;
  EXPECT_EQ(json(plan)["message"], json(apply("demo", bad))["message"]);

  plan = dryRun("demo", kServiceYaml, "?dry-run=maybe");
  EXPECT_EQ(plan.status, 422) << plan.body;
  EXPECT_NE(plan.body.find("dry-run"), std::string::npos) << plan.body;
  EXPECT_EQ(getJson("/namespace/demo/service").size(), 0u);

  plan = dryRun("demo", kServiceYaml, "?dry-run=false");
  EXPECT_EQ(plan.status, 200) << plan.body;
  EXPECT_FALSE(json(plan).contains("dryRun"));
  EXPECT_EQ(getJson("/namespace/demo/service").size(), 1u) << "dry-run=false applies";
}

}  // namespace
}  // namespace lb::api::testing
