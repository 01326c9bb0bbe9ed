// `lb` end to end: the real binary (fork/exec, stdout/stderr/exit code
// captured) against a real `lastbackend api` process on the embedded SQLite
// store, bound to a free loopback port, with a temporary HOME for the
// cluster list; and against an Api in the test process whose store the test
// writes as the controller would (statuses lb shows).
//
// LB_TEST_LASTBACKEND: another daemon binary (e.g. one built from a clean checkout).

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "support/api_fixture.h"
#include "support/api_process.h"
#include "support/manifests.h"
#include "support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lb::testing::kToken;
using lb::testing::Outcome;

// `lb args...` with HOME=<dir>/home and no LB_* variables but `env`.
Outcome runLb(const fs::path& dir, const std::vector<std::string>& args,
              std::vector<std::string> env = {}) {
  std::vector<std::string> argv{LB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  env.push_back("HOME=" + (dir / "home").string());
  return lb::testing::runProcess(argv, std::move(env), dir, "lb", 30s);
}

class CliIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("lb-cli-it-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "home");
    api_ = std::make_unique<lb::testing::ApiProcess>();
    if (!api_->start({.binary = lb::testing::binaryPath("LB_TEST_LASTBACKEND", LASTBACKEND_BINARY),
                      .dir = dir_,
                      .token = kToken})) {
      startError_ = "cannot start lastbackend api";
      return;
    }
    url_ = api_->url();
    // Ready when `lb namespace ls` succeeds.
    startError_ = api_->waitReady(
        [] {
          return lb({"--host", url_, "--token", kToken, "namespace", "ls"}).code == 0;
        },
        20s);
  }

  static void TearDownTestSuite() {
    if (api_->running() && api_->stop(10s) < 0)
      ADD_FAILURE() << "lastbackend api did not stop on SIGTERM";
    api_.reset();
    fs::remove_all(dir_);
  }

  void SetUp() override { ASSERT_TRUE(startError_.empty()) << startError_; }

  static Outcome lb(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
    return runLb(dir_, args, std::move(env));
  }
  // lb against this api, its endpoint and token given as flags.
  static Outcome lbAt(std::vector<std::string> args) {
    args.insert(args.begin(), {"--host", url_, "--token", kToken});
    return lb(args);
  }

  static fs::path writeFile(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  static inline fs::path dir_;
  static inline std::string url_;
  static inline std::unique_ptr<lb::testing::ApiProcess> api_;
  static inline std::string startError_;
};

#define EXPECT_OK(run) \
  EXPECT_EQ((run).code, 0) << "stdout:\n" << (run).out << "stderr:\n" << (run).err
#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

// Rows after the header and dashes of a table.
std::vector<std::string> rows(const std::string& table) {
  std::vector<std::string> lines;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 2) return {};
  return {lines.begin() + 2, lines.end()};
}

std::string squeeze(const std::string& line) {  // "a   b" -> "a b"
  std::string out;
  for (char c : line)
    if (c != ' ' || (!out.empty() && out.back() != ' ')) out += c;
  return out;
}

