// CRUD of every kind through the real server, the service's children, nodes,
// components and the cluster summary.

#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;  // the shared fixture and manifests (test/support)
namespace {

class CrudTest : public ApiFixture {};

TEST_F(CrudTest, HealthIsPublic) {
  auto anon = makeClient("");
  auto r = anon->send("GET", "/health");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json(*r), Json({{"status", "ok"}}));
}

TEST_F(CrudTest, NamespaceLifecycle) {
  EXPECT_EQ(getJson("/namespace"), Json::array());
  auto r =
      send("POST", "/namespace",
           Json{{"name", "demo"}, {"description", "demo ns"}, {"labels", {{"team", "a"}}}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto ns = json(r);
  EXPECT_EQ(ns["meta"]["name"], "demo");
  EXPECT_EQ(ns["meta"]["selflink"], "demo");
  EXPECT_EQ(ns["meta"]["description"], "demo ns");
  EXPECT_EQ(ns["meta"]["labels"]["team"], "a");
  EXPECT_EQ(ns["meta"]["created"], "2023-11-14T22:13:20Z");
  EXPECT_GT(ns["meta"]["revision"].get<int64_t>(), 0);
  EXPECT_EQ(ns["spec"]["domain"]["internal"], "demo.lb.local");
  EXPECT_EQ(ns["spec"]["domain"]["external"], "demo.example.test");

  EXPECT_EQ(send("POST", "/namespace", Json{{"name", "demo"}}.dump()).status, 409);
  EXPECT_EQ(getJson("/namespace").size(), 1u);
  EXPECT_EQ(getJson("/namespace/demo")["meta"]["revision"], ns["meta"]["revision"]);

  clock_.advance(std::chrono::seconds(60));
  r = send("PUT", "/namespace/demo", Json{{"description", "changed"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto updated = json(r);
  EXPECT_EQ(updated["meta"]["description"], "changed");
  EXPECT_EQ(updated["meta"]["labels"]["team"], "a");  // untouched
  EXPECT_EQ(updated["meta"]["updated"], "2023-11-14T22:14:20Z");
  EXPECT_EQ(updated["meta"]["created"], "2023-11-14T22:13:20Z");
  EXPECT_GT(updated["meta"]["revision"].get<int64_t>(), ns["meta"]["revision"].get<int64_t>());

  // Same values again: nothing is written.
  std::string before = storeSnapshot();
  EXPECT_EQ(send("PUT", "/namespace/demo", Json{{"description", "changed"}}.dump()).status, 200);
  EXPECT_EQ(storeSnapshot(), before);

  // A stale revision is refused.
  r = send("PUT", "/namespace/demo",
           Json{{"description", "x"}, {"revision", ns["meta"]["revision"]}}.dump());
  EXPECT_EQ(r.status, 409) << r.body;

  r = send("DELETE", "/namespace/demo");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["meta"]["name"], "demo");
  EXPECT_EQ(send("GET", "/namespace/demo").status, 404);
  EXPECT_EQ(send("DELETE", "/namespace/demo").status, 404);
}

struct KindCase {
  std::string word;
  Json manifest;  // POST body
  Json changed;   // PUT body (a change of spec)
};

std::vector<KindCase> kindCases() {
  auto data = [](const std::string& kind, const std::string& name, const std::string& v) {
    return Json{
        {"kind", kind},
        {"meta", {{"name", name}}},
        {"spec", {{"type", "text"}, {"data", Json::array({{{"key", "k"}, {"value", v}}})}}}};
  };
  auto route = [](int port) {
    return Json{{"meta", {{"name", "www"}}},
                {"spec",
                 {{"port", port},
                  {"rules", Json::array({{{"path", "/"}, {"service", "web"}, {"port", 80}}})}}}};
  };
  auto volume = [](const std::string& size) {
    return Json{{"kind", "Volume"},
                {"version", "v1"},
                {"meta", {{"name", "data"}}},
                {"spec", {{"capacity", {{"storage", size}}}}}};
  };
  return {
      {"service", serviceManifest("web", 1), serviceManifest("web", 3)},
      {"secret", data("Secret", "pw", "s3cret"), data("Secret", "pw", "other")},
      {"config", data("Config", "cfg", "a=1"), data("Config", "cfg", "a=2")},
      {"route", route(80), route(443)},
      {"volume", volume("1GB"), volume("2GB")},
  };
}

TEST_F(CrudTest, EveryKindCreateReadUpdateDelete) {
  createNamespace("demo");
  for (const auto& c : kindCases()) {
    SCOPED_TRACE(c.word);
    const std::string base = "/namespace/demo/" + c.word;
    const std::string name = c.manifest["meta"]["name"];
    EXPECT_EQ(getJson(base), Json::array());

    auto r = send("POST", base, c.manifest.dump());
    ASSERT_EQ(r.status, 201) << r.body;
    auto created = json(r);
    EXPECT_EQ(created["meta"]["name"], name);
    EXPECT_EQ(created["meta"]["namespace"], "demo");
    EXPECT_EQ(created["meta"]["selflink"], "demo:" + name);
    int64_t rev = created["meta"]["revision"];
    EXPECT_GT(rev, 0);
    EXPECT_EQ(send("POST", base, c.manifest.dump()).status, 409);

    auto list = getJson(base);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0], created);
    EXPECT_EQ(getJson(base + "/" + name), created);

    // PUT of the same manifest: unchanged, nothing written.
    std::string before = storeSnapshot();
    r = send("PUT", base + "/" + name, c.manifest.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json(r)["meta"]["revision"], rev);
    EXPECT_EQ(storeSnapshot(), before);

    // PUT of a change, with the current revision.
    Json changed = c.changed;
    changed["meta"]["revision"] = rev;
    r = send("PUT", base + "/" + name, changed.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    auto updated = json(r);
    EXPECT_GT(updated["meta"]["revision"].get<int64_t>(), rev);
    EXPECT_NE(updated["spec"], created["spec"]);
    EXPECT_EQ(updated["meta"]["created"], created["meta"]["created"]);

    // The same revision again is stale now.
    r = send("PUT", base + "/" + name, changed.dump());
    EXPECT_EQ(r.status, 409) << r.body;

    r = send("DELETE", base + "/" + name);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json(r)["meta"]["name"], name);
    EXPECT_EQ(send("GET", base + "/" + name).status, 404);
    EXPECT_EQ(send("DELETE", base + "/" + name).status, 404);
  }
}

TEST_F(CrudTest, SecretDataIsBase64OnTheWire) {
  createNamespace("demo");
  auto r = send("POST", "/namespace/demo/secret",
                Json{{"meta", {{"name", "pw"}}},
                     {"spec",
                      {{"type", "auth"},
                       {"data", Json::array({{{"key", "username"}, {"value", "admin"}},
                                             {{"key", "password"}, {"value", "hunter2"}}})}}}}
                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto s = getJson("/namespace/demo/secret/pw");
  EXPECT_EQ(s["spec"]["type"], "auth");
  EXPECT_EQ(s["spec"]["data"]["password"], "aHVudGVyMg==");
}

TEST_F(CrudTest, RouteGetsDefaultDomain) {
  createNamespace("demo");
  auto r = send("POST", "/namespace/demo/route",
                Json{{"meta", {{"name", "www"}}},
                     {"spec", {{"rules", Json::array({{{"service", "web"}, {"port", 80}}})}}}}
                    .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json(r)["spec"]["domain"], "www.demo.example.test");
}

TEST_F(CrudTest, ObjectsNeedTheirNamespace) {
  EXPECT_EQ(send("GET", "/namespace/nope/service").status, 404);
  EXPECT_EQ(send("POST", "/namespace/nope/service", serviceManifest("web").dump()).status, 404);
  EXPECT_EQ(send("GET", "/namespace/nope/service/web").status, 404);
  auto r = send("GET", "/namespace/nope/secret/pw");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("namespace 'nope'"), std::string::npos) << r.body;
}

TEST_F(CrudTest, ServiceChildrenAreReadOnlyViews) {
  createNamespace("demo");
  ASSERT_EQ(send("POST", "/namespace/demo/service", serviceManifest("web").dump()).status, 201);
  EXPECT_EQ(getJson("/namespace/demo/service/web/deployment"), Json::array());
  seed(
      "/deployment/demo:web:d1",
      R"({"meta":{"name":"d1","namespace":"demo","selflink":"demo:web:d1"},"spec":{"replicas":1}})");
  seed(
      "/pod/demo:web:d1:p1",
      R"({"meta":{"name":"p1","namespace":"demo","selflink":"demo:web:d1:p1"},"status":{"node":"n1"}})");
  seed("/pod/demo:web:d2:p9", R"({"meta":{"name":"p9"}})");  // another deployment
  auto deps = getJson("/namespace/demo/service/web/deployment");
  ASSERT_EQ(deps.size(), 1u);
  EXPECT_EQ(deps[0]["meta"]["name"], "d1");
  EXPECT_GT(deps[0]["meta"]["revision"].get<int64_t>(), 0);
  EXPECT_EQ(getJson("/namespace/demo/service/web/deployment/d1")["meta"]["selflink"],
            "demo:web:d1");
  EXPECT_EQ(send("GET", "/namespace/demo/service/web/deployment/d2").status, 404);
  auto pods = getJson("/namespace/demo/service/web/deployment/d1/pod");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0]["meta"]["name"], "p1");
  EXPECT_EQ(send("GET", "/namespace/demo/service/nope/deployment").status, 404);

  auto logs = send("GET", "/namespace/demo/service/web/logs");
  EXPECT_EQ(logs.status, 503);
  EXPECT_NE(logs.body.find("no node agent reachable"), std::string::npos) << logs.body;
  EXPECT_EQ(send("GET", "/namespace/demo/service/nope/logs").status, 404);
}

