// The generic loader: precedence, validation and its messages, file syntax,
// durations, lists, help and redaction, and the typed builders.

#include <gtest/gtest.h>

#include <fstream>

#include "lastbackend/config/config.h"
#include "lastbackend/config/options.h"

namespace lb::config {
namespace {

using Args = std::vector<std::string>;
using Env = std::map<std::string, std::string>;

std::string writeFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

const ComponentSpec& spec(std::string_view name) {
  const ComponentSpec* s = findComponent(name);
  EXPECT_NE(s, nullptr) << name;
  return *s;
}

Values parseOk(std::string_view component, const Args& args, const Env& env = {}) {
  auto parsed = parse(spec(component), args, mapEnv(env));
  EXPECT_TRUE(parsed.isOk()) << parsed.status().message();
  return parsed ? parsed->values : Values{};
}

std::string parseError(std::string_view component, const Args& args, const Env& env = {}) {
  auto parsed = parse(spec(component), args, mapEnv(env));
  EXPECT_FALSE(parsed.isOk());
  return parsed ? std::string() : parsed.status().message();
}

// flag > env > file > default, for an int, a string, a list and a duration.
struct PrecedenceCase {
  std::string component, flag, env, key, fileText, envValue, flagValue, defaultShown;
  std::string fileShown, envShown, flagShown;
};

class Precedence : public ::testing::TestWithParam<PrecedenceCase> {};

TEST_P(Precedence, FlagBeatsEnvBeatsFileBeatsDefault) {
  const auto& c = GetParam();
  auto shown = [&](const Values& v) {
    if (c.key == "dns.ttl" || c.key == "node.offline_timeout")
      return formatDuration(v.duration(c.key));
    if (c.key == "storage.etcd.endpoints") return formatValue(v.list(c.key));
    if (c.key.find("port") != std::string::npos) return std::to_string(v.integer(c.key));
    return v.str(c.key);
  };
  std::string file = writeFile(c.component + "_prec.yml", c.fileText);

  Values v = parseOk(c.component, {});
  EXPECT_EQ(shown(v), c.defaultShown);
  EXPECT_EQ(v.source(c.key), Source::kDefault);

  v = parseOk(c.component, {"-c", file});
  EXPECT_EQ(shown(v), c.fileShown);
  EXPECT_EQ(v.source(c.key), Source::kFile);

  v = parseOk(c.component, {}, {{"LB_CONFIG", file}, {c.env, c.envValue}});
  EXPECT_EQ(shown(v), c.envShown);
  EXPECT_EQ(v.source(c.key), Source::kEnv);

  v = parseOk(c.component, {"--config", file, "--" + c.flag, c.flagValue}, {{c.env, c.envValue}});
  EXPECT_EQ(shown(v), c.flagShown);
  EXPECT_EQ(v.source(c.key), Source::kFlag);
}

INSTANTIATE_TEST_SUITE_P(
    Options, Precedence,
    ::testing::Values(
        PrecedenceCase{"api", "bind-port", "LB_BIND_PORT", "server.port", "server:\n  port: 3000\n",
                       "3001", "3002", "2967", "3000", "3001", "3002"},
        PrecedenceCase{"node", "bind-port", "LB_NODE_BIND_PORT", "server.port",
                       "server:\n  port: 4000\n", "4001", "4002", "2965", "4000", "4001", "4002"},
        PrecedenceCase{"api", "domain-internal", "LB_DOMAIN_INTERNAL", "domain.internal",
                       "domain:\n  internal: file.local\n", "env.local", "flag.local", "lb.local",
                       "file.local", "env.local", "flag.local"},
        PrecedenceCase{"controller", "etcd-endpoints", "LB_ETCD_ENDPOINTS",
                       "storage.etcd.endpoints",
                       "storage:\n  etcd:\n    endpoints: [f1:2379, f2:2379]\n", "e1:1,e2:2", "x:1",
                       "127.0.0.1:2379", "f1:2379,f2:2379", "e1:1,e2:2", "x:1"},
        PrecedenceCase{"discovery", "dns-ttl", "LB_DNS_TTL", "dns.ttl", "dns:\n  ttl: 1h\n", "90s",
                       "250ms", "24h", "1h", "1m30s", "250ms"},
        PrecedenceCase{"controller", "node-offline-timeout", "LB_NODE_OFFLINE_TIMEOUT",
                       "node.offline_timeout", "node:\n  offline_timeout: 1m\n", "45s", "10s",
                       "30s", "1m", "45s", "10s"}));

TEST(Loader, ShortFlagsAndEqualsSyntax) {
  Values v = parseOk("api", {"-v", "3"});
  EXPECT_EQ(v.integer("verbose"), 3);
  v = parseOk("api", {"--verbose=5", "--bind-port=8080"});
  EXPECT_EQ(v.integer("verbose"), 5);
  EXPECT_EQ(v.integer("server.port"), 8080);
}

TEST(Loader, HelpIsReportedNotRun) {
  auto parsed = parse(spec("api"), {"--help"}, mapEnv({}));
  ASSERT_TRUE(parsed.isOk());
  EXPECT_TRUE(parsed->help);
  parsed = parse(spec("node"), {"-h"}, mapEnv({}));
  ASSERT_TRUE(parsed.isOk());
  EXPECT_TRUE(parsed->help);
}

TEST(Loader, UnknownFlagIsNamed) {
  EXPECT_EQ(parseError("api", {"--bind-prot", "1"}), "unknown option '--bind-prot 1'");
  EXPECT_NE(parseError("api", {"stray"}).find("stray"), std::string::npos);
}

TEST(Loader, UnknownConfigKeyNamesFullPathAndFile) {
  std::string file = writeFile("unknown.yml", "server:\n  prot: 1\n");
  EXPECT_EQ(parseError("api", {"-c", file}), "unknown config key 'server.prot' in " + file);
  file = writeFile("unknown_top.yml", "tokn: x\n");
  EXPECT_EQ(parseError("api", {"-c", file}), "unknown config key 'tokn' in " + file);
  // A key of another component is unknown here: controller has no token.
  file = writeFile("other.yml", "token: x\n");
  EXPECT_EQ(parseError("controller", {"-c", file}), "unknown config key 'token' in " + file);
}

TEST(Loader, WrongTypesNameTheSource) {
  std::string file = writeFile("wrongtype.yml", "server:\n  port: abc\n");
  EXPECT_EQ(parseError("api", {"-c", file}),
            "config key 'server.port': expected integer, got 'abc'");
  EXPECT_EQ(parseError("api", {"--bind-port", "abc"}),
            "option --bind-port: expected integer, got 'abc'");
  EXPECT_EQ(parseError("node", {}, {{"LB_NODE_BIND_PORT", "12x"}}),
            "environment variable LB_NODE_BIND_PORT: expected integer, got '12x'");
  file = writeFile("maptype.yml", "server:\n  port:\n    a: 1\n");
  EXPECT_EQ(parseError("api", {"-c", file}),
            "config key 'server.port': expected integer, got a mapping");
  file = writeFile("scalar_group.yml", "server: 5\n");
  EXPECT_EQ(parseError("api", {"-c", file}), "config key 'server': expected a mapping");
}

TEST(Loader, RangesAreCheckedForEverySource) {
  EXPECT_EQ(parseError("api", {"--bind-port", "70000"}),
            "option --bind-port: port 70000 out of range 1-65535");
  EXPECT_EQ(parseError("api", {"--bind-port", "0"}),
            "option --bind-port: port 0 out of range 1-65535");
  EXPECT_EQ(parseError("api", {}, {{"LB_VERBOSE", "8"}}),
            "environment variable LB_VERBOSE: verbose level 8 out of range 0-7");
  std::string file = writeFile("range.yml", "verbose: -1\n");
  EXPECT_EQ(parseError("api", {"-c", file}),
            "config key 'verbose': verbose level -1 out of range 0-7");
  EXPECT_EQ(parseError("controller", {"--services-cidr", "10.0.0.0"}),
            "option --services-cidr: '10.0.0.0' is not a valid CIDR (e.g. 10.96.0.0/16)");
  EXPECT_NE(parseError("controller", {"--services-cidr", "300.1.0.0/16"}).find("not a valid CIDR"),
            std::string::npos);
  parseOk("controller", {"--services-cidr", "fd00:10::/108"});
  EXPECT_EQ(parseError("discovery", {"--dns-ttl", "0s"}),
            "option --dns-ttl: must be positive, got '0s'");
  EXPECT_EQ(parseError("api", {"--storage", "bolt"}),
            "option --storage: unknown value 'bolt' (valid: sqlite, mock)");
  // Only the drivers of this build (storage/drivers.h) are accepted.
  EXPECT_EQ(parseError("api", {"--storage", "etcd"}),
            "option --storage: unknown value 'etcd' (valid: sqlite, mock)");
  EXPECT_EQ(parseError("node", {"--container-runtime", "containerd"}),
            "option --container-runtime: unknown value 'containerd' (valid: docker)");
  // The ingress stats port may be 0: it disables the stats page.
  EXPECT_EQ(parseOk("ingress", {"--haproxy-stat-port", "0"}).integer("haproxy.stats.port"), 0);
}

TEST(Loader, NodeNameLabelsAndStopGrace) {
  std::string file = writeFile("labels.yml",
                               "node:\n  name: edge-1\n  labels: [zone=a, \"tier=web\"]\n"
                               "  stop_grace: 500ms\n");
  auto node = load<NodeConfig>({"-c", file}, mapEnv({}));
  ASSERT_TRUE(node.isOk()) << node.status().message();
  EXPECT_EQ(node->nodeName, "edge-1");
  EXPECT_EQ(node->labels, (std::vector<std::string>{"zone=a", "tier=web"}));
  EXPECT_EQ(node->stopGrace, std::chrono::milliseconds(500));
  auto env = load<NodeConfig>({}, mapEnv({{"LB_NODE_LABELS", "gpu=1,disk="}}));
  ASSERT_TRUE(env.isOk()) << env.status().message();
  EXPECT_EQ(env->labels, (std::vector<std::string>{"gpu=1", "disk="}));
  EXPECT_EQ(env->stopGrace, std::chrono::seconds(5));
  EXPECT_EQ(parseError("node", {"--node-labels", "zone=a,oops"}),
            "option --node-labels: 'oops' is not key=value");
  EXPECT_EQ(parseError("server", {"--node-labels", "=x"}),
            "option --node-labels: '=x' is not key=value");
  EXPECT_EQ(parseError("node", {"--stop-grace", "0"}), "option --stop-grace: must be positive, got '0'");
}

TEST(Loader, NetworkProxyKnowsWhetherItWasGiven) {
  // The reference default "ipvs" is resolved by the node only when nobody
  // asked for it (runtime::cpi::resolveDriver).
  auto byDefault = load<NodeConfig>({}, mapEnv({}));
  ASSERT_TRUE(byDefault.isOk());
  EXPECT_EQ(byDefault->network.proxyDriver, "ipvs");
  EXPECT_FALSE(byDefault->network.proxyDriverSet);
  auto byFlag = load<NodeConfig>({"--network-proxy", "ipvs"}, mapEnv({}));
  ASSERT_TRUE(byFlag.isOk());
  EXPECT_TRUE(byFlag->network.proxyDriverSet);
  auto byEnv = load<NodeConfig>({}, mapEnv({{"LB_NETWORK_PROXY", "nftables"}}));
  ASSERT_TRUE(byEnv.isOk());
  EXPECT_EQ(byEnv->network.proxyDriver, "nftables");
  EXPECT_TRUE(byEnv->network.proxyDriverSet);
  EXPECT_NE(parseError("node", {"--network-proxy", "iptables"}).find("ipvs, nftables"),
            std::string::npos);
}

TEST(Loader, OverlayOptions) {
  auto node = load<NodeConfig>({"--network-vxlan-vni", "42", "--network-vxlan-port", "8472"},
                               mapEnv({{"LB_NETWORK_DRIVER_IFACE_EXTERNAL", "ens5"}}));
  ASSERT_TRUE(node.isOk()) << node.status().message();
  EXPECT_EQ(node->network.overlayDriver, "vxlan");
  EXPECT_EQ(node->network.vxlanVni, 42);
  EXPECT_EQ(node->network.vxlanPort, 8472);
  EXPECT_EQ(node->network.overlayIfaceExternal, "ens5");
  auto defaults = load<NodeConfig>({}, mapEnv({}));
  ASSERT_TRUE(defaults.isOk()) << defaults.status().message();
  EXPECT_EQ(defaults->network.vxlanVni, 1);
  EXPECT_EQ(defaults->network.vxlanPort, 4789);
  EXPECT_EQ(defaults->network.overlayIfaceExternal, "");  // detected by the driver
  EXPECT_EQ(parseError("node", {"--network-vxlan-vni", "0"}),
            "option --network-vxlan-vni: VNI 0 out of range 1-16777215");
  EXPECT_EQ(parseError("node", {"--network-vxlan-vni", "16777216"}),
            "option --network-vxlan-vni: VNI 16777216 out of range 1-16777215");
  EXPECT_EQ(parseError("node", {"--network-vxlan-port", "0"}),
            "option --network-vxlan-port: port 0 out of range 1-65535");
  EXPECT_EQ(parseError("node", {"--network-driver", "flannel"}),
            "option --network-driver: unknown value 'flannel' (valid: vxlan)");
}

TEST(Loader, ReferenceTypoKeyAndCorrectSpellingBothAccepted) {
  std::string typo = writeFile("typo.yml",
                               "network:\n  cni:\n    iterface:\n      external: ens3\n"
                               "      internal: br0\n");
  Values v = parseOk("node", {"-c", typo});
  EXPECT_EQ(v.str("network.cni.iterface.external"), "ens3");
  EXPECT_EQ(v.str("network.cni.iterface.internal"), "br0");
  std::string right =
      writeFile("right.yml", "network:\n  cni:\n    interface:\n      external: ens4\n");
  auto node = load<NodeConfig>({"-c", right}, mapEnv({}));
  ASSERT_TRUE(node.isOk()) << node.status().message();
  EXPECT_EQ(node->network.overlayIfaceExternal, "ens4");
  EXPECT_EQ(node->network.overlayIfaceInternal, "lb0");
  std::string both = writeFile("both.yml",
                               "network:\n  cni:\n    iterface:\n      external: a\n"
                               "    interface:\n      external: b\n");
  EXPECT_NE(parseError("ingress", {"-c", both}).find("set twice"), std::string::npos);
}

TEST(Loader, ReferenceLayoutEmptyValuesAreUnset) {
  // The reference layout leaves cpi.interface.external/internal empty.
  std::string file = writeFile("empty.yml",
                               "# comment\nnetwork:\n  cpi:\n    type: nftables\n    interface:\n"
                               "      external:\n      internal:\n");
  Values v = parseOk("node", {"-c", file});
  EXPECT_EQ(v.str("network.cpi.type"), "nftables");
  EXPECT_EQ(v.str("network.cpi.interface.external"), "eth0");
  parseOk("node", {"-c", writeFile("comments.yml", "# nothing\n")});
}

TEST(Loader, BadFiles) {
  EXPECT_EQ(parseError("api", {"-c", "/nonexistent/lb.yml"}),
            "cannot read config file '/nonexistent/lb.yml'");
  EXPECT_NE(parseError("api", {"-c", writeFile("bad.yml", "server: [\n")}).find("not valid YAML"),
            std::string::npos);
  EXPECT_NE(parseError("api", {"-c", writeFile("list.yml", "- a\n")}).find("expected a mapping"),
            std::string::npos);
}

TEST(Loader, ListsFromEnvFlagsAndFile) {
  Values v = parseOk("ingress", {}, {{"LB_NETWORK_RESOLVERS", "1.1.1.1, 9.9.9.9 ,"}});
  EXPECT_EQ(v.list("network.resolver.servers"), (std::vector<std::string>{"1.1.1.1", "9.9.9.9"}));
  v = parseOk("ingress", {"--network-resolvers", "a", "--network-resolvers", "b,c"});
  EXPECT_EQ(v.list("network.resolver.servers"), (std::vector<std::string>{"a", "b", "c"}));
  std::string file = writeFile("lists.yml",
                               "network:\n  resolver:\n    servers:\n      - 10.0.0.2\n"
                               "      - 10.0.0.3\n");
  v = parseOk("ingress", {"-c", file});
  EXPECT_EQ(v.list("network.resolver.servers"), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  // A scalar where a list is expected is read comma-separated.
  file = writeFile("list_scalar.yml", "storage:\n  etcd:\n    endpoints: a:1,b:2\n");
  EXPECT_EQ(parseOk("api", {"-c", file}).list("storage.etcd.endpoints"),
            (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(parseOk("ingress", {}).list("network.resolver.servers"),
            (std::vector<std::string>{"8.8.8.8", "8.8.4.4"}));
}

TEST(Loader, EmptyEnvironmentVariableCountsAsUnset) {
  std::string file = writeFile("envempty.yml", "name: from-file\n");
  EXPECT_EQ(parseOk("api", {"-c", file}, {{"LB_CLUSTER_NAME", ""}}).str("name"), "from-file");
}

TEST(Loader, ConfigFlagBeatsConfigEnv) {
  std::string a = writeFile("cfg_a.yml", "name: a\n");
  std::string b = writeFile("cfg_b.yml", "name: b\n");
  auto parsed = parse(spec("api"), {"-c", a}, mapEnv({{"LB_CONFIG", b}}));
  ASSERT_TRUE(parsed.isOk());
  EXPECT_EQ(parsed->configFile, a);
  EXPECT_EQ(parsed->values.str("name"), "a");
}

TEST(Duration, ParsesAndFormats) {
  using std::chrono::milliseconds;
  EXPECT_EQ(*parseDuration("24h"), milliseconds(24 * 3600 * 1000));
  EXPECT_EQ(*parseDuration("30s"), milliseconds(30000));
  EXPECT_EQ(*parseDuration("1m30s"), milliseconds(90000));
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("2d"), milliseconds(2 * 24 * 3600 * 1000));
  EXPECT_EQ(*parseDuration("86400"), milliseconds(86400000));  // bare number: seconds
  for (const char* bad : {"", "h", "10x", "1.5h", "-", "s30"}) {
    EXPECT_FALSE(parseDuration(bad).isOk()) << bad;
  }
  EXPECT_EQ(formatDuration(milliseconds(24 * 3600 * 1000)), "24h");
  EXPECT_EQ(formatDuration(milliseconds(90500)), "1m30s500ms");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(parseError("discovery", {"--dns-ttl", "soon"}),
            "option --dns-ttl: expected duration (e.g. 30s, 24h), got 'soon'");
}

TEST(Loader, BoolOptionsFromEverySource) {
  // No reference option is boolean yet; the loader supports them for tables to come.
  ComponentSpec s{"t",
                  "test",
                  {{"insecure", 0, "LB_INSECURE", "api.insecure", Type::kBool, "false", "x",
                    Check::kNone, "", false, ""}}};
  auto parsed = parse(s, {"--insecure"}, mapEnv({}));
  ASSERT_TRUE(parsed.isOk()) << parsed.status().message();
  EXPECT_TRUE(parsed->values.boolean("api.insecure"));
  parsed = parse(s, {}, mapEnv({{"LB_INSECURE", "yes"}}));
  EXPECT_TRUE(parsed->values.boolean("api.insecure"));
  parsed = parse(s, {"--insecure=false"}, mapEnv({{"LB_INSECURE", "true"}}));
  EXPECT_FALSE(parsed->values.boolean("api.insecure"));
  parsed = parse(s, {}, mapEnv({{"LB_INSECURE", "maybe"}}));
  ASSERT_FALSE(parsed.isOk());
  EXPECT_EQ(parsed.status().message(),
            "environment variable LB_INSECURE: expected boolean, got 'maybe'");
}

TEST(Help, ListsEveryFlagEnvKeyAndDefault) {
  for (const auto& c : components()) {
    std::string help = renderHelp(c);
    for (const auto& o : c.options) {
      EXPECT_NE(help.find("--" + std::string(o.flag) + " "), std::string::npos)
          << c.name << " " << o.flag;
      EXPECT_NE(help.find(std::string(o.env)), std::string::npos) << c.name << " " << o.env;
      EXPECT_NE(help.find("config: " + std::string(o.key)), std::string::npos) << o.key;
      if (!o.defaultValue.empty()) {
        EXPECT_NE(help.find("(default: " + std::string(o.defaultValue) + ")"), std::string::npos)
            << c.name << " " << o.flag;
      }
    }
    EXPECT_NE(help.find("-c, --config"), std::string::npos);
    EXPECT_NE(help.find("LB_CONFIG"), std::string::npos);
    EXPECT_NE(help.find("-h, --help"), std::string::npos);
    EXPECT_NE(help.find("-v, --verbose"), std::string::npos);
  }
}

TEST(Describe, RedactsSecrets) {
  Values v = parseOk("api", {"--access-token", "tok-123", "--vault-token", "vault-456"});
  std::string text = describe(spec("api"), v);
  EXPECT_EQ(text.find("tok-123"), std::string::npos);
  EXPECT_EQ(text.find("vault-456"), std::string::npos);
  EXPECT_NE(text.find("token = <redacted> (flag)"), std::string::npos);
  EXPECT_NE(text.find("server.port = 2967 (default)"), std::string::npos);

  v = parseOk("ingress", {}, {{"LB_HAPROXY_STAT_PASS", "pw-789"}, {"LB_ACCESS_TOKEN", "t"}});
  text = describe(spec("ingress"), v);
  EXPECT_EQ(text.find("pw-789"), std::string::npos);
  EXPECT_NE(text.find("haproxy.stats.password = <redacted> (env)"), std::string::npos);
}

TEST(Describe, NeverPrintsAnySecretOfAnyComponent) {
  for (const auto& c : components()) {
    Args args;
    for (const auto& o : c.options) {
      if (o.secret)
        args.insert(args.end(), {"--" + std::string(o.flag), "SECRET-" + std::string(o.flag)});
    }
    auto parsed = parse(c, args, mapEnv({}));
    ASSERT_TRUE(parsed.isOk()) << parsed.status().message();
    EXPECT_EQ(describe(c, parsed->values).find("SECRET-"), std::string::npos) << c.name;
  }
}

TEST(Typed, ApiConfigFromAllSources) {
  std::string file = writeFile("api.yml",
                               "token: t0\nname: demo\ndomain:\n  external: example.test\n"
                               "storage:\n  driver: sqlite\n  sqlite:\n    path: /tmp/x.db\n"
                               "server:\n  tls:\n    cert: /c.pem\n    key: /k.pem\n");
  auto api = load<ApiConfig>({"-c", file, "-v", "4"}, mapEnv({{"LB_BIND_PORT", "9000"}}));
  ASSERT_TRUE(api.isOk()) << api.status().message();
  EXPECT_EQ(api->verbose, 4);
  EXPECT_EQ(api->token, "t0");
  EXPECT_EQ(api->name, "demo");
  EXPECT_EQ(api->domainInternal, "lb.local");
  EXPECT_EQ(api->domainExternal, "example.test");
  EXPECT_EQ(api->storage.driver, "sqlite");
  EXPECT_EQ(api->storage.sqlitePath, "/tmp/x.db");
  EXPECT_EQ(api->storage.prefix, "lastbackend");
  EXPECT_EQ(api->storage.etcdEndpoints, (std::vector<std::string>{"127.0.0.1:2379"}));
  EXPECT_EQ(api->server.host, "0.0.0.0");
  EXPECT_EQ(api->server.port, 9000);
  EXPECT_TRUE(api->server.tls.enabled());
  EXPECT_EQ(api->server.tls.key, "/k.pem");
}

TEST(Typed, DefaultsOfEveryComponent) {
  auto env = mapEnv({});
  auto controller = load<ControllerConfig>({}, env);
  ASSERT_TRUE(controller.isOk());
  EXPECT_EQ(controller->servicesCidr, "10.96.0.0/16");
  EXPECT_EQ(controller->nodeOfflineTimeout, std::chrono::seconds(30));
  EXPECT_EQ(controller->storage.driver, "sqlite");
  EXPECT_EQ(controller->storage.historySize, 100000);

  auto node = load<NodeConfig>({}, env);
  ASSERT_TRUE(node.isOk());
  EXPECT_EQ(node->server.port, 2965);
  EXPECT_EQ(node->network.proxyDriver, "ipvs");
  EXPECT_EQ(node->containerRuntime, "docker");
  EXPECT_EQ(node->storageRoot, "/var/run/lastbackend");

  auto discovery = load<DiscoveryConfig>({}, env);
  ASSERT_TRUE(discovery.isOk());
  EXPECT_EQ(discovery->dns.port, 53);
  EXPECT_EQ(discovery->ttl, std::chrono::hours(24));

  auto ingress = load<IngressConfig>({}, env);
  ASSERT_TRUE(ingress.isOk());
  EXPECT_EQ(ingress->haproxy.statsPort, 1936);
  EXPECT_EQ(ingress->resolvers.size(), 2u);

  auto exporter = load<ExporterConfig>({}, env);
  ASSERT_TRUE(exporter.isOk());
  EXPECT_EQ(exporter->logger.port, 2963);
  EXPECT_EQ(exporter->server.port, 2964);
  EXPECT_EQ(exporter->logger.workdir, "/var/run/lastbackend");
  EXPECT_EQ(exporter->interface, "eth0");
}

TEST(Typed, ServerSharesOptionsAcrossItsParts) {
  auto server = load<ServerConfig>({"--access-token", "t", "-v", "2", "--bind-port", "8443",
                                    "--tls-cert-file", "/c", "--tls-ca-file", "/ca"},
                                   mapEnv({{"LB_NODE_BIND_PORT", "3965"}}));
  ASSERT_TRUE(server.isOk()) << server.status().message();
  EXPECT_EQ(server->verbose, 2);
  EXPECT_EQ(server->api.storage.driver, "sqlite");
  EXPECT_EQ(server->controller.storage.driver, "sqlite");
  EXPECT_EQ(server->api.storage.sqlitePath, "/var/lib/lastbackend/lastbackend.db");
  EXPECT_EQ(server->api.token, "t");
  EXPECT_EQ(server->node.token, "t");
  EXPECT_EQ(server->controller.verbose, 2);
  EXPECT_EQ(server->api.server.port, 8443);
  EXPECT_EQ(server->node.server.port, 3965);
  EXPECT_EQ(server->node.workdir, "/var/lib/lastbackend");
  EXPECT_EQ(server->node.api.uri, "https://127.0.0.1:8443");
  EXPECT_EQ(server->node.api.tls.ca, "/ca");
  EXPECT_EQ(server->controller.servicesCidr, "10.96.0.0/16");
}

}  // namespace
}  // namespace lb::config