TEST_F(CliIntegrationTest, Workflow) {
  // Cluster endpoints.
  auto add = lb({"cluster", "add", "local", url_, "--token", kToken});
  EXPECT_OK(add);
  EXPECT_OK(lb({"cluster", "select", "local"}));
  auto clusters = lb({"cluster", "ls"});
  EXPECT_HAS(squeeze(clusters.out), "local " + url_ + " *");

  // Namespaces.
  auto create = lb({"namespace", "create", "demo", "--desc", "demo apps"});
  EXPECT_OK(create);
  EXPECT_EQ(create.out.substr(0, create.out.find('\n')), "Namespace `demo` is created");
  EXPECT_HAS(squeeze(create.out), "ENDPOINT demo.lb.local");
  auto nsls = lb({"namespace", "ls"});
  EXPECT_OK(nsls);
  EXPECT_EQ(squeeze(nsls.out.substr(0, nsls.out.find('\n'))), "NAME DESCRIPTION ENDPOINT");
  EXPECT_HAS(nsls.out, "----   -----------   --------");
  EXPECT_HAS(squeeze(nsls.out), "demo demo apps demo.lb.local");

  // Apply a multi-document manifest; the second time nothing changes.
  fs::path manifest = writeFile(
      "demo.yaml", lb::testing::joinDocuments({lb::testing::kServiceYaml, lb::testing::kSecretYaml,
                                               lb::testing::kConfigYaml, lb::testing::kRouteYaml}));
  auto apply = lb({"namespace", "apply", "demo", "-f", manifest.string()});
  EXPECT_OK(apply);
  EXPECT_EQ(apply.out,
            "Service `web` is created\nSecret `db` is created\nConfig `app` is created\n"
            "Route `www` is created\n");
  auto again = lb({"namespace", "apply", "demo", "-f", manifest.string()});
  EXPECT_OK(again);
  EXPECT_HAS(again.out, "Service `web` is unchanged");
  // --wait: with no controller running here no deployment is ever made, so
  // it gives up after --wait-timeout, naming the service and what it waits for.
  auto wait =
      lb({"namespace", "apply", "demo", "-f", manifest.string(), "--wait", "--wait-timeout", "1"});
  EXPECT_EQ(wait.code, 1);
  EXPECT_HAS(wait.out, "Service `web` is unchanged");
  EXPECT_HAS(wait.err, "waiting: web: waiting for the deployment of the new spec");
  EXPECT_HAS(wait.err, "not ready after 1 s (--wait-timeout)");

  // Services.
  auto svcls = lb({"service", "ls", "demo"});
  EXPECT_OK(svcls);
  EXPECT_EQ(squeeze(svcls.out.substr(0, svcls.out.find('\n'))), "NAME ENDPOINT STATUS REPLICAS");
  ASSERT_EQ(rows(svcls.out).size(), 1u) << svcls.out;
  EXPECT_EQ(squeeze(rows(svcls.out)[0]).substr(0, 22), "web web.demo.lb.local ");
  auto inspect = lb({"service", "inspect", "demo", "web"});
  EXPECT_OK(inspect);
  EXPECT_HAS(squeeze(inspect.out), "Name: demo/web");
  EXPECT_HAS(squeeze(inspect.out), "Endpoint: web.demo.lb.local");
  EXPECT_HAS(squeeze(inspect.out), "Labels: app=web");
  EXPECT_HAS(inspect.out, "Active deployments:");
  auto json = lb({"service", "inspect", "demo", "web", "-o", "json"});
  EXPECT_OK(json);
  EXPECT_HAS(json.out, "\"name\": \"web\"");

  // Secrets: keys, never values.
  auto secls = lb({"secret", "ls", "demo"});
  EXPECT_OK(secls);
  EXPECT_HAS(squeeze(secls.out), "db auth password,username");
  auto secret = lb({"secret", "inspect", "demo", "db"});
  EXPECT_OK(secret);
  EXPECT_HAS(squeeze(secret.out), "KEYS password,username");
  EXPECT_EQ(secret.out.find("hunter2"), std::string::npos) << secret.out;
  auto secretJson = lb({"secret", "inspect", "demo", "db", "-o", "json"});
  EXPECT_OK(secretJson);
  EXPECT_EQ(secretJson.out.find("hunter2"), std::string::npos) << secretJson.out;
  EXPECT_OK(lb({"secret", "create", "demo", "creds", "-a", "-u", "bob", "-p", "pw"}));
  auto text = lb({"secret", "create", "demo", "tokens", "-t", "a=1", "-t", "b=2"});
  EXPECT_OK(text);
  EXPECT_EQ(text.out, "Secret `tokens` is created\n");
  fs::path key = writeFile("id_rsa", "PRIVATE KEY");
  EXPECT_OK(lb({"secret", "create", "demo", "ssh", "-f", key.string()}));
  EXPECT_HAS(squeeze(lb({"secret", "inspect", "demo", "ssh"}).out), "KEYS id_rsa");
  auto retype = lb({"secret", "update", "demo", "tokens", "-a", "-u", "x", "-p", "y"});
  EXPECT_EQ(retype.code, 1);
  EXPECT_HAS(retype.err, "cannot change");

  // Configs.
  EXPECT_OK(lb({"config", "create", "demo", "extra", "-t", "level=3"}));
  auto cfgls = lb({"config", "ls", "demo"});
  EXPECT_OK(cfgls);
  EXPECT_EQ(squeeze(cfgls.out.substr(0, cfgls.out.find('\n'))), "NAME TYPE KEYS");
  EXPECT_HAS(squeeze(cfgls.out), "app text mode");
  EXPECT_HAS(squeeze(cfgls.out), "extra text level");

  // Routes.
  auto routes = lb({"route", "ls", "demo"});
  EXPECT_OK(routes);
  EXPECT_EQ(squeeze(routes.out.substr(0, routes.out.find('\n'))),
            "NAMESPACE NAME DOMAIN HTTPS STATUS");
  EXPECT_HAS(squeeze(routes.out), "demo www www.demo.example");
  auto route = lb({"route", "inspect", "demo", "www"});
  EXPECT_OK(route);
  EXPECT_HAS(squeeze(route.out), "DOMAIN www.demo.example");
  EXPECT_HAS(squeeze(route.out), "PATH SERVICE ENDPOINT PORT");
  EXPECT_HAS(squeeze(route.out), "/ web web.demo.lb.local 80");
  auto rcreate =
      lb({"route", "create", "demo", "test", "-p", "443", "web:80", "--domain", "t.demo.example"});
  EXPECT_OK(rcreate);
  EXPECT_HAS(squeeze(rcreate.out), "PORT 443");
  auto rupdate = lb({"route", "update", "demo", "test", "-p", "80", "/api=web:8080"});
  EXPECT_OK(rupdate);
  EXPECT_HAS(squeeze(rupdate.out), "/api web web.demo.lb.local 8080");
  EXPECT_OK(lb({"route", "remove", "demo", "test"}));

  // Namespace update keeps what is not given.
  auto update = lb({"namespace", "update", "demo", "--desc", "renamed"});
  EXPECT_OK(update);
  EXPECT_HAS(update.out, "Namespace `demo` is updated");
  EXPECT_HAS(squeeze(lb({"namespace", "inspect", "demo"}).out), "DESCRIPTION renamed");

  // Removal.
  auto rmsvc = lb({"service", "remove", "demo", "web"});
  EXPECT_OK(rmsvc);
  EXPECT_EQ(rmsvc.out, "Service `web` is removed\n");
  EXPECT_EQ(rows(lb({"service", "ls", "demo"}).out).size(), 0u);
  EXPECT_OK(lb({"secret", "remove", "demo", "db"}));
  EXPECT_EQ(lb({"secret", "inspect", "demo", "db"}).code, 1);
  EXPECT_OK(lb({"namespace", "remove", "demo"}));
  EXPECT_EQ(rows(lb({"namespace", "ls"}).out).size(), 0u);
}