TEST_F(CrudTest, ServiceDeleteWaitsForTheControllerWhenItHasDeployments) {
  createNamespace("demo");
  ASSERT_EQ(send("POST", "/namespace/demo/service", serviceManifest("web").dump()).status, 201);
  ASSERT_EQ(send("POST", "/namespace/demo/service", serviceManifest("api").dump()).status, 201);
  seed("/endpoint/demo:api", R"({"meta":{"name":"api"}})");
  seed("/deployment/demo:web:d1", R"({"meta":{"name":"d1"}})");

  auto r = send("DELETE", "/namespace/demo/service/web");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["status"]["state"], "destroy");
  EXPECT_EQ(getJson("/namespace/demo/service/web")["status"]["state"], "destroy");
  // Intent cannot change while it is being destroyed.
  EXPECT_EQ(send("PUT", "/namespace/demo/service/web", serviceManifest("web", 5).dump()).status,
            409);
  EXPECT_EQ(send("DELETE", "/namespace/demo/service/web").status, 200);  // idempotent

  // No deployments: gone at once, with its endpoint.
  EXPECT_EQ(send("DELETE", "/namespace/demo/service/api").status, 200);
  EXPECT_EQ(send("GET", "/namespace/demo/service/api").status, 404);
  EXPECT_EQ(store_->get("/endpoint/demo:api").status().code(), Code::kNotFound);
}

