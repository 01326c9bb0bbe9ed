#include "lastbackend/types/manifest.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lastbackend/types/validation.h"

namespace lb::types {
namespace {

const std::string kData = LB_TYPES_TEST_DATA;

std::string readData(const std::string& name) {
  std::ifstream in(kData + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Document> parseFile(const std::string& name) {
  auto docs = parseManifests(readData(name), ParseOptions{kData + "/valid"});
  EXPECT_TRUE(docs.isOk()) << name << ": " << docs.status().toString();
  return docs.isOk() ? *docs : std::vector<Document>{};
}

TEST(Manifest, EveryReferenceExampleParses) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(kData + "/valid")) {
    if (!e.is_regular_file()) continue;
    ++files;
    std::string name = "valid/" + e.path().filename().string();
    auto docs = parseFile(name);
    ASSERT_FALSE(docs.empty()) << name;
    for (const auto& d : docs) {
      // Emitting and re-parsing yields the same document.
      auto again = parseManifests(toManifestYaml(d));
      ASSERT_TRUE(again.isOk()) << name << ": " << again.status().toString() << "\n"
                                << toManifestYaml(d);
      EXPECT_TRUE((*again)[0] == d) << toManifestYaml(d);
      auto againJson = parseManifests(toManifestJson(d, true));
      ASSERT_TRUE(againJson.isOk()) << againJson.status().toString();
      EXPECT_TRUE((*againJson)[0] == d) << toManifestJson(d, true);
    }
  }
  EXPECT_GE(files, 14);
}

TEST(Manifest, Service2048AsTheReferenceWritesIt) {
  auto docs = parseFile("valid/service-2048.yaml");
  ASSERT_EQ(docs.size(), 1u);
  const Document& d = docs[0];
  EXPECT_EQ(d.kind, Kind::kService);
  EXPECT_EQ(d.version, "v1");
  EXPECT_EQ(d.meta.name, "2048");
  EXPECT_EQ(d.meta.labels.at("type"), "proxy");
  const auto& spec = std::get<ServiceSpec>(d.spec);
  EXPECT_EQ(spec.replicas, 2);
  EXPECT_EQ(spec.selector.node, "");
  EXPECT_EQ(spec.selector.labels.at("type"), "example");
  ASSERT_EQ(spec.network.ports.size(), 1u);
  EXPECT_EQ(spec.network.ports[0], (PortMapping{80, 80, "tcp"}));
  ASSERT_EQ(spec.template_.containers.size(), 1u);
  EXPECT_EQ(spec.template_.containers[0].name, "nginx");
  EXPECT_EQ(spec.template_.containers[0].image.name, "evilroot/docker-2048");

  Service svc;
  ASSERT_TRUE(fromDocument(d, "demo", &svc).isOk());
  EXPECT_EQ(svc.meta.selflink, "demo:2048");
  EXPECT_EQ(svc.meta.namespace_, "demo");
  EXPECT_EQ(svc.spec, spec);
  Document back = toDocument(svc);
  EXPECT_EQ(back, d);
}

TEST(Manifest, FullServiceJson) {
  auto docs = parseFile("valid/service-full.json");
  ASSERT_EQ(docs.size(), 1u);
  const auto& c = std::get<ServiceSpec>(docs[0].spec).template_.containers[0];
  EXPECT_EQ(c.command, (std::vector<std::string>{"httpd", "-f", "-p", "8080", "-h", "/var/www"}));
  EXPECT_EQ(c.resources.limits.ram, 512LL << 20);
  EXPECT_EQ(c.resources.limits.cpu, 500);
  EXPECT_EQ(c.resources.request.ram, 256LL << 20);
  EXPECT_EQ(c.resources.request.cpu, 250);
  EXPECT_EQ(c.probes.readiness->exec->command, (std::vector<std::string>{"cat", "/tmp/ready"}));
  EXPECT_EQ(c.env[1].secret->key, "password");
  EXPECT_EQ(c.ports[0], (PortMapping{8080, 8080, "tcp"}));
}

TEST(Manifest, ConfigFileIsReadRelativeToBaseDir) {
  auto docs = parseFile("valid/config-lastbackend.yaml");
  ASSERT_EQ(docs.size(), 1u);
  Config cfg;
  ASSERT_TRUE(fromDocument(docs[0], "demo", &cfg).isOk());
  EXPECT_EQ(cfg.spec.type, "file");
  EXPECT_EQ(cfg.spec.data.at("config.yml"), readData("valid/contrib/config.yml"));
  EXPECT_EQ(cfg.meta.selflink, "demo:lastbackend");

  auto missing =
      parseManifests(readData("valid/config-lastbackend.yaml"), ParseOptions{"/nonexistent"});
  ASSERT_FALSE(missing.isOk());
  EXPECT_EQ(missing.status().field(), "spec.data[0].file");
}

TEST(Manifest, MultiDocumentAndConversions) {
  auto docs = parseFile("valid/multi.yaml");
  ASSERT_EQ(docs.size(), 3u);
  Namespace ns;
  ASSERT_TRUE(fromDocument(docs[0], &ns).isOk());
  EXPECT_EQ(ns.meta.selflink, "demo");
  Secret sec;
  ASSERT_TRUE(fromDocument(docs[1], "demo", &sec).isOk());
  EXPECT_EQ(sec.spec.type, "auth");
  EXPECT_EQ(sec.spec.data.at("password"), "pa:ss");
  Secret again;
  ASSERT_TRUE(fromDocument(toDocument(sec), "demo", &again).isOk());
  EXPECT_EQ(again, sec);
  Service svc;
  ASSERT_TRUE(fromDocument(docs[2], "demo", &svc).isOk());
  EXPECT_EQ(svc.spec.replicas, 0);
  EXPECT_EQ(
      svc.spec.template_.containers[0].command,
      (std::vector<std::string>{"sh", "-c", "while true; do echo \"hi there\"; sleep 1; done"}));
  // Wrong kind is refused.
  EXPECT_EQ(fromDocument(docs[1], "demo", &svc).field(), "kind");

  Route route;
  auto r = parseFile("valid/route-2048.yaml");
  ASSERT_TRUE(fromDocument(r[0], "demo", &route).isOk());
  EXPECT_EQ(route.spec.rules[0].service, "2048");
  EXPECT_EQ(toDocument(route), r[0]);
  Volume vol;
  auto v = parseFile("valid/volume-data.yaml");
  ASSERT_TRUE(fromDocument(v[0], "demo", &vol).isOk());
  EXPECT_EQ(vol.spec.capacity.storage, 1LL << 30);
  EXPECT_EQ(toDocument(vol), v[0]);
  auto n = parseFile("valid/namespace-demo.yaml");
  ASSERT_TRUE(fromDocument(n[0], &ns).isOk());
  EXPECT_EQ(ns.spec.resources.limits.ram, 2LL << 30);
  EXPECT_EQ(toDocument(ns), n[0]);
}

TEST(Manifest, ApplyComputesTheDiff) {
  Service svc;
  ASSERT_TRUE(fromDocument(parseFile("valid/service-2048.yaml")[0], "demo", &svc).isOk());
  svc.meta.created = "2026-01-01T00:00:00Z";
  svc.status.state = State::kReady;

  auto scaled = applyManifest(parseFile("valid/service-2048-update.yaml")[0], &svc);
  ASSERT_TRUE(scaled.isOk());
  EXPECT_TRUE(scaled->replicasChanged);
  EXPECT_TRUE(scaled->specChanged);
  EXPECT_FALSE(scaled->templateChanged);
  EXPECT_FALSE(scaled->metaChanged);
  EXPECT_EQ(svc.spec.replicas, 1);
  EXPECT_EQ(svc.meta.created, "2026-01-01T00:00:00Z");
  EXPECT_EQ(svc.status.state, State::kReady);

  auto env = applyManifest(parseFile("valid/service-secret-env.yaml")[0], &svc);
  ASSERT_TRUE(env.isOk());
  EXPECT_TRUE(env->templateChanged);
  EXPECT_FALSE(env->replicasChanged);

  auto same = applyManifest(parseFile("valid/service-secret-env.yaml")[0], &svc);
  ASSERT_TRUE(same.isOk());
  EXPECT_FALSE(same->specChanged || same->templateChanged || same->metaChanged);

  Document other = parseFile("valid/service-2048.yaml")[0];
  other.meta.name = "web";
  EXPECT_EQ(applyManifest(other, &svc).status().field(), "meta.name");
}

// ---- malformed manifests --------------------------------------------------

const char* kServiceHead = "kind: Service\nversion: v1\nmeta:\n  name: web\nspec:\n";

// A service whose only container is `container` (indented under "- ").
std::string service(const std::string& specBody) { return kServiceHead + specBody; }

std::string withContainer(const std::string& extra, const std::string& templateExtra = "") {
  return service("  template:\n    containers:\n    - name: c\n      image: {name: busybox}\n" +
                 extra + templateExtra);
}

struct Malformed {
  std::string name;
  std::string text;
  std::string field;
  Code code = Code::kInvalidArgument;
};

std::vector<Malformed> malformedCases() {
  return {
      {"missing kind", "version: v1\nmeta: {name: a}\n", "kind"},
      {"unknown kind", "kind: Pod\nversion: v1\nmeta: {name: a}\n", "kind"},
      {"kind not a string", "kind: [Service]\nversion: v1\nmeta: {name: a}\n", "kind"},
      {"missing version", "kind: Namespace\nmeta: {name: a}\n", "version"},
      {"bad version", "kind: Namespace\nversion: v2\nmeta: {name: a}\n", "version"},
      {"missing meta", "kind: Namespace\nversion: v1\n", "meta.name"},
      {"missing meta.name", "kind: Namespace\nversion: v1\nmeta: {description: x}\n", "meta.name"},
      {"uppercase name", "kind: Namespace\nversion: v1\nmeta: {name: Demo}\n", "meta.name"},
      {"name with underscore", "kind: Namespace\nversion: v1\nmeta: {name: a_b}\n", "meta.name"},
      {"name too long",
       "kind: Namespace\nversion: v1\nmeta: {name: " + std::string(64, 'a') + "}\n", "meta.name"},
      {"unknown top-level field", "kind: Namespace\nversion: v1\nmeta: {name: a}\nstatus: {}\n",
       "status"},
      {"unknown meta field", "kind: Namespace\nversion: v1\nmeta: {name: a, namespace: b}\n",
       "meta.namespace"},
      {"labels not a map", "kind: Namespace\nversion: v1\nmeta: {name: a, labels: [x]}\n",
       "meta.labels"},
      {"no containers", service("  replicas: 1\n"), "spec.template.containers"},
      {"containers not a list", service("  template:\n    containers: nginx\n"),
       "spec.template.containers"},
      {"missing image name", service("  template:\n    containers:\n    - name: c\n"),
       "spec.template.containers[0].image.name"},
      {"image is a string",
       service("  template:\n    containers:\n    - name: c\n      image: nginx\n"),
       "spec.template.containers[0].image"},
      {"negative replicas",
       service("  replicas: -1\n" + withContainer("").substr(std::string(kServiceHead).size())),
       "spec.replicas"},
      {"replicas not a number", service("  replicas: many\n"), "spec.replicas"},
      {"bad protocol", service("  network:\n    ports: [\"80:8080/xyz\"]\n"),
       "spec.network.ports[0]"},
      {"port zero", service("  network:\n    ports: [\"0:8080/tcp\"]\n"), "spec.network.ports[0]"},
      {"port too big", service("  network:\n    ports: [\"80:65536\"]\n"), "spec.network.ports[0]"},
      {"ports not a list", service("  network:\n    ports: \"80:80\"\n"), "spec.network.ports"},
      {"unknown spec field", service("  replica: 2\n"), "spec.replica"},
      {"unknown strategy",
       service("  strategy: {type: canary}\n" +
               withContainer("").substr(std::string(kServiceHead).size())),
       "spec.strategy.type"},
      {"negative surge",
       service("  strategy: {type: rolling, surge: -1}\n" +
               withContainer("").substr(std::string(kServiceHead).size())),
       "spec.strategy.surge"},
      {"rolling that cannot move",
       service("  strategy: {type: rolling, surge: 0, unavailable: 0}\n" +
               withContainer("").substr(std::string(kServiceHead).size())),
       "spec.strategy.surge"},
      {"deadline not a number",
       service("  strategy: {deadline: soon}\n" +
               withContainer("").substr(std::string(kServiceHead).size())),
       "spec.strategy.deadline"},
      {"unknown strategy field",
       service("  strategy: {maxSurge: 1}\n" +
               withContainer("").substr(std::string(kServiceHead).size())),
       "spec.strategy.maxSurge"},
      {"unknown container field", withContainer("      imagePullPolicy: always\n"),
       "spec.template.containers[0].imagePullPolicy"},
      {"bad ram", withContainer("      resources: {limits: {ram: 12XB}}\n"),
       "spec.template.containers[0].resources.limits.ram"},
      {"bad cpu", withContainer("      resources: {request: {cpu: lots}}\n"),
       "spec.template.containers[0].resources.request.cpu"},
      {"request above limit",
       withContainer("      resources: {limits: {ram: 1MB}, request: {ram: 2MB}}\n"),
       "spec.template.containers[0].resources.request.ram"},
      {"duplicate container",
       service("  template:\n    containers:\n    - name: c\n      image: {name: a}\n"
               "    - name: c\n      image: {name: b}\n"),
       "spec.template.containers[1].name"},
      {"env without source", withContainer("      env:\n      - name: A\n"),
       "spec.template.containers[0].env[0]"},
      {"env with two sources",
       withContainer("      env:\n      - name: A\n        value: x\n"
                     "        secret: {name: s, key: k}\n"),
       "spec.template.containers[0].env[0]"},
      {"env secret without key",
       withContainer("      env:\n      - name: A\n        secret: {name: s}\n"),
       "spec.template.containers[0].env[0].secret.key"},
      {"env missing name", withContainer("      env:\n      - value: x\n"),
       "spec.template.containers[0].env[0].name"},
      {"undeclared volume",
       withContainer("      volume:\n      - name: data\n        path: /data\n"),
       "spec.template.containers[0].volume[0].name"},
      {"relative mount path",
       withContainer("      volume:\n      - name: data\n        path: data\n",
                     "    volumes:\n    - name: data\n"),
       "spec.template.containers[0].volume[0].path"},
      {"volume with two sources",
       withContainer(
           "", "    volumes:\n    - name: v\n      secret: {name: s}\n      config: {name: c}\n"),
       "spec.template.volumes[0]"},
      {"duplicate volume", withContainer("", "    volumes:\n    - name: v\n    - name: v\n"),
       "spec.template.volumes[1].name"},
      {"command with open quote", withContainer("      command: \"sh -c 'oops\"\n"),
       "spec.template.containers[0].command"},
      {"command wrong type", withContainer("      command: {sh: c}\n"),
       "spec.template.containers[0].command"},
      {"probe with two actions",
       withContainer(
           "      probes:\n        liveness: {exec: {command: [true]}, tcp: {port: 80}}\n"),
       "spec.template.containers[0].probes.liveness"},
      {"bad restart policy", withContainer("      restart: {policy: sometimes}\n"),
       "spec.template.containers[0].restart.policy"},
      {"secret bad type", "kind: Secret\nversion: v1\nmeta: {name: s}\nspec: {type: binary}\n",
       "spec.type"},
      {"config auth type", "kind: Config\nversion: v1\nmeta: {name: s}\nspec: {type: auth}\n",
       "spec.type"},
      {"data item without value",
       "kind: Secret\nversion: v1\nmeta: {name: s}\nspec:\n  data:\n  - key: a\n", "spec.data[0]"},
      {"data item with both",
       "kind: Secret\nversion: v1\nmeta: {name: s}\nspec:\n  data:\n  - key: a\n"
       "    value: x\n    file: y\n",
       "spec.data[0]"},
      {"data duplicate key",
       "kind: Config\nversion: v1\nmeta: {name: s}\nspec:\n  data:\n  - {key: a, value: x}\n"
       "  - {key: a, value: y}\n",
       "spec.data[1].key"},
      {"data key with slash",
       "kind: Config\nversion: v1\nmeta: {name: s}\nspec:\n  data:\n  - {key: ../a, value: x}\n",
       "spec.data[0].key"},
      {"route without rules", "kind: Route\nversion: v1\nmeta: {name: r}\nspec: {port: 80}\n",
       "spec.rules"},
      {"route bad port",
       "kind: Route\nversion: v1\nmeta: {name: r}\nspec:\n  port: 0\n  rules: [{service: a, port: "
       "80}]\n",
       "spec.port"},
      {"route rule bad service",
       "kind: Route\nversion: v1\nmeta: {name: r}\nspec:\n  rules: [{service: A!, port: 80}]\n",
       "spec.rules[0].service"},
      {"volume bad capacity",
       "kind: Volume\nversion: v1\nmeta: {name: v}\nspec: {capacity: {storage: lots}}\n",
       "spec.capacity.storage"},
      {"duplicate key", "kind: Namespace\nversion: v1\nmeta: {name: a}\nmeta: {name: b}\n", "meta"},
      {"not a mapping", "- kind: Namespace\n", ""},
      {"syntax error", "kind: [Namespace\n", ""},
      {"second document bad",
       "kind: Namespace\nversion: v1\nmeta: {name: a}\n---\nkind: Namespace\nversion: v1\n",
       "meta.name"},
      {"json wrong type",
       R"({"kind":"Service","version":"v1","meta":{"name":"a"},"spec":{"replicas":"2"}})",
       "spec.replicas"},
      {"json unknown field", R"({"kind":"Namespace","version":"v1","meta":{"name":"a"},"extra":1})",
       "extra"},
      {"empty input", "", ""},
      {"too large", "kind: Namespace\n" + std::string(kMaxDocumentBytes, '#'), "", Code::kTooLarge},
      {"too deep", "a: " + std::string(100, '[') + std::string(100, ']') + "\n",
       [] {
         std::string p = "a";
         for (int i = 0; i < 64; ++i) p += "[0]";
         return p;
       }()},
      {"NUL byte",
       std::string("kind: Namespace\nversion: v1\nmeta: {name: a, description: \"x\0\"}\n", 63),
       ""},
      {"json NUL escape",
       R"({"kind":"Namespace","version":"v1","meta":{"name":"a","description":"\u0000"}})",
       "meta.description"},
      {"invalid utf-8", "kind: Namespace\nversion: v1\nmeta: {name: a, description: \"\xff\"}\n",
       ""},
  };
}

TEST(Manifest, MalformedAreRejectedWithTheFieldPath) {
  auto cases = malformedCases();
  EXPECT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    auto docs = parseManifests(c.text, ParseOptions{"/nonexistent"});
    ASSERT_FALSE(docs.isOk()) << c.name;
    EXPECT_EQ(docs.status().code(), c.code) << c.name << ": " << docs.status().toString();
    EXPECT_EQ(docs.status().field(), c.field) << c.name << ": " << docs.status().toString();
    EXPECT_FALSE(docs.status().message().empty()) << c.name;
  }
}

TEST(Manifest, RequiredMessageAndDocumentContext) {
  auto docs = parseManifests(service("  template:\n    containers:\n    - name: c\n"));
  ASSERT_FALSE(docs.isOk());
  EXPECT_EQ(docs.status().field(), "spec.template.containers[0].image.name");
  EXPECT_EQ(docs.status().message(), "required");

  auto multi = parseManifests("kind: Namespace\nversion: v1\nmeta: {name: a}\n---\nkind: Nope\n");
  ASSERT_FALSE(multi.isOk());
  EXPECT_EQ(multi.status().field(), "kind");
  EXPECT_EQ(multi.status().message().rfind("document 2: ", 0), 0u) << multi.status().message();
}

}  // namespace
}  // namespace lb::types

namespace lb::types {
namespace {

// A single huge mapping must not make parsing quadratic (a 4 MiB request
// would otherwise pin an api thread for minutes).
TEST(Manifest, HugeMappingParsesQuickly) {
  std::string yaml = "kind: Namespace\nversion: v1\nmeta:\n  name: a\n  labels:\n";
  std::string json = R"({"kind":"Namespace","version":"v1","meta":{"name":"a","labels":{)";
  for (int i = 0; i < 150000; ++i) {
    yaml += "    k" + std::to_string(i) + ": v\n";
    json += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  }
  json += "}}}";
  for (const std::string* text : {&yaml, &json}) {
    auto start = std::chrono::steady_clock::now();
    auto docs = parseManifests(*text);
    ASSERT_TRUE(docs.isOk()) << docs.status().toString();
    EXPECT_EQ((*docs)[0].meta.labels.size(), 150000u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  }
}

}  // namespace
}  // namespace lb::types