TEST_F(CliIntegrationTest, Errors) {
  auto missing = lb({"--host", url_, "--token", kToken, "service", "ls", "nowhere"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err.rfind("lb: ", 0), 0u) << missing.err;
  EXPECT_HAS(missing.err, "nowhere");
  EXPECT_HAS(missing.err, "not found");
  EXPECT_EQ(missing.err.find('\n'), missing.err.size() - 1) << "one line: " << missing.err;
  EXPECT_EQ(missing.out, "");

  auto wrongToken = lb({"--host", url_, "--token", "wrong", "namespace", "ls"});
  EXPECT_EQ(wrongToken.code, 1);
  EXPECT_HAS(wrongToken.err, "unauthorized");

  // Environment variables work for scripts; flags win over them.
  auto env = lb({"namespace", "ls"}, {"LB_HOST=" + url_, "LB_TOKEN=" + std::string(kToken)});
  EXPECT_OK(env);
  auto flagWins = lb({"--token", "wrong", "namespace", "ls"},
                     {"LB_HOST=" + url_, "LB_TOKEN=" + std::string(kToken)});
  EXPECT_EQ(flagWins.code, 1);

  auto badManifest =
      writeFile("bad.yaml", "kind: Service\nversion: v1\nmeta: {name: x}\nspec: {replicas: -1}\n");
  auto apply = lb({"--host", url_, "--token", kToken, "namespace", "apply", "nowhere", "-f",
                   badManifest.string()});
  EXPECT_EQ(apply.code, 1);
  EXPECT_HAS(apply.err, "bad.yaml");
}

// `lb service exec`: the command goes after `--`; a pod the service does
// not have, or a service with no pod on a node, is a clear error.
TEST_F(CliIntegrationTest, ExecSaysWhatIsMissing) {
  ASSERT_EQ(lbAt({"namespace", "create", "ex"}).code, 0);
  ASSERT_EQ(lbAt({"namespace", "apply", "ex", "-f",
                  writeFile("ex.yaml", lb::testing::kServiceYaml).string()})
                .code,
            0);
  auto noCommand = lbAt({"service", "exec", "ex", "web"});
  EXPECT_EQ(noCommand.code, 1);
  EXPECT_HAS(noCommand.err, "no command: put it after `--`");
  auto noPod = lbAt({"service", "exec", "ex", "web", "nosuchpod", "--", "true"});
  EXPECT_EQ(noPod.code, 1);
  EXPECT_HAS(noPod.err, "lb: pod 'nosuchpod' of service 'web' not found on any node\n");
  auto noneReady = lbAt({"service", "exec", "ex", "web", "--", "true"});
  EXPECT_EQ(noneReady.code, 1);
  EXPECT_HAS(noneReady.err, "service 'web' has no ready pod to exec in");
  auto elsewhere = lbAt({"namespace", "ls", "--", "true"});
  EXPECT_EQ(elsewhere.code, 1);
  EXPECT_HAS(elsewhere.err, "`--` and a command after it are for `lb service exec` only");
}

// A namespace quota: the refusal names the limit and the usage; inspect
// shows each limit with what the services take of it.
TEST_F(CliIntegrationTest, ANamespaceQuotaRefusesWhatWouldPassIt) {
  fs::path quota = writeFile("quota.yaml",
                             "kind: Namespace\nversion: v1\nmeta: {name: team}\n"
                             "spec: {resources: {limits: {pods: 3}}}\n");
  ASSERT_EQ(lbAt({"namespace", "apply", "team", "-f", quota.string()}).code, 0);
  fs::path web = writeFile("web.yaml", lb::testing::kServiceYaml);  // 2 replicas
  ASSERT_EQ(lbAt({"namespace", "apply", "team", "-f", web.string()}).code, 0);
  std::string scaled = lb::testing::kServiceYaml;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 4");
  auto refused =
      lbAt({"namespace", "apply", "team", "-f", writeFile("web4.yaml", scaled).string()});
  EXPECT_EQ(refused.code, 1);
  EXPECT_HAS(refused.err,
             "lb: namespace 'team' quota spec.resources.limits.pods: 3 allowed, 4 asked (in use "
             "2)\n");
  auto shown = lbAt({"namespace", "inspect", "team"});
  EXPECT_OK(shown);
  EXPECT_HAS(squeeze(shown.out), "PODS 2/3\n");
  EXPECT_HAS(squeeze(shown.out), "SERVICES 1 (no limit)\n");
}

// Plan before applying: `apply --dry-run` tells what would change and
// changes nothing; `diff` shows it line by line with diff(1)'s exit status.
TEST_F(CliIntegrationTest, DryRunAndDiffChangeNothing) {
  ASSERT_EQ(lbAt({"namespace", "create", "plan"}).code, 0);
  fs::path file =
      writeFile("plan.yaml",
                lb::testing::joinDocuments({lb::testing::kServiceYaml, lb::testing::kSecretYaml}));

  auto fresh = lbAt({"namespace", "diff", "plan", "-f", file.string()});
  EXPECT_EQ(fresh.code, 1) << fresh.err;
  EXPECT_HAS(fresh.out, "--- /dev/null\n+++ plan/Service/web (" + file.string() + ")\n@@ -0,0 ");
  EXPECT_HAS(fresh.out, "+  replicas: 2\n");
  EXPECT_EQ(fresh.out.find("hunter2"), std::string::npos) << fresh.out;
  auto planned = lbAt({"namespace", "apply", "plan", "-f", file.string(), "--dry-run"});
  EXPECT_OK(planned);
  EXPECT_EQ(planned.out,
            "Service `web` would be created (a new deployment rolls out)\n"
            "Secret `db` would be created\n");
  EXPECT_EQ(rows(lbAt({"service", "ls", "plan"}).out).size(), 0u) << "a dry run stores nothing";

  ASSERT_EQ(lbAt({"namespace", "apply", "plan", "-f", file.string()}).code, 0);
  auto same = lbAt({"namespace", "diff", "plan", "-f", file.string()});
  EXPECT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(same.out, "");

  std::string scaled = lb::testing::kServiceYaml, secret = lb::testing::kSecretYaml;
  scaled.replace(scaled.find("replicas: 2"), 11, "replicas: 4");
  secret.replace(secret.find("hunter2"), 7, "hunter3");
  fs::path changed = writeFile("plan2.yaml", lb::testing::joinDocuments({scaled, secret}));
  auto diff = lbAt({"namespace", "diff", "plan", "-f", changed.string()});
  EXPECT_EQ(diff.code, 1) << diff.err;
  EXPECT_HAS(diff.out,
             "--- plan/Service/web (stored)\n+++ plan/Service/web (" + changed.string() + ")\n");
  EXPECT_HAS(diff.out, "-  replicas: 2\n+  replicas: 4\n");
  EXPECT_HAS(diff.out, "*** (before)");
  EXPECT_HAS(diff.out, "*** (after)");
  EXPECT_EQ(diff.out.find("hunter"), std::string::npos) << "secret values never show";
  auto update = lbAt({"namespace", "apply", "plan", "-f", changed.string(), "--dry-run"});
  EXPECT_OK(update);
  EXPECT_EQ(update.out,
            "Service `web` would be updated (a new deployment rolls out)\n"
            "Secret `db` would be updated\n");
  EXPECT_HAS(lbAt({"service", "inspect", "plan", "web", "-o", "json"}).out, "\"replicas\": 2");

  auto nowhere = lbAt({"namespace", "diff", "nowhere", "-f", file.string()});
  EXPECT_EQ(nowhere.code, 2);
  EXPECT_HAS(nowhere.err, "nowhere");
  auto both = lbAt({"namespace", "apply", "plan", "-f", file.string(), "--dry-run", "--wait"});
  EXPECT_EQ(both.code, 1);
  EXPECT_HAS(both.err, "--dry-run and --wait exclude each other");
  EXPECT_OK(lbAt({"namespace", "remove", "plan"}));
}

// `lb service inspect` against an Api whose store says, as the controller
// would, that the one pod of `web` finds no node: the reason is shown for
// the service, its deployment and the pod; -o json carries the service's.
class CliInspectTest : public lb::testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    fs::create_directories(fs::path(dir_) / "home");
  }

  Outcome lb(std::vector<std::string> args) {
    args.insert(args.begin(), {"--host", url(), "--token", kToken});
    return runLb(dir_, args);
  }

  // The stored object at `key` with its "status" replaced.
  void setStatus(const std::string& key, const lb::testing::Json& status) {
    auto stored = store_->get(key);
    ASSERT_TRUE(stored.isOk()) << key << ": " << stored.status().toString();
    auto obj = lb::testing::Json::parse(stored->value);
    obj["status"] = status;
    auto written = store_->set(key, obj.dump(), stored->revision);
    ASSERT_TRUE(written.isOk()) << key << ": " << written.status().toString();
  }
};