TEST_F(CrudTest, ServiceTemplateChangeIsRecordedOnTheSpec) {
  createNamespace("demo");
  ASSERT_EQ(
      send("POST", "/namespace/demo/service", serviceManifest("web", 1, "nginx:1").dump()).status,
      201);
  auto r = send("PUT", "/namespace/demo/service/web", serviceManifest("web", 1, "nginx:2").dump());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json(r)["spec"]["template"]["containers"][0]["image"]["name"], "nginx:2");
}

TEST_F(CrudTest, NamespaceDeleteCascadesInOneTransaction) {
  createNamespace("demo");
  createNamespace("demo2");
  ASSERT_EQ(apply("demo", kServiceYaml).status, 200);
  ASSERT_EQ(apply("demo2", kServiceYaml).status, 200);
  for (const auto& c : kindCases()) {
    if (c.word == "service") continue;
    ASSERT_EQ(send("POST", "/namespace/demo/" + c.word, c.manifest.dump()).status, 201);
  }
  seed("/deployment/demo:web:d1", R"({"meta":{"name":"d1"}})");
  seed("/pod/demo:web:d1:p1", R"({"meta":{"name":"p1"}})");
  seed("/endpoint/demo:web", R"({"meta":{"name":"web"}})");
  seed("/manifest/node/n1/pod/demo:web:d1:p1", R"({"meta":{"name":"p1"}})");
  seed("/manifest/node/n1/pod/demo2:web:d1:p1", R"({"meta":{"name":"p1"}})");
  seed("/manifest/node/n1/secret/demo:pw", R"({})");
  seed("/manifests/cluster/endpoint/demo:web", R"({})");

  auto before = store_->info();
  auto r = send("DELETE", "/namespace/demo");
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = store_->info();
  EXPECT_EQ(after->revision, before->revision + 1) << "one transaction";

  auto all = store_->list("/");
  for (const auto& o : all->items) {
    EXPECT_EQ(o.key.find("demo:"), std::string::npos) << o.key;
    EXPECT_NE(o.key, "/namespace/demo");
  }
  // The other namespace is untouched.
  EXPECT_EQ(getJson("/namespace/demo2/service").size(), 1u);
  EXPECT_TRUE(store_->get("/manifest/node/n1/pod/demo2:web:d1:p1").isOk());
}

