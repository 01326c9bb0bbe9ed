// The option tables against the reference (sections 3.1.1–3.1.6): flag,
// environment variable, config key and default of a sample of ~50 rows, plus
// structural checks over every row of every component and the docs.

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "lastbackend/config/options.h"

namespace lb::config {
namespace {

struct Row {
  const char* component;
  const char* flag;
  const char* env;
  const char* key;
  const char* defaultValue;
};

// Straight from the reference tables and layouts, except where DESIGN.md
// "Slips in the reference" or docs/configuration.md record a change (marked).
const Row kReference[] = {
    // 3.1.1 REST API
    {"api", "access-token", "LB_ACCESS_TOKEN", "token", ""},
    {"api", "cluster-name", "LB_CLUSTER_NAME", "name", ""},
    {"api", "cluster-description", "LB_CLUSTER_DESCRIPTION", "description", ""},
    {"api", "bind-address", "LB_BIND_ADDRESS", "server.host", "0.0.0.0"},
    {"api", "bind-port", "LB_BIND_PORT", "server.port", "2967"},  // added flag
    {"api", "tls-cert-file", "LB_TLS_CERT_FILE", "server.tls.cert", ""},
    {"api", "tls-private-key-file", "LB_TLS_PRIVATE_KEY", "server.tls.key", ""},
    {"api", "tls-ca-file", "LB_TLS_CA_FILE", "server.tls.ca", ""},
    {"api", "vault-token", "LB_VAULT_TOKEN", "vault.token", ""},
    {"api", "vault-endpoint", "LB_VAULT_ENDPOINT", "vault.endpoint", ""},
    {"api", "domain-internal", "LB_DOMAIN_INTERNAL", "domain.internal", "lb.local"},
    {"api", "domain-external", "LB_DOMAIN_EXTERNAL", "domain.external", ""},
    // The reference default is etcd; sqlite until the etcd driver lands (docs).
    {"api", "storage", "LB_STORAGE", "storage.driver", "sqlite"},
    {"api", "etcd-cert-file", "LB_ETCD_CERT_FILE", "storage.etcd.tls.cert", ""},
    {"api", "etcd-private-key-file", "LB_ETCD_PRIVATE_KEY_FILE", "storage.etcd.tls.key", ""},
    {"api", "etcd-ca-file", "LB_ETCD_CA_FILE", "storage.etcd.tls.ca", ""},
    {"api", "etcd-endpoints", "LB_ETCD_ENDPOINTS", "storage.etcd.endpoints", "127.0.0.1:2379"},
    {"api", "etcd-prefix", "LB_ETCD_PREFIX", "storage.etcd.prefix", "lastbackend"},
    {"api", "verbose", "LB_VERBOSE", "verbose", "0"},
    {"api", "sqlite-path", "LB_SQLITE_PATH", "storage.sqlite.path",
     "/var/lib/lastbackend/lastbackend.db"},  // ours
    // 3.1.2 Controller
    {"controller", "services-cidr", "LB_SERVICES_CIDR", "service.cidr", "10.96.0.0/16"},  // changed
    {"controller", "storage", "LB_STORAGE", "storage.driver", "sqlite"},  // changed, as api
    {"controller", "etcd-endpoints", "LB_ETCD_ENDPOINTS", "storage.etcd.endpoints",
     "127.0.0.1:2379"},
    {"controller", "node-offline-timeout", "LB_NODE_OFFLINE_TIMEOUT", "node.offline_timeout",
     "30s"},
    {"controller", "verbose", "LB_VERBOSE", "verbose", "0"},
    // 3.1.3 Node
    {"node", "access-token", "LB_ACCESS_TOKEN", "token", ""},
    {"node", "workdir", "LB_NODE_WORKDIR", "workdir", ""},
    {"node", "manifest-path", "LB_NODE_MANIFESTS_PATH", "manifest.dir", ""},
    {"node", "bind-interface", "LB_NODE_BIND_INTERFACE", "network.interface", "eth0"},
    {"node", "network-proxy", "LB_NETWORK_PROXY", "network.cpi.type", "ipvs"},
    {"node", "network-proxy-iface-internal", "LB_NETWORK_PROXY_IFACE_INTERNAL",
     "network.cpi.interface.internal", "docker0"},
    {"node", "network-proxy-iface-external", "LB_NETWORK_PROXY_IFACE_EXTERNAL",
     "network.cpi.interface.external", "eth0"},
    {"node", "network-driver", "LB_NETWORK_DRIVER", "network.cni.type", "vxlan"},
    {"node", "network-driver-iface-external", "LB_NETWORK_DRIVER_IFACE_EXTERNAL",
     "network.cni.iterface.external", ""},  // changed: detected
    {"node", "network-driver-iface-internal", "LB_NETWORK_DRIVER_IFACE_INTERNAL",
     "network.cni.iterface.internal", "lb0"},  // changed: docker0 is docker's
    {"node", "network-vxlan-vni", "LB_NETWORK_VXLAN_VNI", "network.cni.vxlan.vni", "1"},  // ours
    {"node", "network-vxlan-port", "LB_NETWORK_VXLAN_PORT", "network.cni.vxlan.port",
     "4789"},  // ours
    {"node", "container-runtime", "LB_CONTAINER_RUNTIME", "container.cri.type", "docker"},
    {"node", "container-runtime-docker-version", "LB_RUNTIME_DOCKER_VERSION",
     "container.cri.docker.version", ""},
    {"node", "container-storage-root", "LB_CONTAINER_STORAGE_ROOT", "container.csi.dir.root",
     "/var/run/lastbackend"},
    {"node", "container-image-runtime", "LB_CONTAINER_IMAGE_RUNTIME", "container.iri.type",
     "docker"},
    {"node", "bind-address", "LB_NODE_BIND_ADDRESS", "server.host", "0.0.0.0"},
    {"node", "bind-port", "LB_NODE_BIND_PORT", "server.port", "2965"},
    {"node", "tls-cert-file", "LB_NODE_TLS_CERT_FILE", "server.tls.cert", ""},
    {"node", "tls-private-key-file", "LB_NODE_PRIVATE_KEY_FILE", "server.tls.key", ""},
    {"node", "tls-ca-file", "LB_NODE_CA_FILE", "server.tls.ca", ""},
    {"node", "api-uri", "LB_API_URI", "api.uri", ""},
    {"node", "api-tls-cert-file", "LB_API_CERT_FILE", "api.tls.cert", ""},
    {"node", "api-tls-private-key-file", "LB_API_PRIVATE_KEY_FILE", "api.tls.key", ""},
    {"node", "api-tls-ca-file", "LB_API_CA_FILE", "api.tls.ca", ""},
    // 3.1.4 Discovery
    {"discovery", "bind-address", "LB_BIND_ADDRESS", "dns.host", "0.0.0.0"},
    {"discovery", "bind-port", "LB_DNS_PORT", "dns.port", "53"},
    {"discovery", "dns-ttl", "LB_DNS_TTL", "dns.ttl", "24h"},
    {"discovery", "etcd-prefix", "LB_ETCD_PREFIX", "storage.etcd.prefix", "lastbackend"},
    {"discovery", "api-uri", "LB_API_URI", "api.uri", ""},
    // 3.1.5 Ingress
    {"ingress", "haproxy-config-path", "LB_HAPROXY_CONFIG_PATH", "haproxy.config",
     "/var/run/lastbackend/ingress/haproxy/haproxy.cfg"},
    {"ingress", "haproxy-pid", "LB_HAPROXY_PID", "haproxy.pid",
     "/var/run/lastbackend/ingress/haproxy/haproxy.pid"},
    {"ingress", "haproxy-exec", "LB_HAPROXY_EXEC", "haproxy.exec", "/usr/sbin/haproxy"},  // changed
    {"ingress", "haproxy-stat-port", "LB_HAPROXY_STAT_PORT", "haproxy.stats.port", "1936"},
    {"ingress", "haproxy-stat-username", "LB_HAPROXY_STAT_USER", "haproxy.stats.username", ""},
    {"ingress", "haproxy-stat-password", "LB_HAPROXY_STAT_PASS", "haproxy.stats.password", ""},
    {"ingress", "bind-interface", "LB_INGRESS_BIND_INTERFACE", "network.interface", "eth0"},
    {"ingress", "network-driver-iface-external", "LB_NETWORK_DRIVER_IFACE_EXTERNAL",
     "network.cni.iterface.external", ""},  // changed, as node
    {"ingress", "network-resolvers", "LB_NETWORK_RESOLVERS", "network.resolver.servers",
     "8.8.8.8,8.8.4.4"},
    // 3.1.6 (titled "Ingress", really the exporter)
    {"exporter", "access-token", "LB_ACCESS_TOKEN", "token", ""},
    {"exporter", "bind-listener-address", "LB_BIND_LISTENER_ADDRESS", "logger.host", "0.0.0.0"},
    {"exporter", "bind-listener-port", "LB_BIND_LISTENER_PORT", "logger.port", "2963"},
    {"exporter", "bind-rest-address", "LB_BIND_REST_ADDRESS", "server.host", "0.0.0.0"},
    {"exporter", "bind-rest-port", "LB_BIND_REST_PORT", "server.port", "2964"},
    {"exporter", "tls-cert-file", "LB_TLS_CERT_FILE", "server.tls.cert", ""},
    {"exporter", "tls-private-key-file", "LB_TLS_PRIVATE_KEY", "server.tls.key", ""},
    {"exporter", "tls-ca-file", "LB_TLS_CA_FILE", "server.tls.ca", ""},
    {"exporter", "bind-interface", "LB_BIND_INTERFACE", "network.interface", "eth0"},
    {"exporter", "log-workdir", "LB_LOG_WORKDIR", "logger.workdir", "/var/run/lastbackend"},
    // server (ours): api + controller + node
    {"server", "storage", "LB_STORAGE", "storage.driver", "sqlite"},
    {"server", "sqlite-path", "LB_SQLITE_PATH", "storage.sqlite.path",
     "/var/lib/lastbackend/lastbackend.db"},
    {"server", "bind-port", "LB_BIND_PORT", "server.port", "2967"},
    {"server", "node-bind-port", "LB_NODE_BIND_PORT", "node.server.port", "2965"},
    {"server", "services-cidr", "LB_SERVICES_CIDR", "service.cidr", "10.96.0.0/16"},
    {"server", "workdir", "LB_NODE_WORKDIR", "workdir", "/var/lib/lastbackend"},
};

const OptionSpec* findFlag(const ComponentSpec& c, std::string_view flag) {
  for (const auto& o : c.options) {
    if (o.flag == flag) return &o;
  }
  return nullptr;
}

TEST(ReferenceTable, SampleRowsMatch) {
  for (const auto& r : kReference) {
    SCOPED_TRACE(std::string(r.component) + " --" + r.flag);
    const ComponentSpec* c = findComponent(r.component);
    ASSERT_NE(c, nullptr);
    const OptionSpec* o = findFlag(*c, r.flag);
    ASSERT_NE(o, nullptr);
    EXPECT_EQ(o->env, r.env);
    EXPECT_EQ(o->key, r.key);
    EXPECT_EQ(o->defaultValue, r.defaultValue);
  }
}

TEST(ReferenceTable, EveryComponentIsThere) {
  std::set<std::string> names;
  for (const auto& c : components()) names.insert(std::string(c.name));
  EXPECT_EQ(names, (std::set<std::string>{"api", "controller", "node", "discovery", "ingress",
                                          "exporter", "server"}));
}

TEST(ReferenceTable, EveryOptionHasFlagEnvKeyAndDescription) {
  for (const auto& c : components()) {
    std::set<std::string_view> flags, envs, keys;
    for (const auto& o : c.options) {
      SCOPED_TRACE(std::string(c.name) + " --" + std::string(o.flag));
      EXPECT_FALSE(o.flag.empty());
      EXPECT_EQ(o.env.substr(0, 3), "LB_");
      EXPECT_FALSE(o.key.empty());
      EXPECT_FALSE(o.description.empty());
      EXPECT_TRUE(flags.insert(o.flag).second) << "duplicate flag";
      EXPECT_TRUE(envs.insert(o.env).second) << "duplicate env " << o.env;
      EXPECT_TRUE(keys.insert(o.key).second) << "duplicate key " << o.key;
      EXPECT_NE(o.flag, "config");  // loader-level, must not be a row
      EXPECT_NE(o.flag, "help");
      if (o.check == Check::kOneOf) {
        EXPECT_FALSE(o.choices.empty());
      }
    }
    // A key must not be a prefix of another key, or the file walker could
    // not tell a value from a group.
    for (auto k : keys) {
      for (auto other : keys) {
        EXPECT_FALSE(other.size() > k.size() &&
                     other.substr(0, k.size() + 1) == std::string(k) + ".")
            << k << " / " << other;
      }
    }
  }
}

TEST(ReferenceTable, EveryDefaultPassesItsOwnChecks) {
  for (const auto& c : components()) {
    auto parsed = parse(c, {}, mapEnv({}));
    EXPECT_TRUE(parsed.isOk()) << c.name << ": " << parsed.status().message();
  }
}

TEST(ReferenceTable, SecretsAreMarked) {
  for (const auto& c : components()) {
    for (const auto& o : c.options) {
      bool looksSecret = o.key == "token" || o.key.find("password") != std::string_view::npos ||
                         o.key == "vault.token";
      EXPECT_EQ(o.secret, looksSecret) << c.name << " " << o.key;
    }
  }
}

TEST(ReferenceTable, ServicesCidrDefaultIsPrivate) {
  // DESIGN.md: pod and service ranges default to private space.
  const OptionSpec* o = findFlag(*findComponent("controller"), "services-cidr");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->defaultValue.substr(0, 3), "10.");
}

TEST(Docs, ConfigurationMdHasEveryCurrentTable) {
  std::ifstream in(std::string(LB_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in.good()) << "docs/configuration.md missing";
  std::stringstream buf;
  buf << in.rdbuf();
  std::string doc = buf.str();
  for (const auto& c : components()) {
    EXPECT_NE(doc.find(renderMarkdown(c)), std::string::npos)
        << "docs/configuration.md is stale for '" << c.name
        << "': regenerate with `lastbackend --help-markdown`";
  }
}

}  // namespace
}  // namespace lb::config