TEST_F(CliInspectTest, ShowsWhyAPodIsPending) {
  const std::string reason = "no node with 107.4TB RAM free; 1 node checked";
  createNamespace("demo");
  ASSERT_EQ(apply("demo", lb::testing::kServiceYaml).status, 200);
  setStatus("/service/demo:web", {{"state", "provision"},
                                  {"message", "deployment d1: pod p1 unschedulable: " + reason}});
  seed("/deployment/demo:web:d1",
       lb::testing::Json{
           {"meta", {{"name", "d1"}, {"namespace", "demo"}, {"selflink", "demo:web:d1"}}},
           {"spec", {{"replicas", 1}}},
           {"status", {{"state", "provision"}, {"message", "pod p1 unschedulable: " + reason}}}}
           .dump());
  seed("/pod/demo:web:d1:p1",
       lb::testing::Json{
           {"meta", {{"name", "p1"}, {"namespace", "demo"}, {"selflink", "demo:web:d1:p1"}}},
           {"spec",
            {{"template",
              {{"containers", lb::testing::Json::array(
                                  {{{"name", "nginx"}, {"image", {{"name", "nginx"}}}}})}}}}},
           {"status", {{"state", "provision"}, {"message", reason}}}}
           .dump());

  auto inspect = lb({"service", "inspect", "demo", "web"});
  EXPECT_OK(inspect);
  EXPECT_HAS(squeeze(inspect.out),
             "State: provision\nMessage: deployment d1: pod p1 unschedulable: " + reason);
  EXPECT_HAS(squeeze(inspect.out),
             "Name: d1\n State: provision\n Message: pod p1 unschedulable: " + reason);
  EXPECT_HAS(squeeze(inspect.out), " Name Ready Status Restarts Age Message\n");
  EXPECT_HAS(squeeze(inspect.out), " p1 0/1 provision 0 ");
  EXPECT_HAS(inspect.out, "   " + reason + "\n");

  auto json = lb({"service", "inspect", "demo", "web", "-o", "json"});
  EXPECT_OK(json);
  EXPECT_HAS(json.out, "unschedulable: " + reason);
}