// cordon / uncordon set spec.unschedulable, which a re-registering agent
// does not undo; a missing node is 404.
TEST_F(CrudTest, NodeCordonAndUncordon) {
  EXPECT_EQ(send("POST", "/cluster/node/n1/cordon").status, 404);
  ASSERT_EQ(send("PUT", "/cluster/node/n1/meta", R"({"info":{"os":"linux"}})").status, 200);
  auto r = send("POST", "/cluster/node/n1/cordon");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["spec"]["unschedulable"], true);
  const std::string before = storeSnapshot();
  EXPECT_EQ(send("POST", "/cluster/node/n1/cordon").status, 200);
  EXPECT_EQ(storeSnapshot(), before) << "cordoning twice writes nothing";
  ASSERT_EQ(send("PUT", "/cluster/node/n1/meta", R"({"info":{"os":"linux"}})").status, 200);
  EXPECT_EQ(getJson("/cluster/node/n1")["spec"]["unschedulable"], true) << "kept on re-register";
  r = send("POST", "/cluster/node/n1/uncordon");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json spec = json(r)["spec"];  // all defaults: left out
  EXPECT_TRUE(spec.is_null() || !spec.value("unschedulable", false)) << r.body;
  EXPECT_EQ(send("POST", "/cluster/node/Bad_Name/cordon").status / 100, 4);

  // drain cordons and starts a drain, counting the node's pods; uncordon ends it.
  ASSERT_TRUE(store_->set("/manifest/node/n1/pod/demo:web:d1:p1", "{}").isOk());
  r = send("POST", "/cluster/node/n1/drain");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json(r)["spec"]["unschedulable"], true);
  EXPECT_EQ(json(r)["spec"]["drain"]["state"], "draining");
  EXPECT_EQ(json(r)["spec"]["drain"]["pods"], 1);
  EXPECT_EQ(send("POST", "/cluster/node/n1/cordon").status, 200);
  EXPECT_EQ(getJson("/cluster/node/n1")["spec"]["drain"]["state"], "draining")
      << "cordoning a draining node leaves the drain on";
  r = send("POST", "/cluster/node/n1/uncordon");
  EXPECT_FALSE(json(r)["spec"].contains("drain")) << r.body;
  EXPECT_EQ(send("POST", "/cluster/node/n2/drain").status, 404);
}

