#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/format.h"

namespace lb::cli {
namespace {

TimePoint at(const char* rfc3339) { return *parseRfc3339(rfc3339); }
const TimePoint kNow = at("2026-11-26T12:00:00Z");

types::Namespace ns(const std::string& name, const std::string& desc = "") {
  types::Namespace n;
  n.meta.name = name;
  n.meta.description = desc;
  return n;
}

TEST(RenderTest, NamespaceListAsReference) {
  EXPECT_EQ(renderNamespaceList({ns("demo")}),
            "NAME   DESCRIPTION   ENDPOINT\n"
            "----   -----------   --------\n"
            "demo                 demo.lb.local\n");
}

TEST(RenderTest, NamespaceEndpointUsesInternalDomain) {
  auto n = ns("demo");
  n.spec.domain.internal = "demo.lb.local";
  EXPECT_EQ(namespaceEndpoint(n), "demo.lb.local");
  n.spec.domain.internal = "cluster.local";
  EXPECT_EQ(namespaceEndpoint(n), "demo.cluster.local");
}

TEST(RenderTest, NamespaceCreatedBlock) {
  EXPECT_EQ(actionLine("Namespace", "test", "created") + renderNamespace(ns("test"), false, kNow),
            "Namespace `test` is created\n"
            "NAME          test\n"
            "DESCRIPTION\n"
            "ENDPOINT      test.lb.local\n");
}

types::Service service() {
  types::Service s;
  s.meta.name = "2048";
  s.meta.namespace_ = "demo";
  s.meta.labels = {{"type", "proxy"}, {"demo", "test"}};
  s.meta.created = "2026-11-20T12:00:00Z";
  s.meta.updated = "2026-11-21T11:00:00Z";
  s.status.state = types::State::kReady;
  s.spec.replicas = 2;
  return s;
}

TEST(RenderTest, ServiceList) {
  auto proxy = service();
  proxy.meta.name = "proxy";
  EXPECT_EQ(renderServiceList({service(), proxy}),
            "NAME    ENDPOINT              STATUS   REPLICAS\n"
            "----    --------              ------   --------\n"
            "2048    2048.demo.lb.local    ready    2\n"
            "proxy   proxy.demo.lb.local   ready    2\n");
}

TEST(RenderTest, ServiceInspectWithDeploymentAndPods) {
  DeploymentView view;
  view.deployment.meta.name = "228d38e";
  view.deployment.meta.created = "2026-11-20T12:00:00Z";
  view.deployment.meta.updated = "2026-11-21T11:00:00Z";
  view.deployment.status.state = types::State::kReady;
  types::Pod pod;
  pod.meta.name = "b62e295";
  pod.meta.created = "2026-11-21T10:00:00Z";
  pod.status.state = types::State::kReady;
  pod.status.containers.push_back({.ready = true, .restarts = 0});
  view.pods.push_back(pod);
  pod.meta.name = "f6a85e8";
  pod.status.containers = {{.ready = false, .restarts = 2}, {.ready = true, .restarts = 1}};
  view.pods.push_back(pod);

  EXPECT_EQ(renderServiceInspect(service(), {view}, kNow),
            "Name:       demo/2048\n"
            "State:      ready\n"
            "Endpoint:   2048.demo.lb.local\n"
            "Created:    6 days ago\n"
            "Updated:    5 days ago\n"
            "Labels:     demo=test type=proxy\n"
            "\n"
            "Active deployments:\n"
            "\n"
            "  Name:      228d38e\n"
            "  State:     ready\n"
            "  Created:   6 days ago\n"
            "  Updated:   5 days ago\n"
            "\n"
            "  Pods:\n"
            "\n"
            "  Name      Ready   Status   Restarts   Age\n"
            "  ----      -----   ------   --------   ---\n"
            "  b62e295   1/1     ready    0          5 days ago\n"
            "  f6a85e8   1/2     ready    3          5 days ago\n");
}

// Why a pod is pending is in the statuses the controller writes: inspect
// shows them under the service's and the deployment's State and beside
// each pod (a pod without a message of its own shows its container's).
TEST(RenderTest, ServiceInspectShowsWhyPodsArePending) {
  const std::string reason = "no node with 107.4TB RAM free; 1 node checked";
  auto svc = service();
  svc.status.state = types::State::kProvision;
  svc.status.message = "deployment 228d38e: pod b62e295 unschedulable: " + reason;
  DeploymentView view;
  view.deployment.meta.name = "228d38e";
  view.deployment.meta.created = "2026-11-26T11:59:30Z";
  view.deployment.status.state = types::State::kProvision;
  view.deployment.status.message = "pod b62e295 unschedulable: " + reason;
  types::Pod pending;
  pending.meta.name = "b62e295";
  pending.meta.created = "2026-11-26T11:59:30Z";
  pending.status.state = types::State::kProvision;
  pending.status.message = reason;
  pending.spec.template_.containers.resize(1);
  types::Pod pulling = pending;
  pulling.meta.name = "f6a85e8";
  pulling.status.message.clear();
  pulling.status.containers.push_back({.name = "web", .message = "pulling image nginx:1.25"});
  types::Pod fine = pulling;
  fine.meta.name = "0c1d2e3";
  fine.status.state = types::State::kReady;
  fine.status.containers = {{.name = "web", .ready = true}};
  view.pods = {pending, pulling, fine};

  EXPECT_EQ(
      renderServiceInspect(svc, {view}, kNow),
      "Name:       demo/2048\n"
      "State:      provision\n"
      "Message:    deployment 228d38e: pod b62e295 unschedulable: " +
          reason +
          "\n"
          "Endpoint:   2048.demo.lb.local\n"
          "Created:    6 days ago\n"
          "Updated:    5 days ago\n"
          "Labels:     demo=test type=proxy\n"
          "\n"
          "Active deployments:\n"
          "\n"
          "  Name:      228d38e\n"
          "  State:     provision\n"
          "  Message:   pod b62e295 unschedulable: " +
          reason +
          "\n"
          "  Created:   just now\n"
          "  Updated:\n"
          "\n"
          "  Pods:\n"
          "\n"
          "  Name      Ready   Status      Restarts   Age        Message\n"
          "  ----      -----   ------      --------   ---        -------\n"
          "  b62e295   0/1     provision   0          just now   " +
          reason +
          "\n"
          "  f6a85e8   0/1     provision   0          just now   web: pulling image nginx:1.25\n"
          "  0c1d2e3   1/1     ready       0          just now\n");
}

// The VIP the controller put in the service's status, beside its name.
TEST(RenderTest, ServiceInspectShowsTheVipBesideTheEndpoint) {
  auto svc = service();
  svc.status.ip = "10.96.0.7";
  std::string text = renderServiceInspect(svc, {}, kNow);
  EXPECT_NE(text.find("State:      ready\nEndpoint:   2048.demo.lb.local (10.96.0.7)\n"),
            std::string::npos)
      << text;
  svc.status.ip.clear();  // no ports, no VIP
  text = renderServiceInspect(svc, {}, kNow);
  EXPECT_NE(text.find("Endpoint:   2048.demo.lb.local\n"), std::string::npos) << text;
}

TEST(RenderTest, ServiceInspectWithoutDeployments) {
  std::string text = renderServiceInspect(service(), {}, kNow);
  EXPECT_NE(text.find("Active deployments:\n\n  none\n"), std::string::npos) << text;
}

TEST(RenderTest, DestroyedDeploymentsAreNotActive) {
  types::Deployment d;
  d.status.state = types::State::kReady;
  EXPECT_TRUE(isActiveDeployment(d));
  d.status.state = types::State::kDestroy;
  EXPECT_FALSE(isActiveDeployment(d));
  d.status.state = types::State::kDestroyed;
  EXPECT_FALSE(isActiveDeployment(d));
}

// Newest first; the deployment of the service's spec is marked current,
// the replaced ones read "retired" with no pods.
TEST(RenderTest, ServiceHistoryNewestFirst) {
  auto svc = service();
  svc.spec.template_.containers = {types::ContainerSpec{}};
  svc.spec.template_.containers[0].image.name = "nginx:1.27";
  auto dep = [&](const char* name, const char* created, const char* image, types::State state) {
    types::Deployment d;
    d.meta.name = name;
    d.meta.created = created;
    d.spec.template_ = svc.spec.template_;
    d.spec.template_.containers[0].image.name = image;
    d.spec.replicas = 2;
    d.status.state = state;
    return d;
  };
  auto old = dep("a1", "2026-11-24T12:00:00Z", "nginx:1.25", types::State::kDestroyed);
  old.status.message = "replaced by c3 (was ready)";
  auto cur = dep("c3", "2026-11-26T11:00:00Z", "nginx:1.27", types::State::kReady);
  cur.status.replicas.ready = 2;
  auto mid = dep("b2", "2026-11-25T12:00:00Z", "nginx:1.26", types::State::kDestroyed);
  EXPECT_EQ(renderServiceHistory(svc, {old, cur, mid}, kNow),
            "DEPLOYMENT   CREATED      IMAGES       STATE             PODS   MESSAGE\n"
            "----------   -------      ------       -----             ----   -------\n"
            "c3           1 hour ago   nginx:1.27   ready (current)   2/2\n"
            "b2           1 day ago    nginx:1.26   retired\n"
            "a1           2 days ago   nginx:1.25   retired                  replaced by c3 (was "
            "ready)\n");
}

types::Route route() {
  types::Route r;
  r.meta.name = "2048";
  r.meta.namespace_ = "demo";
  r.spec.domain = "2048.demo.lstbknd.io";
  r.spec.port = 80;
  r.spec.rules = {{"/", "2048", 80}};
  return r;
}

TEST(RenderTest, RouteListAndInspectAsReference) {
  auto tank = route();
  tank.meta.name = "tank";
  tank.spec.domain = "tank.demo.lstbknd.io";
  tank.spec.port = 443;
  EXPECT_EQ(renderRouteList({route(), tank}),
            "NAMESPACE   NAME   DOMAIN                 HTTPS   STATUS\n"
            "---------   ----   ------                 -----   ------\n"
            "demo        2048   2048.demo.lstbknd.io           initialized\n"
            "demo        tank   tank.demo.lstbknd.io   yes     initialized\n");
  EXPECT_EQ(renderRoute(route()),
            "NAME        2048\n"
            "NAMESPACE   demo\n"
            "DOMAIN      2048.demo.lstbknd.io\n"
            "PORT        80\n"
            "STATUS      initialized\n"
            "\n"
            "PATH   SERVICE   ENDPOINT             PORT\n"
            "----   -------   --------             ----\n"
            "/      2048      2048.demo.lb.local   80\n");
}

TEST(RenderTest, SecretNeverShowsValues) {
  types::Secret s;
  s.meta.name = "db";
  s.meta.namespace_ = "demo";
  s.spec.type = types::kSecretAuth;
  s.spec.data = {{"username", "admin"}, {"password", "hunter2"}};
  std::string list = renderSecretList({s});
  std::string one = renderSecret(s, kNow);
  for (const std::string& text : {list, one}) {
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_EQ(text.find("admin"), std::string::npos) << text;
    EXPECT_NE(text.find("password,username"), std::string::npos) << text;
  }
  EXPECT_EQ(list,
            "NAME   TYPE   KEYS\n"
            "----   ----   ----\n"
            "db     auth   password,username\n");
  auto redacted = redact(s);
  EXPECT_EQ(redacted.spec.data.at("password"), "");
  EXPECT_EQ(types::toJson(redacted).find("hunter2"), std::string::npos);
}

TEST(RenderTest, ConfigShowsTextValuesAndFileSizes) {
  types::Config c;
  c.meta.name = "app";
  c.spec.type = types::kSecretText;
  c.spec.data = {{"mode", "fast"}};
  EXPECT_NE(renderConfig(c, kNow).find("KEY    VALUE\n---    -----\nmode   fast\n"),
            std::string::npos)
      << renderConfig(c, kNow);
  c.spec.type = types::kSecretFile;
  c.spec.data = {{"config.yml", "a: 1\nb: 2\n"}};
  EXPECT_NE(renderConfig(c, kNow).find("config.yml   10 bytes"), std::string::npos)
      << renderConfig(c, kNow);
  EXPECT_EQ(renderConfigList({c}),
            "NAME   TYPE   KEYS\n"
            "----   ----   ----\n"
            "app    file   config.yml\n");
}

TEST(RenderTest, ClusterListMarksSelected) {
  EXPECT_EQ(renderClusterList(
                {{"local", "http://127.0.0.1:2967", true}, {"prod", "https://lb.example", false}}),
            "NAME    ENDPOINT                SELECTED\n"
            "----    --------                --------\n"
            "local   http://127.0.0.1:2967   *\n"
            "prod    https://lb.example\n");
}

TEST(RenderTest, NodeList) {
  types::Node n;
  n.meta.name = "host-1";
  n.info.internalIp = "10.0.0.2";
  n.info.os = "linux";
  n.info.architecture = "amd64";
  n.status.online = true;
  n.status.allocated.pods = 3;
  n.status.capacity.pods = 110;
  n.status.heartbeat = "2026-11-26T11:59:50Z";
  EXPECT_EQ(renderNodeList({n}, kNow),
            "NAME     ADDRESS    OS      ARCH    STATUS   PODS    HEARTBEAT\n"
            "----     -------    --      ----    ------   ----    ---------\n"
            "host-1   10.0.0.2   linux   amd64   online   3/110   just now\n");
}

types::Node node() {
  types::Node n;
  n.meta.name = "host-1";
  n.info.hostname = "host-1";
  n.info.internalIp = "10.0.0.2";
  n.info.os = "linux";
  n.info.architecture = "amd64";
  n.status.online = true;
  n.status.allocated.pods = 3;
  n.status.capacity.pods = 110;
  n.status.heartbeat = "2026-11-26T11:59:50Z";
  return n;
}

TEST(RenderTest, NodeInspectShowsItsPodSubnet) {
  auto n = node();
  n.spec.network.cidr = "10.244.3.0/24";
  const std::string text = renderNode(n, kNow);
  EXPECT_NE(text.find("INTERNAL IP   10.0.0.2\nPOD SUBNET    10.244.3.0/24\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("STATUS        online\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("MESSAGE"), std::string::npos) << text;
}

// A node the pods CIDR has no subnet left for is not ready, and says why.
TEST(RenderTest, NodeWithoutASubnetIsNotReady) {
  auto n = node();
  n.spec.network.message = "no pod subnet: pods CIDR 10.244.0.0/23 is exhausted";
  const std::string text = renderNode(n, kNow);
  EXPECT_NE(text.find("STATUS        not ready\n"
                      "MESSAGE       no pod subnet: pods CIDR 10.244.0.0/23 is exhausted\n"),
            std::string::npos)
      << text;
  EXPECT_NE(renderNodeList({n}, kNow).find("host-1   10.0.0.2   linux   amd64   not ready"),
            std::string::npos);
  n.status.online = false;
  EXPECT_NE(renderNode(n, kNow).find("STATUS        offline\n"), std::string::npos);
}

TEST(RenderTest, ANamespaceShowsItsQuota) {
  types::Namespace ns;
  ns.meta.name = "team";
  ns.spec.resources.limits.ram = 512LL << 20;
  ns.spec.resources.limits.pods = 5;
  ns.status.usage = types::NamespaceAmounts{192LL << 20, 300, 3, 1};
  const std::string text = renderNamespace(ns, true, kNow);
  EXPECT_NE(text.find("RAM           192MB/512MB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("CPU           300m (no limit)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("PODS          3/5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("SERVICES      1 (no limit)\n"), std::string::npos) << text;
}

TEST(RenderTest, ACordonedNodeSaysSo) {
  auto n = node();
  n.spec.unschedulable = true;
  EXPECT_NE(renderNodeList({n}, kNow).find("online, cordoned"), std::string::npos);
  const std::string text = renderNode(n, kNow);
  EXPECT_NE(text.find("online, cordoned\n"), std::string::npos) << text;
  EXPECT_NE(text.find("SCHEDULABLE   no\n"), std::string::npos) << text;
}

TEST(RenderTest, ADrainingNodeSaysHowFarItIs) {
  auto n = node();
  n.spec.unschedulable = true;
  n.spec.drain = {"draining", 3};
  EXPECT_NE(renderNodeList({n}, kNow).find("online, draining (3 pods left)"), std::string::npos);
  n.spec.drain = {"drained", 0};
  EXPECT_NE(renderNode(n, kNow).find("online, drained\n"), std::string::npos)
      << renderNode(n, kNow);
}

}  // namespace
}  // namespace lb::cli