// The VIP the controller keeps in the service's status is shown beside the
// endpoint name and carried by -o json; a node shows the pod subnet the
// controller leased it.
TEST_F(CliInspectTest, ShowsTheServiceVipAndTheNodePodSubnet) {
  createNamespace("demo");
  ASSERT_EQ(apply("demo", lb::testing::kServiceYaml).status, 200);
  setStatus("/service/demo:web", {{"state", "ready"}, {"ip", "10.96.0.7"}});
  auto inspect = lb({"service", "inspect", "demo", "web"});
  EXPECT_OK(inspect);
  EXPECT_HAS(squeeze(inspect.out), "Endpoint: web.demo.lb.local (10.96.0.7)\n");
  auto json = lb({"service", "inspect", "demo", "web", "-o", "json"});
  EXPECT_OK(json);
  auto parsed = lb::testing::Json::parse(json.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(parsed.is_object()) << json.out;
  EXPECT_EQ(parsed["status"]["ip"], "10.96.0.7") << json.out;

  auto reg = send("PUT", "/cluster/node/host-1/meta",
                  R"({"info": {"hostname": "host-1", "internal_ip": "192.0.2.4"}})");
  ASSERT_EQ(reg.status, 200) << reg.body;
  auto info = store_->get("/cluster/node/host-1/info");
  ASSERT_TRUE(info.isOk());
  auto node = lb::testing::Json::parse(info->value);
  node["spec"]["network"] = {{"cidr", "10.244.3.0/24"}};
  ASSERT_TRUE(store_->set(info->key, node.dump(), info->revision).isOk());
  auto shown = lb({"node", "inspect", "host-1"});
  EXPECT_OK(shown);
  EXPECT_HAS(squeeze(shown.out), "POD SUBNET 10.244.3.0/24\n");
}

// `lb node cordon|uncordon`: the node's schedulable flag, shown by inspect.
TEST_F(CliInspectTest, CordonAndUncordonANode) {
  ASSERT_EQ(send("PUT", "/cluster/node/host-1/meta", R"({"info":{"os":"linux"}})").status, 200);
  auto cordon = lb({"node", "cordon", "host-1"});
  EXPECT_OK(cordon);
  EXPECT_EQ(cordon.out, "Node `host-1` is cordoned: no new pods are placed on it\n");
  EXPECT_HAS(squeeze(lb({"node", "inspect", "host-1"}).out), "SCHEDULABLE no");
  auto uncordon = lb({"node", "uncordon", "host-1"});
  EXPECT_OK(uncordon);
  EXPECT_EQ(uncordon.out, "Node `host-1` is schedulable again\n");
  EXPECT_HAS(squeeze(lb({"node", "inspect", "host-1"}).out), "SCHEDULABLE yes");
  auto missing = lb({"node", "cordon", "nowhere"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_HAS(missing.err, "node 'nowhere' not found");

  // No controller here: the drain starts and (--no-wait) is not waited for;
  // waiting, it times out naming the pods left.
  auto started = lb({"node", "drain", "host-1", "--no-wait"});
  EXPECT_OK(started);
  EXPECT_HAS(started.out, "Node `host-1` is cordoned and draining");
  EXPECT_HAS(squeeze(lb({"node", "ls"}).out), "draining (0 pods left)");
  auto waited = lb({"node", "drain", "host-1", "--timeout", "1"});
  EXPECT_EQ(waited.code, 1);
  EXPECT_HAS(waited.err, "node 'host-1' not drained after 1 s (--timeout)");
  EXPECT_OK(lb({"node", "uncordon", "host-1"}));
  EXPECT_HAS(squeeze(lb({"node", "inspect", "host-1"}).out), "SCHEDULABLE yes");
}

}  // namespace