TEST_F(CrudTest, NodeRegistersReportsAndIsRemoved) {
  EXPECT_EQ(getJson("/cluster/node"), Json::array());
  EXPECT_EQ(send("GET", "/cluster/node/n1").status, 404);
  EXPECT_EQ(send("GET", "/cluster/node/n1/spec").status, 404);
  EXPECT_EQ(send("PUT", "/cluster/node/n1/status", R"({"status":{}})").status, 404);

  auto r =
      send("PUT", "/cluster/node/n1/meta",
           R"({"meta":{"labels":{"zone":"a"}},"info":{"os":"linux","internal_ip":"10.0.0.1"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto node = json(r);
  EXPECT_EQ(node["meta"]["name"], "n1");
  EXPECT_EQ(node["info"]["hostname"], "n1");
  EXPECT_EQ(node["meta"]["labels"]["zone"], "a");
  // Re-registering with the same facts writes nothing.
  std::string before = storeSnapshot();
  ASSERT_EQ(
      send("PUT", "/cluster/node/n1/meta",
           R"({"meta":{"labels":{"zone":"a"}},"info":{"os":"linux","internal_ip":"10.0.0.1"}})")
          .status,
      200);
  EXPECT_EQ(storeSnapshot(), before);
  EXPECT_EQ(send("PUT", "/cluster/node/n1/meta", R"({"meta":{"name":"n2"}})").status, 422);

  // A pod scheduled on n1 and one on n2.
  seed("/pod/demo:web:d1:p1",
       R"({"meta":{"name":"p1","selflink":"demo:web:d1:p1"},"status":{"node":"n1"}})");
  seed("/pod/demo:web:d1:p2",
       R"({"meta":{"name":"p2","selflink":"demo:web:d1:p2"},"status":{"node":"n2"}})");
  seed("/manifest/node/n1/pod/demo:web:d1:p1", R"({"meta":{"name":"p1"}})");
  seed("/manifest/node/n1/volume/demo:data", R"({"meta":{"name":"data"}})");

  clock_.advance(std::chrono::seconds(5));
  r = send("PUT", "/cluster/node/n1/status",
           Json{{"status", {{"capacity", {{"cpu", 2000}, {"ram", 1 << 30}, {"pods", 10}}}}},
                {"pods", Json::array({{{"meta", {{"selflink", "demo:web:d1:p1"}}},
                                       {"status", {{"state", "ready"}, {"ready", true}}}},
                                      {{"meta", {{"selflink", "demo:web:d1:p2"}}},
                                       {"status", {{"state", "ready"}}}},
                                      {{"meta", {{"selflink", "demo:web:d1:gone"}}},
                                       {"status", {{"state", "ready"}}}}})}}
               .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  node = json(r);
  EXPECT_EQ(node["status"]["online"], true);
  EXPECT_EQ(node["status"]["heartbeat"], "2023-11-14T22:13:25Z");
  EXPECT_EQ(node["status"]["capacity"]["pods"], 10);
  EXPECT_FALSE(node["status"]["capacity"]["cpu"].is_null());

  auto p1 = store_->get("/pod/demo:web:d1:p1");
  EXPECT_NE(p1->value.find("\"ready\""), std::string::npos) << p1->value;
  auto p2 = store_->get("/pod/demo:web:d1:p2");
  EXPECT_EQ(p2->value.find("\"ready\""), std::string::npos) << "pod of another node untouched";

  auto listed = getJson("/cluster/node");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["status"]["capacity"]["pods"], 10);

  auto cluster = getJson("/cluster");
  EXPECT_EQ(cluster["meta"]["name"], "test-cluster");
  EXPECT_EQ(cluster["meta"]["description"], "integration");
  EXPECT_EQ(cluster["status"]["nodes"], 1);
  EXPECT_EQ(cluster["status"]["capacity"]["pods"], 10);
  EXPECT_EQ(cluster["status"]["capacity"]["cpu"], node["status"]["capacity"]["cpu"]);

  auto spec = getJson("/cluster/node/n1/spec");
  EXPECT_EQ(spec["pods"]["demo:web:d1:p1"]["meta"]["name"], "p1");
  EXPECT_EQ(spec["volumes"]["demo:data"]["meta"]["name"], "data");
  EXPECT_EQ(spec["secrets"], Json::object());

  // Bad report shapes name the field.
  r = send("PUT", "/cluster/node/n1/status", R"({"status":{"online":"yes"}})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json(r)["field"], "status.online");
  r = send("PUT", "/cluster/node/n1/status", R"({"pods":[{"meta":{"selflink":"a:b"}}]})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(json(r)["field"], "pods[0].meta.selflink");

  r = send("DELETE", "/cluster/node/n1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(send("GET", "/cluster/node/n1").status, 404);
  EXPECT_EQ(store_->list("/manifest/node/n1/")->items.size(), 0u);
  EXPECT_EQ(store_->get("/cluster/node/n1/status").status().code(), Code::kNotFound);
}

TEST_F(CrudTest, ComponentsRegisterAndReport) {
  for (std::string kind : {"discovery", "ingress", "exporter"}) {
    SCOPED_TRACE(kind);
    EXPECT_EQ(getJson("/" + kind), Json::array());
    EXPECT_EQ(send("PUT", "/" + kind + "/c1/status", R"({"status":{"online":true}})").status, 404);
    auto r = send("PUT", "/" + kind + "/c1", R"({"spec":{"hostname":"h1","port":53}})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json(r)["spec"]["hostname"], "h1");
    clock_.advance(std::chrono::seconds(1));
    r = send("PUT", "/" + kind + "/c1/status", R"({"status":{"online":true,"ready":true}})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json(r)["status"]["ready"], true);
    EXPECT_FALSE(json(r)["status"]["heartbeat"].get<std::string>().empty());
    auto got = getJson("/" + kind + "/c1");
    EXPECT_EQ(got["status"]["online"], true);
    EXPECT_EQ(got["spec"]["port"], 53);
    EXPECT_EQ(getJson("/" + kind).size(), 1u);
    EXPECT_TRUE(store_->get("/" + kind + "/c1/info").isOk());
    EXPECT_TRUE(store_->get("/" + kind + "/c1/status").isOk());
    EXPECT_EQ(send("PUT", "/" + kind + "/c1", R"({"spec":{"port":"x"}})").status, 422);
  }
}

TEST_F(CrudTest, MetricsCountRequestsAndStoreOperations) {
  createNamespace("demo");
  auto r = send("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("Content-Type")->find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("lb_http_requests_total"), std::string::npos);
  EXPECT_NE(r.body.find("lb_storage_operations_total{op=\"txn\",result=\"ok\"}"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("lb_storage_operation_duration_seconds_bucket"), std::string::npos);
}

TEST_F(CrudTest, OpenApiIsServedWithTheToken) {
  auto doc = getJson("/openapi.json");
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/namespace/{namespace}/apply"));
  auto anon = makeClient("");
  EXPECT_EQ(anon->send("GET", "/openapi.json")->status, 401);
}

}  // namespace
}  // namespace lb::api::testing
