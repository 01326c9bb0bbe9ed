#include <gtest/gtest.h>

#include "lastbackend/types/codec.h"
#include "lastbackend/types/quantity.h"
#include "lastbackend/types/shell.h"
#include "lastbackend/types/validation.h"

namespace lb::types {
namespace {

TEST(Quantity, Memory) {
  struct Case {
    const char* text;
    int64_t bytes;
  } cases[] = {
      {"512MB", 512LL << 20}, {"1GB", 1LL << 30},   {"256Mi", 256LL << 20},
      {"1Gi", 1LL << 30},     {"1024", 1024},       {"64k", 64LL << 10},
      {"2kib", 2048},         {"1.5GB", 3LL << 29}, {"0", 0},
      {"1TB", 1LL << 40},     {"10b", 10},          {"0.5Ki", 512},
  };
  for (const auto& c : cases) {
    auto v = parseMemory(c.text);
    ASSERT_TRUE(v.isOk()) << c.text << ": " << v.status().toString();
    EXPECT_EQ(*v, c.bytes) << c.text;
  }
  for (const char* bad : {"", "MB", "-1MB", "1.2.3GB", "12XB", " 1GB", "1GB ", "1e9", ".5GB",
                          "5.GB", "0.3B", "99999999999999999999", "9999999999TB"}) {
    EXPECT_FALSE(parseMemory(bad).isOk()) << bad;
  }
}

TEST(Quantity, Cpu) {
  EXPECT_EQ(*parseCpu("0.5"), 500);
  EXPECT_EQ(*parseCpu("500m"), 500);
  EXPECT_EQ(*parseCpu("2"), 2000);
  EXPECT_EQ(*parseCpu("1.25"), 1250);
  EXPECT_EQ(*parseCpu("0m"), 0);
  for (const char* bad : {"", "m", "-1", "0.0001", "1.5m", "abc", "1 m", "2cores"})
    EXPECT_FALSE(parseCpu(bad).isOk()) << bad;
}

TEST(Quantity, FormatRoundTrips) {
  for (int64_t b : {0LL, 1LL, 1023LL, 1024LL, 512LL << 20, 3LL << 29, 5LL << 40, 123456789LL}) {
    EXPECT_EQ(*parseMemory(formatMemory(b)), b) << formatMemory(b);
  }
  EXPECT_EQ(formatMemory(512LL << 20), "512MB");
  EXPECT_EQ(formatCpu(500), "500m");
  EXPECT_EQ(formatCpu(2000), "2");
  for (int64_t m : {0, 1, 500, 1000, 1500, 64000}) EXPECT_EQ(*parseCpu(formatCpu(m)), m);
}

TEST(Shell, Split) {
  using V = std::vector<std::string>;
  struct Case {
    const char* in;
    V out;
  } cases[] = {
      {"httpd -f -p 8080", {"httpd", "-f", "-p", "8080"}},
      {"  a   b\tc  ", {"a", "b", "c"}},
      {"sh -c 'echo \"hi\" $HOME'", {"sh", "-c", "echo \"hi\" $HOME"}},
      {"echo \"a \\\"b\\\" \\\\ \\n\"", {"echo", "a \"b\" \\ \\n"}},
      {"a\\ b c", {"a b", "c"}},
      {"''", {""}},
      {"a''b", {"ab"}},
      {"x=\"1 2\"y", {"x=1 2y"}},
      {"", {}},
      {"'it'\\''s'", {"it's"}},
  };
  for (const auto& c : cases) {
    auto v = splitShell(c.in);
    ASSERT_TRUE(v.isOk()) << c.in;
    EXPECT_EQ(*v, c.out) << c.in;
  }
  for (const char* bad : {"'open", "\"open", "trailing\\"})
    EXPECT_FALSE(splitShell(bad).isOk()) << bad;
}

TEST(Ports, ParseAndFormat) {
  auto p = parsePortMapping("80:8080/tcp");
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->port, 80);
  EXPECT_EQ(p->containerPort, 8080);
  EXPECT_EQ(p->protocol, "tcp");
  EXPECT_EQ(formatPortMapping(*p), "80:8080/tcp");
  auto single = parsePortMapping("53/udp");
  ASSERT_TRUE(single.isOk());
  EXPECT_EQ(single->port, 53);
  EXPECT_EQ(single->containerPort, 53);
  EXPECT_EQ(single->protocol, "udp");
  for (const char* bad : {"80:8080/xyz", "0:80", "80:0", "65536:80", "80:65536", "", ":80",
                          "80:", "a:b", "80:80/", "-1:80", "80:80:80", "080000"})
    EXPECT_FALSE(parsePortMapping(bad).isOk()) << bad;
}

TEST(Names, DnsLabelLike) {
  for (std::string ok : {std::string("2048"), std::string("a"), std::string("web-1"),
                         std::string("0abc"), std::string(63, 'a')})
    EXPECT_TRUE(isValidName(ok)) << ok;
  for (std::string bad :
       {std::string(""), std::string("-a"), std::string("a-"), std::string("Web"),
        std::string("a_b"), std::string("a.b"), std::string("a b"), std::string(64, 'a')})
    EXPECT_FALSE(isValidName(bad)) << bad;
  auto s = validateName("Bad", "meta.name");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.field(), "meta.name");
}

