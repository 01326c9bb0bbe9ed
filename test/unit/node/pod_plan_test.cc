#include "node/pod_plan.h"

#include <gtest/gtest.h>

#include "node/manifest.h"

namespace lb::node {
namespace {

types::Pod webPod() {
  types::Pod p;
  p.meta.name = "p1";
  p.meta.namespace_ = "demo";
  p.meta.selflink = "demo:web:d1:p1";
  types::ContainerSpec c;
  c.name = "httpd";
  c.image.name = "lb/busybox:local";
  c.command = {"httpd", "-f", "-p", "8080"};
  c.env.push_back({"PLAIN", std::string("v"), std::nullopt, std::nullopt});
  c.env.push_back({"PASS", std::nullopt, types::KeyRef{"db", "password"}, std::nullopt});
  c.env.push_back({"GREETING", std::nullopt, std::nullopt, types::KeyRef{"conf", "greeting"}});
  c.resources.limits.ram = 64 << 20;
  c.resources.limits.cpu = 250;
  c.volumes.push_back({"secret-files", "/etc/secret", "", false});
  c.volumes.push_back({"data", "/data", "", false});
  p.spec.template_.containers.push_back(c);
  types::ContainerSpec side;
  side.name = "side";
  side.image.name = "lb/busybox:local";
  side.restart.policy = "never";
  side.security.privileged = true;
  p.spec.template_.containers.push_back(side);
  types::TemplateVolume sv;
  sv.name = "secret-files";
  sv.secret = types::FilesRef{"db", {"password"}};
  p.spec.template_.volumes.push_back(sv);
  types::TemplateVolume dv;
  dv.name = "data";
  p.spec.template_.volumes.push_back(dv);
  return p;
}

struct RefData {
  std::map<std::string, types::Secret> secrets;
  std::map<std::string, types::Config> configs;
  RefData() {
    secrets["demo:db"].spec.data = {{"password", "s3cret"}, {"user", "u"}};
    configs["demo:conf"].spec.data = {{"greeting", "hello"}};
  }
  Refs refs() const { return {&secrets, &configs}; }
};

TEST(PodPlan, ContainersCarryEnvLimitsLabelsAndMounts) {
  RefData d;
  auto plan = planPod(webPod(), d.refs());
  ASSERT_TRUE(plan.isOk()) << plan.status().toString();
  ASSERT_EQ(plan->containers.size(), 2u);
  const auto& s = plan->containers[0].spec;
  EXPECT_EQ(s.env.at("PLAIN"), "v");
  EXPECT_EQ(s.env.at("PASS"), "s3cret");
  EXPECT_EQ(s.env.at("GREETING"), "hello");
  EXPECT_EQ(s.memoryBytes, 64 << 20);
  EXPECT_EQ(s.milliCpu, 250);
  EXPECT_EQ(s.restart.policy, "always");  // unset: long-running service
  EXPECT_FALSE(s.privileged);
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelPod), "demo:web:d1:p1");
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelContainer), "httpd");
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelService), "web");
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelDeployment), "d1");
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelNetwork), "owner");
  EXPECT_EQ(s.labels.at(runtime::cri::kLabelSpecHash), plan->hash);
  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].source, "demo:web:d1:p1.secret-files");
  EXPECT_TRUE(s.mounts[0].readOnly);  // projected files are read-only
  EXPECT_FALSE(s.mounts[1].readOnly);
  const auto& side = plan->containers[1].spec;
  EXPECT_EQ(side.restart.policy, "no");
  EXPECT_TRUE(side.privileged);
  EXPECT_FALSE(side.labels.count(runtime::cri::kLabelNetwork));
  ASSERT_EQ(plan->volumes.size(), 2u);
  EXPECT_TRUE(plan->volumes[0].files);
  EXPECT_EQ(plan->volumes[0].keys, std::vector<std::string>{"password"});
  EXPECT_FALSE(plan->volumes[1].files);
}

TEST(PodPlan, MissingReferencesAreNotFound) {
  RefData d;
  d.secrets.clear();
  auto plan = planPod(webPod(), d.refs());
  ASSERT_FALSE(plan.isOk());
  EXPECT_EQ(plan.status().code(), Code::kNotFound);
  EXPECT_NE(plan.status().message().find("secret 'db'"), std::string::npos);
  RefData e;
  e.configs["demo:conf"].spec.data.clear();
  plan = planPod(webPod(), e.refs());
  ASSERT_FALSE(plan.isOk());
  EXPECT_NE(plan.status().message().find("no key 'greeting'"), std::string::npos);
}

TEST(PodPlan, BadRestartPolicyAndPullPolicyAreRejected) {
  RefData d;
  auto pod = webPod();
  pod.spec.template_.containers[0].restart.policy = "sometimes";
  EXPECT_EQ(planPod(pod, d.refs()).status().code(), Code::kInvalidArgument);
  pod = webPod();
  pod.spec.template_.containers[0].image.policy = "Weekly";
  EXPECT_EQ(planPod(pod, d.refs()).status().code(), Code::kInvalidArgument);
}

