// POST /namespace/{namespace}/service/{service}/rollback: the service's
// template becomes the one a kept deployment ran (the previous one, or the
// one named); replicas stay; bad requests are refused naming what is wrong
// and change nothing.

#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"
#include "lastbackend/types/deployment.h"
#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;
namespace {

class RollbackTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    createNamespace("demo");
    // web runs nginx:1.27 (d3); d2 ran nginx:1.25, d1 nginx:1.23.
    auto r = send("POST", "/namespace/demo/service", serviceManifest("web", 3, "nginx:1.27").dump());
    ASSERT_EQ(r.status, 201) << r.body;
    seedDeployment("d1", "nginx:1.23", "2026-12-01T10:00:00Z", types::State::kDestroyed);
    seedDeployment("d2", "nginx:1.25", "2026-12-02T10:00:00Z", types::State::kDestroyed);
    seedDeployment("d3", "nginx:1.27", "2026-12-03T10:00:00Z", types::State::kReady);
  }

  void seedDeployment(const std::string& name, const std::string& image,
                      const std::string& created, types::State state) {
    auto svc = types::parseJson<types::Service>(getJson("/namespace/demo/service/web").dump());
    ASSERT_TRUE(svc.isOk());
    types::Deployment d;
    d.meta.name = name;
    d.meta.namespace_ = "demo";
    d.meta.selflink = "demo:web:" + name;
    d.meta.created = created;
    d.spec.template_ = svc->spec.template_;
    d.spec.template_.containers.at(0).image.name = image;
    d.spec.replicas = 3;
    d.status.state = state;
    seed(*storage::keys::deploymentKey("demo", "web", name), types::toJson(d));
  }

  std::string image() {
    return getJson("/namespace/demo/service/web")["spec"]["template"]["containers"][0]["image"]
                  ["name"];
  }
  client::HttpResponse rollback(const std::string& body) {
    return send("POST", "/namespace/demo/service/web/rollback", body);
  }
};

TEST_F(RollbackTest, GoesToThePreviousSpecThenToANamedOne) {
  auto r = rollback("");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["deployment"], "d2");
  EXPECT_EQ(json(r)["service"]["spec"]["template"]["containers"][0]["image"]["name"],
            "nginx:1.25");
  EXPECT_EQ(image(), "nginx:1.25");
  EXPECT_EQ(getJson("/namespace/demo/service/web")["spec"]["replicas"], 3) << "replicas stay";

  // The previous spec of nginx:1.25 is now the newest other one: d3's.
  r = rollback("{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["deployment"], "d3");
  EXPECT_EQ(image(), "nginx:1.27");

  r = rollback(R"({"deployment": "d1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["deployment"], "d1");
  EXPECT_EQ(image(), "nginx:1.23");
}

TEST_F(RollbackTest, RefusesWhatItCannotDoAndChangesNothing) {
  const std::string before = storeSnapshot();
  auto r = rollback(R"({"deployment": "d3"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("already runs the spec of deployment 'd3'"), std::string::npos) << r.body;
  r = rollback(R"({"deployment": "nope"})");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("deployment 'nope' of service 'web' not found"), std::string::npos);
  r = rollback(R"({"deployment": 7})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("deployment"), std::string::npos) << r.body;
  r = rollback(R"({"deployment": "../x"})");
  EXPECT_EQ(r.status, 422) << r.body;
  r = rollback(R"({"to": "d1"})");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("to"), std::string::npos) << r.body;
  r = rollback("[1,");
  EXPECT_EQ(r.status / 100, 4) << r.body;
  r = send("POST", "/namespace/demo/service/nope/rollback", "");
  EXPECT_EQ(r.status, 404) << r.body;
  r = send("POST", "/namespace/nowhere/service/web/rollback", "");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("nowhere"), std::string::npos) << r.body;
  EXPECT_EQ(storeSnapshot(), before);
}

// A service with one spec ever has nothing to go back to.
TEST_F(RollbackTest, AServiceWithOneSpecHasNoPrevious) {
  auto r = send("POST", "/namespace/demo/service", serviceManifest("solo", 1, "redis").dump());
  ASSERT_EQ(r.status, 201) << r.body;
  r = send("POST", "/namespace/demo/service/solo/rollback", "");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("no earlier deployment"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace lb::api::testing