TEST(Meta, SelflinksAndStates) {
  EXPECT_EQ(namespaceSelflink("demo"), "demo");
  EXPECT_EQ(objectSelflink("demo", "web"), "demo:web");
  EXPECT_EQ(deploymentSelflink("demo", "svc", "dep"), "demo:svc:dep");
  EXPECT_EQ(podSelflink("demo", "svc", "dep", "pod"), "demo:svc:dep:pod");
  EXPECT_EQ(nodeSelflink("host-1"), "host-1");
  for (State s : {State::kCreated, State::kProvision, State::kReady, State::kError,
                  State::kDegradation, State::kDestroy, State::kDestroyed})
    EXPECT_EQ(parseState(stateName(s)), s);
  EXPECT_STREQ(stateName(State::kReady), "ready");
  EXPECT_FALSE(parseState("Ready").has_value());
}

PodTemplate sampleTemplate() {
  PodTemplate t;
  ContainerSpec c;
  c.name = "web";
  c.image.name = "busybox";
  c.command = {"httpd", "-f"};
  c.env.push_back(EnvVar{"A", std::string("1"), std::nullopt, std::nullopt});
  c.resources.limits.ram = 512LL << 20;
  c.volumes.push_back(VolumeMount{"data", "/data", "", false});
  t.containers.push_back(c);
  t.volumes.push_back(TemplateVolume{"data", std::nullopt, std::nullopt, VolumeRef{"vol"}});
  return t;
}

TEST(TemplateHash, StableAndSensitive) {
  PodTemplate t = sampleTemplate();
  std::string h = templateHash(t);
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h, templateHash(sampleTemplate()));
  // Pinned values: the hash must not change between runs or builds, or an
  // upgrade would roll every deployment.
  EXPECT_EQ(templateHash(PodTemplate{}), "08f44b07b5901a25");
  EXPECT_EQ(h, "d1303d770b2428f7");

  auto differs = [&](auto mutate) {
    PodTemplate m = sampleTemplate();
    mutate(m);
    return templateHash(m) != h;
  };
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].image.name = "busybox:2"; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].env[0].value = "2"; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].command.push_back("-v"); }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].resources.limits.ram = 1; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].resources.request.cpu = 100; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.volumes[0].volume->name = "other"; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].volumes[0].readonly = true; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].security.privileged = true; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].probes.liveness = Probe{}; }));
  EXPECT_TRUE(differs([](PodTemplate& m) { m.containers[0].args = {"a"}; }));

  // Replicas live outside the template: scaling a service keeps its hash.
  ServiceSpec a, b;
  a.template_ = b.template_ = t;
  a.replicas = 1;
  b.replicas = 5;
  EXPECT_EQ(templateHash(a.template_), templateHash(b.template_));
}

TEST(DeploymentHash, TemplateAloneOrWithTheDataOfEnvReferences) {
  PodTemplate t = sampleTemplate();
  auto none = [](bool, const std::string&) -> std::optional<std::string> { return std::nullopt; };
  // No env reference: the template's hash, whatever the secrets hold.
  EXPECT_EQ(deploymentHash(t, none), templateHash(t));
  t.containers[0].env.push_back(EnvVar{"P", std::nullopt, KeyRef{"db", "password"}, std::nullopt});
  std::string data = R"({"spec":{"data":{"password":"a"}}})";
  auto secrets = [&](bool secret, const std::string& name) -> std::optional<std::string> {
    if (secret && name == "db") return data;
    return std::nullopt;
  };
  const std::string h = deploymentHash(t, secrets);
  EXPECT_NE(h, templateHash(t));
  EXPECT_EQ(h, deploymentHash(t, secrets));
  data = R"({"spec":{"data":{"password":"b"}}})";
  EXPECT_NE(deploymentHash(t, secrets), h) << "a changed secret names a new deployment";
  EXPECT_NE(deploymentHash(t, none), deploymentHash(t, secrets)) << "so does its creation";
}

}  // namespace
}  // namespace lb::types
