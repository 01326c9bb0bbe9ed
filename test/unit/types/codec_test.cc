#include "lastbackend/types/codec.h"

#include <gtest/gtest.h>

namespace lb::types {
namespace {

Meta sampleMeta(const std::string& ns, const std::string& name) {
  Meta m;
  m.name = name;
  m.namespace_ = ns;
  m.selflink = ns.empty() ? name : objectSelflink(ns, name);
  m.description = "a \"quoted\" description: with colon # and hash";
  m.labels = {{"app", name}, {"empty", ""}, {"null", "null"}, {"num", "0123"}, {"yes", "true"}};
  m.created = "2026-11-26T15:14:08Z";
  m.updated = "2026-11-26T15:15:00Z";
  m.revision = 42;
  return m;
}

PodTemplate fullTemplate() {
  PodTemplate t;
  ContainerSpec c;
  c.name = "web";
  c.image = {"busybox:latest", "registry", "always"};
  c.command = {"sh", "-c", "echo 'hi'; exit 0"};
  c.entrypoint = {"/bin/sh"};
  c.args = {"", "~", "-"};
  c.workdir = "/srv";
  c.env = {EnvVar{"A", std::string(""), std::nullopt, std::nullopt},
           EnvVar{"B", std::nullopt, KeyRef{"db", "password"}, std::nullopt},
           EnvVar{"C", std::nullopt, std::nullopt, KeyRef{"app", "mode"}}};
  c.ports = {PortMapping{8080, 8080, "tcp"}, PortMapping{53, 5353, "udp"}};
  c.resources.limits = {512LL << 20, 500};
  c.resources.request = {1000, 1};
  c.restart = {"on-failure", 3};
  c.volumes = {VolumeMount{"data", "/data", "ro", true}};
  c.security.privileged = true;
  Probe live;
  live.tcp = ProbeTcp{8080};
  live.initialDelay = 0;
  live.period = 1;
  Probe ready;
  ready.exec = ProbeExec{{"cat", "/tmp/ready"}};
  c.probes = {live, ready};
  t.containers = {c, ContainerSpec{}};
  t.containers[1].name = "side";
  t.volumes = {TemplateVolume{"data", std::nullopt, std::nullopt, VolumeRef{"vol"}},
               TemplateVolume{"keys", FilesRef{"ssh", {"id_rsa"}}, std::nullopt, std::nullopt},
               TemplateVolume{"conf", std::nullopt, FilesRef{"cfg", {}}, std::nullopt},
               TemplateVolume{"scratch", std::nullopt, std::nullopt, std::nullopt}};
  return t;
}

template <class T>
T sample();

template <>
Meta sample<Meta>() {
  return sampleMeta("demo", "x");
}
template <>
PodTemplate sample<PodTemplate>() {
  return fullTemplate();
}
template <>
Namespace sample<Namespace>() {
  Namespace n;
  n.meta = sampleMeta("", "demo");
  n.spec.domain = {"demo.lb.local", "demo.example.com"};
  n.spec.resources.limits = {2LL << 30, 2000};
  n.status = {State::kReady, "ok"};
  return n;
}
template <>
Service sample<Service>() {
  Service s;
  s.meta = sampleMeta("demo", "2048");
  s.spec.replicas = 0;  // zero must survive (it is not the default)
  s.spec.selector = {"node-1", {{"type", "example"}}};
  s.spec.network.ports = {PortMapping{80, 8080, "tcp"}};
  s.spec.template_ = fullTemplate();
  s.status = {State::kDegradation, "1 of 2 pods ready"};
  return s;
}
template <>
Deployment sample<Deployment>() {
  Deployment d;
  d.meta = sampleMeta("demo", "228d38e");
  d.meta.selflink = deploymentSelflink("demo", "2048", "228d38e");
  d.spec.template_ = fullTemplate();
  d.spec.replicas = 2;
  d.spec.templateHash = templateHash(d.spec.template_);
  d.status = {State::kProvision, "", {2, 1, 1, 0}};
  return d;
}
template <>
Pod sample<Pod>() {
  Pod p;
  p.meta = sampleMeta("demo", "b62e295");
  p.meta.selflink = podSelflink("demo", "2048", "228d38e", "b62e295");
  p.spec.template_ = fullTemplate();
  p.status.state = State::kReady;
  p.status.ready = true;
  p.status.ip = "10.0.0.2";
  p.status.node = "node-1";
  p.status.containers = {ContainerStatus{"abc", "web", "busybox", "started", true, 2, ""}};
  return p;
}
template <>
Endpoint sample<Endpoint>() {
  Endpoint e;
  e.meta = sampleMeta("demo", "2048");
  e.spec = {"10.1.0.1",
            {PortMapping{80, 8080, "tcp"}},
            {Upstream{"10.0.0.2", 8080}},
            "rr",
            "2048.demo.lb.local"};
  e.status.state = State::kReady;
  return e;
}
template <>
Volume sample<Volume>() {
  Volume v;
  v.meta = sampleMeta("demo", "data");
  v.spec = {"dir", {"node-1", {}}, {1LL << 30}, "rwo"};
  v.status = {State::kReady, "", "/var/lib/lb/volumes/demo/data", true};
  return v;
}
template <>
Secret sample<Secret>() {
  Secret s;
  s.meta = sampleMeta("demo", "db");
  s.spec.type = kSecretFile;
  s.spec.data = {{"bin", std::string("\x00\x01\xff\xfe", 4)}, {"empty", ""}, {"pw", "s3cr3t"}};
  return s;
}
template <>
Config sample<Config>() {
  Config c;
  c.meta = sampleMeta("demo", "app");
  c.spec.type = "";  // differs from the default "text": must survive
  c.spec.data = {{"config.yml", "a: 1\nb: [2]\n"}, {"x", "null"}};
  return c;
}
template <>
Route sample<Route>() {
  Route r;
  r.meta = sampleMeta("demo", "2048");
  r.spec = {"2048.demo.lstbknd.io", 443, {RouteRule{"/", "2048", 80}, RouteRule{"", "tank", 81}}};
  r.status = {"", "empty state must survive"};
  return r;
}
template <>
Node sample<Node>() {
  Node n;
  n.meta = sampleMeta("", "node-1");
  n.info = {"node-1", "linux", "amd64", "1.2.3.4", "10.0.0.1", {{"ssd", "true"}}};
  n.spec.unschedulable = true;
  n.status = {
      true, {4000, 8LL << 30, 100LL << 30, 110}, {500, 1LL << 29, 0, 3}, "2026-11-26T15:14:08Z"};
  return n;
}
template <>
Ingress sample<Ingress>() {
  Ingress i;
  i.meta = sampleMeta("", "ingress-1");
  i.spec = {"host", "0.1.0", "10.0.0.5", 80};
  i.status = {true, true, "2026-11-26T15:14:08Z"};
  return i;
}
template <>
Discovery sample<Discovery>() {
  Discovery d;
  d.meta = sampleMeta("", "dns-1");
  d.spec = {"host", "0.1.0", "10.0.0.6", 53};
  d.status = {true, false, ""};
  return d;
}
template <>
Exporter sample<Exporter>() {
  Exporter e;
  e.meta = sampleMeta("", "exp-1");
  e.spec = {"host", "0.1.0", "10.0.0.7", 2963};
  return e;
}
template <>
Cluster sample<Cluster>() {
  Cluster c;
  c.meta = sampleMeta("", "lastbackend");
  c.status = {2, {8000, 16LL << 30, 0, 220}, {1000, 1LL << 30, 0, 4}};
  return c;
}
template <>
Subnet sample<Subnet>() {
  Subnet s;
  s.meta = sampleMeta("", "10.0.1.0/24");
  s.spec = {"10.0.1.0/24", "node-1", "vxlan", "lb.1", "192.168.0.2", "aa:bb:cc:dd:ee:ff"};
  s.status.state = State::kReady;
  return s;
}

template <class T>
class RoundTrip : public ::testing::Test {};
using AllTypes =
    ::testing::Types<Meta, PodTemplate, Namespace, Service, Deployment, Pod, Endpoint, Volume,
                     Secret, Config, Route, Node, Ingress, Discovery, Exporter, Cluster, Subnet>;
TYPED_TEST_SUITE(RoundTrip, AllTypes);

TYPED_TEST(RoundTrip, Json) {
  TypeParam original = sample<TypeParam>();
  std::string text = toJson(original);
  TypeParam back;
  Status s = fromJson(text, &back);
  ASSERT_TRUE(s.isOk()) << s.toString() << "\n" << text;
  EXPECT_TRUE(back == original) << text << "\n" << toJson(original) << "\n" << toJson(back);
  EXPECT_EQ(toJson(back, true), toJson(original, true));
}

TYPED_TEST(RoundTrip, Yaml) {
  TypeParam original = sample<TypeParam>();
  std::string text = toYaml(original);
  TypeParam back;
  Status s = fromYaml(text, &back);
  ASSERT_TRUE(s.isOk()) << s.toString() << "\n" << text;
  EXPECT_TRUE(back == original) << text << "\n" << toJson(original) << "\n" << toJson(back);
}

TYPED_TEST(RoundTrip, DefaultObject) {
  TypeParam original{};
  TypeParam back;
  ASSERT_TRUE(fromJson(toJson(original), &back).isOk());
  EXPECT_TRUE(back == original);
  ASSERT_TRUE(fromYaml(toYaml(original), &back).isOk()) << toYaml(original);
  EXPECT_TRUE(back == original);
}

TEST(Codec, WireFormat) {
  Service s = sample<Service>();
  std::string j = toJson(s);
  EXPECT_NE(j.find("\"state\":\"degradation\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"selflink\":\"demo:2048\""), std::string::npos) << j;
  EXPECT_NE(j.find("\"container_port\":8080"), std::string::npos) << j;
  EXPECT_NE(j.find("\"template\":"), std::string::npos) << j;
  EXPECT_NE(j.find("\"replicas\":0"), std::string::npos) << j;

  Secret sec = sample<Secret>();
  std::string sj = toJson(sec);
  EXPECT_NE(sj.find("\"pw\":\"czNjcjN0\""), std::string::npos) << sj;  // base64("s3cr3t")
  EXPECT_NE(sj.find("\"bin\":\"AAH//g==\""), std::string::npos) << sj;
}

struct BadInput {
  const char* json;
  const char* field;
};

TEST(Codec, StrictDecodingNamesTheField) {
  const BadInput cases[] = {
      {R"({"meta":{"name":1}})", "meta.name"},
      {R"({"meta":{"nmae":"x"}})", "meta.nmae"},
      {R"({"spec":{"replicas":"2"}})", "spec.replicas"},
      {R"({"spec":{"replicas":2.5}})", "spec.replicas"},
      {R"({"spec":{"replicas":99999999999}})", "spec.replicas"},
      {R"({"spec":{"template":{"containers":{}}}})", "spec.template.containers"},
      {R"({"spec":{"template":{"containers":[{"ports":["1:2/sctp"]}]}}})",
       "spec.template.containers[0].ports[0]"},
      {R"({"status":{"state":"Ready"}})", "status.state"},
      {R"({"spec":{"template":{"containers":[{"security":{"privileged":"yes"}}]}}})",
       "spec.template.containers[0].security.privileged"},
      {R"({"spec":{"template":{"containers":[{"resources":{"limits":{"ram":-1}}}]}}})",
       "spec.template.containers[0].resources.limits.ram"},
      {R"({"bogus":true})", "bogus"},
      {R"([])", ""},
  };
  for (const auto& c : cases) {
    Service s;
    Status st = fromJson(c.json, &s);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << c.json;
    EXPECT_EQ(st.field(), c.field) << c.json << " -> " << st.toString();
  }
  Secret sec;
  Status st = fromJson(R"({"spec":{"data":{"k":"not base64!"}}})", &sec);
  EXPECT_EQ(st.field(), "spec.data.k");
}

TEST(Codec, LimitsAndGarbage) {
  Service s;
  std::string deep(200, '[');
  EXPECT_EQ(fromJson(deep, &s).code(), Code::kInvalidArgument);
  std::string deepYaml(200, '[');
  EXPECT_EQ(fromYaml(deepYaml, &s).code(), Code::kInvalidArgument);
  std::string huge(kMaxDocumentBytes + 1, ' ');
  EXPECT_EQ(fromJson(huge, &s).code(), Code::kTooLarge);
  EXPECT_EQ(fromYaml(huge, &s).code(), Code::kTooLarge);
  EXPECT_FALSE(fromJson("{", &s).isOk());
  EXPECT_FALSE(fromYaml("a: [", &s).isOk());
  EXPECT_FALSE(fromYaml("a: 1\n---\nb: 2\n", &s).isOk());
  // Billion laughs: aliases must not expand without bound.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  EXPECT_FALSE(fromYaml(bomb, &s).isOk());
}

TEST(Codec, YamlScalarsAreReadAsText) {
  Service s;
  ASSERT_TRUE(fromYaml("spec:\n  replicas: '3'\n", &s).isOk());
  EXPECT_EQ(s.spec.replicas, 3);
  ASSERT_TRUE(fromYaml("meta:\n  name: 2048\n  labels: {a: 1.10, b: true, c: ''}\n", &s).isOk());
  EXPECT_EQ(s.meta.name, "2048");
  EXPECT_EQ(s.meta.labels["a"], "1.10");  // not 1.1: text is kept exactly
  EXPECT_EQ(s.meta.labels["b"], "true");
  EXPECT_EQ(s.meta.labels["c"], "");
  EXPECT_FALSE(fromYaml("spec:\n  replicas: two\n", &s).isOk());
}

}  // namespace
}  // namespace lb::types

namespace lb::types {
namespace {

TEST(Codec, YamlKeepsControlCharactersAndEdgeSpaces) {
  Meta m;
  for (std::string s :
       {std::string("a\r\r"), std::string(" lead"), std::string("trail "), std::string("tab\there"),
        std::string("nl\nx\n"), std::string("\x01\x7f"), std::string("caf\xc3\xa9")}) {
    m.description = s;
    Meta back;
    ASSERT_TRUE(fromYaml(toYaml(m), &back).isOk()) << toYaml(m);
    EXPECT_EQ(back.description, s) << toYaml(m);
  }
}

}  // namespace
}  // namespace lb::types