TEST(PodPlan, ImageSecretGivesRegistryAuth) {
  RefData d;
  d.secrets["demo:reg"].spec.type = "auth";
  d.secrets["demo:reg"].spec.data = {{"username", "u"}, {"password", "p"}, {"server", "r.example"}};
  auto pod = webPod();
  pod.spec.template_.containers[0].image.secret = "reg";
  auto plan = planPod(pod, d.refs());
  ASSERT_TRUE(plan.isOk());
  EXPECT_EQ(plan->containers[0].auth.username, "u");
  EXPECT_EQ(plan->containers[0].auth.password, "p");
  EXPECT_EQ(plan->containers[0].auth.serverAddress, "r.example");
}

TEST(PodPlan, ContainerNamesAreDockerSafe) {
  EXPECT_EQ(containerName("demo:web:d1:p1", "httpd"), "lb_demo_web_d1_p1_httpd");
}

TEST(NodeManifest, ParsesTheSpecAnswer) {
  auto m = parseNodeManifest(
      R"({"pods": {"demo:web:d:p": {"meta": {"name": "p", "namespace": "demo"},
           "spec": {"template": {"containers": [{"name": "c", "image": {"name": "x"}}]}}}},
         "secrets": {"demo:s": {"meta": {"name": "s"}, "spec": {"type": "text", "data": {"k": "dg=="}}}},
         "configs": {}, "volumes": {}, "endpoints": {}, "revision": 42})");
  ASSERT_TRUE(m.isOk()) << m.status().toString();
  EXPECT_EQ(m->revision, 42);
  ASSERT_EQ(m->pods.count("demo:web:d:p"), 1u);
  EXPECT_EQ(m->pods["demo:web:d:p"].meta.selflink, "demo:web:d:p");
  EXPECT_EQ(m->secrets["demo:s"].spec.data["k"], "v");
  EXPECT_FALSE(parseNodeManifest("[]").isOk());
  auto net = parseNodeManifest(
      R"({"subnets": {"10.244.1.0/24": {"meta": {"name": "10.244.1.0/24"},
           "spec": {"type": "vxlan", "cidr": "10.244.1.0/24", "node": "n1", "addr": "192.0.2.1",
                    "iface": "eth0"}}},
          "endpoints": {"demo:web": {"meta": {"name": "web", "namespace": "demo"},
           "spec": {"ip": "10.96.0.10", "upstreams": [{"ip": "10.244.1.5", "port": 80}]}}}})");
  ASSERT_TRUE(net.isOk()) << net.status().toString();
  EXPECT_EQ(net->subnets["10.244.1.0/24"].spec.addr, "192.0.2.1");
  EXPECT_EQ(net->subnets["10.244.1.0/24"].spec.node, "n1");
  EXPECT_EQ(net->endpoints["demo:web"].spec.upstreams.at(0).ip, "10.244.1.5");
  EXPECT_EQ(net->endpoints["demo:web"].meta.selflink, "demo:web");
  auto badNet = parseNodeManifest(R"({"subnets": {"x": {"spec": {"cidr": 7}}}})");
  ASSERT_FALSE(badNet.isOk());
  EXPECT_NE(badNet.status().field().find("subnets.x"), std::string::npos);
  auto bad = parseNodeManifest(R"({"pods": {"x": {"spec": 5}}})");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().field().find("pods.x"), std::string::npos);
}

TEST(NodeManifest, ADeltaIsCompletedFromTheHeldNetwork) {
  auto held = parseNodeManifest(
      R"({"endpoints": {"demo:a": {"meta": {"name": "a"}, "spec": {"ip": "10.96.0.1"}},
                        "demo:b": {"meta": {"name": "b"}, "spec": {"ip": "10.96.0.2"}}},
          "subnets": {}, "revision": 5})");
  ASSERT_TRUE(held.isOk());
  auto next = parseNodeManifest(
      R"({"network": {"since": 5, "endpoints": ["demo:b", "demo:c"], "subnets": []},
          "endpoints": {"demo:c": {"meta": {"name": "c"}, "spec": {"ip": "10.96.0.3"}}},
          "revision": 9})");
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  ASSERT_TRUE(next->network.has_value());
  EXPECT_EQ(next->network->since, 5);
  ASSERT_TRUE(mergeNetwork(*held, *next).isOk());
  EXPECT_FALSE(next->network.has_value());
  ASSERT_EQ(next->endpoints.size(), 2u);
  EXPECT_EQ(next->endpoints["demo:b"].spec.ip, "10.96.0.2");
  EXPECT_EQ(next->endpoints["demo:c"].spec.ip, "10.96.0.3");

  // A key neither the answer nor the held network has: ask again in full.
  auto unknown = parseNodeManifest(
      R"({"network": {"since": 5, "endpoints": ["demo:x"], "subnets": []}})");
  ASSERT_TRUE(unknown.isOk());
  Status s = mergeNetwork(*held, *unknown);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("demo:x"), std::string::npos);

  for (const char* bad : {R"({"network": 5})", R"({"network": {"endpoints": [], "subnets": []}})",
                          R"({"network": {"since": 1, "endpoints": [3], "subnets": []}})",
                          R"({"network": {"since": 1, "endpoints": []}})"}) {
    auto m = parseNodeManifest(bad);
    ASSERT_FALSE(m.isOk()) << bad;
    EXPECT_EQ(m.status().field().rfind("network", 0), 0u) << m.status().field();
  }
}

}  // namespace
}  // namespace lb::node
