// The option tables of every component — data only. Flags, environment
// variables, config keys and defaults are those of the reference (sections
// 3.1.1–3.1.6), with the deliberate changes listed in docs/configuration.md.
// Groups that several components share are written once and composed.

#include "lastbackend/config/options.h"
#include "runtime/drivers.h"
#include "storage/drivers.h"

// Rows leave trailing OptionSpec fields (check, choices, secret, altKey) at
// their defaults on purpose; that is what keeps the tables readable.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace lb::config {
namespace {

using Opts = std::vector<OptionSpec>;

// Allowed values of the driver options: the names of the driver tables
// themselves (computed at compile time; nothing of the drivers is linked).
constexpr auto kStorageDrivers = joinedNames<storage::kDrivers>();
constexpr auto kCriDrivers = joinedNames<runtime::cri::kDrivers>();
constexpr auto kCiiDrivers = joinedNames<runtime::cii::kDrivers>();
constexpr auto kCpiDrivers = joinedNames<runtime::cpi::kDrivers>();
constexpr auto kCniDrivers = joinedNames<runtime::cni::kDrivers>();

// Until the etcd driver lands, the components that would default to the
// reference's etcd use the embedded store; the etcd issue restores it.
constexpr std::string_view kDefaultStorage = "sqlite";

Opts operator+(Opts a, const Opts& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const OptionSpec kVerbose{
    "verbose",      'v', "LB_VERBOSE", "verbose", Type::kInt, "0", "Set log level from 0 to 7",
    Check::kVerbose};

OptionSpec token() {
  OptionSpec o{"access-token", 0,  "LB_ACCESS_TOKEN",           "token",
               Type::kString,  "", "Access token to API server"};
  o.secret = true;
  return o;
}

// Storage options of the api, controller, discovery and server. The reference
// knows etcd and mock; the embedded SQLite store is ours.
Opts storage() {
  return {
      {"storage", 0, "LB_STORAGE", "storage.driver", Type::kString, kDefaultStorage,
       "Set storage driver; etcd, the reference default, arrives with the etcd driver",
       Check::kOneOf, namesView(kStorageDrivers)},
      {"sqlite-path", 0, "LB_SQLITE_PATH", "storage.sqlite.path", Type::kString,
       "/var/lib/lastbackend/lastbackend.db",
       "SQLite database file (storage sqlite); its directory is created if missing"},
      {"etcd-cert-file", 0, "LB_ETCD_CERT_FILE", "storage.etcd.tls.cert", Type::kString, "",
       "ETCD database cert file path"},
      {"etcd-private-key-file", 0, "LB_ETCD_PRIVATE_KEY_FILE", "storage.etcd.tls.key",
       Type::kString, "", "ETCD database private key file path"},
      {"etcd-ca-file", 0, "LB_ETCD_CA_FILE", "storage.etcd.tls.ca", Type::kString, "",
       "ETCD database certificate authority file"},
      {"etcd-endpoints", 0, "LB_ETCD_ENDPOINTS", "storage.etcd.endpoints", Type::kStringList,
       "127.0.0.1:2379", "ETCD database endpoints list"},
      {"etcd-prefix", 0, "LB_ETCD_PREFIX", "storage.etcd.prefix", Type::kString, "lastbackend",
       "ETCD database storage prefix"},
      {"storage-history", 0, "LB_STORAGE_HISTORY", "storage.history", Type::kInt, "100000",
       "Changes kept for watches; a watcher further behind re-lists", Check::kPositive},
  };
}

// Server-side TLS; the environment names differ per component in the reference.
Opts serverTls(std::string_view certEnv, std::string_view keyEnv, std::string_view caEnv) {
  return {
      {"tls-cert-file", 0, certEnv, "server.tls.cert", Type::kString, "", "TLS cert file path"},
      {"tls-private-key-file", 0, keyEnv, "server.tls.key", Type::kString, "",
       "TLS private key file path"},
      {"tls-ca-file", 0, caEnv, "server.tls.ca", Type::kString, "",
       "TLS certificate authority file path"},
  };
}

// How node, discovery, ingress and exporter reach the REST API.
const Opts& apiClient() {
  static const Opts kOpts = {
      {"api-uri", 0, "LB_API_URI", "api.uri", Type::kString, "", "REST API endpoint"},
      {"api-tls-cert-file", 0, "LB_API_CERT_FILE", "api.tls.cert", Type::kString, "",
       "REST API TLS certificate file path"},
      {"api-tls-private-key-file", 0, "LB_API_PRIVATE_KEY_FILE", "api.tls.key", Type::kString, "",
       "REST API TLS private key file path"},
      {"api-tls-ca-file", 0, "LB_API_CA_FILE", "api.tls.ca", Type::kString, "",
       "REST API TLS certificate authority file path"},
  };
  return kOpts;
}

// Host networking of node and ingress. The reference layout spells the CNI
// key "iterface"; both spellings are accepted.
Opts network(std::string_view bindInterfaceEnv) {
  OptionSpec cniExt{"network-driver-iface-external",
                    0,
                    "LB_NETWORK_DRIVER_IFACE_EXTERNAL",
                    "network.cni.iterface.external",
                    Type::kString,
                    "",
                    "Container overlay network external interface for host communication "
                    "(default: the default route's, else the only one with an IPv4 address)"};
  cniExt.altKey = "network.cni.interface.external";
  OptionSpec cniInt{"network-driver-iface-internal",
                    0,
                    "LB_NETWORK_DRIVER_IFACE_INTERNAL",
                    "network.cni.iterface.internal",
                    Type::kString,
                    "lb0",
                    "Container overlay network internal bridge interface (the pods' bridge)"};
  cniInt.altKey = "network.cni.interface.internal";
  return {
      {"bind-interface", 0, bindInterfaceEnv, "network.interface", Type::kString, "eth0",
       "External network interface to bind"},
      // The reference default; the node runs nftables for it unless ipvs is
      // asked for explicitly (runtime::cpi::resolveDriver).
      {"network-proxy", 0, "LB_NETWORK_PROXY", "network.cpi.type", Type::kString, "ipvs",
       "Network proxy driver", Check::kOneOf, namesView(kCpiDrivers)},
      {"network-proxy-iface-internal", 0, "LB_NETWORK_PROXY_IFACE_INTERNAL",
       "network.cpi.interface.internal", Type::kString, "docker0",
       "Network proxy internal interface binding"},
      {"network-proxy-iface-external", 0, "LB_NETWORK_PROXY_IFACE_EXTERNAL",
       "network.cpi.interface.external", Type::kString, "eth0",
       "Network proxy external interface binding"},
      {"network-driver", 0, "LB_NETWORK_DRIVER", "network.cni.type", Type::kString, "vxlan",
       "Container overlay network driver", Check::kOneOf, namesView(kCniDrivers)},
      cniExt,
      cniInt,
      // Not in the reference: the VXLAN segment and its UDP port.
      {"network-vxlan-vni", 0, "LB_NETWORK_VXLAN_VNI", "network.cni.vxlan.vni", Type::kInt, "1",
       "VXLAN network identifier of the overlay (1-16777215, the same on every node)", Check::kVni},
      {"network-vxlan-port", 0, "LB_NETWORK_VXLAN_PORT", "network.cni.vxlan.port", Type::kInt,
       "4789", "UDP port of the overlay's VXLAN packets (the same on every node)", Check::kPort},
  };
}

// What the node agent needs of its host; the all-in-one server reuses it.
Opts nodeHost(std::string_view workdirDefault) {
  return Opts{
             {"workdir", 0, "LB_NODE_WORKDIR", "workdir", Type::kString, workdirDefault,
              "Node workdir for runtime"},
             {"manifest-path", 0, "LB_NODE_MANIFESTS_PATH", "manifest.dir", Type::kString, "",
              "Node local manifest(s) directory"},
             // Not in the reference tables: the name and labels the node
             // registers with, and how long a removed container may take to stop.
             {"node-name", 0, "LB_NODE_NAME", "node.name", Type::kString, "",
              "Node name in the cluster (default: the host name)"},
             {"node-labels", 0, "LB_NODE_LABELS", "node.labels", Type::kStringList, "",
              "Node labels, key=value (matched by selector.labels)", Check::kKeyValue},
             {"stop-grace", 0, "LB_NODE_STOP_GRACE", "node.stop_grace", Type::kDuration, "5s",
              "Time a removed container gets between SIGTERM and SIGKILL", Check::kPositive},
         } +
         network("LB_NODE_BIND_INTERFACE") +
         Opts{
             {"container-runtime", 0, "LB_CONTAINER_RUNTIME", "container.cri.type", Type::kString,
              "docker", "Node container runtime", Check::kOneOf, namesView(kCriDrivers)},
             {"container-runtime-docker-version", 0, "LB_RUNTIME_DOCKER_VERSION",
              "container.cri.docker.version", Type::kString, "",
              "Docker API version for the docker container runtime"},
             {"container-storage-root", 0, "LB_CONTAINER_STORAGE_ROOT", "container.csi.dir.root",
              Type::kString, "/var/run/lastbackend",
              "Node container storage root for pod volumes and persistent volumes"},
             {"container-image-runtime", 0, "LB_CONTAINER_IMAGE_RUNTIME", "container.iri.type",
              Type::kString, "docker", "Node container images runtime", Check::kOneOf,
              namesView(kCiiDrivers)},
             // The reference layout has this key but no flag; we add one.
             {"container-image-runtime-docker-version", 0, "LB_IMAGE_RUNTIME_DOCKER_VERSION",
              "container.iri.docker.version", Type::kString, "",
              "Docker API version for the docker image runtime"},
         };
}

// The REST API's own options (api and server).
Opts apiOwn() {
  OptionSpec vaultToken{"vault-token", 0,  "LB_VAULT_TOKEN",    "vault.token",
                        Type::kString, "", "Vault access token"};
  vaultToken.secret = true;
  return Opts{
             {"cluster-name", 0, "LB_CLUSTER_NAME", "name", Type::kString, "", "Cluster name info"},
             {"cluster-description", 0, "LB_CLUSTER_DESCRIPTION", "description", Type::kString, "",
              "Cluster description"},
             {"bind-address", 0, "LB_BIND_ADDRESS", "server.host", Type::kString, "0.0.0.0",
              "REST API bind address for listening"},
             // Not in the reference table (only server.port); added for symmetry with the node.
             {"bind-port", 0, "LB_BIND_PORT", "server.port", Type::kInt, "2967",
              "REST API listening port", Check::kPort},
         } +
         serverTls("LB_TLS_CERT_FILE", "LB_TLS_PRIVATE_KEY", "LB_TLS_CA_FILE") +
         Opts{
             vaultToken,
             {"vault-endpoint", 0, "LB_VAULT_ENDPOINT", "vault.endpoint", Type::kString, "",
              "Vault access endpoint"},
             {"domain-internal", 0, "LB_DOMAIN_INTERNAL", "domain.internal", Type::kString,
              "lb.local", "Internal domain name for cluster"},
             {"domain-external", 0, "LB_DOMAIN_EXTERNAL", "domain.external", Type::kString, "",
              "Default external domain for cluster"},
         };
}

// The controller's own options (controller and server).
Opts controllerOwn() {
  return {
      // The reference default 172.0.0.0/24 is public address space; see docs.
      {"services-cidr", 0, "LB_SERVICES_CIDR", "service.cidr", Type::kString, "10.96.0.0/16",
       "Services IP CIDR for internal IPAM service", Check::kCidr},
      // Not in the reference (its pod range was fixed); ours. Must not
      // overlap the services CIDR.
      {"pods-cidr", 0, "LB_PODS_CIDR", "pods.cidr", Type::kString, "10.244.0.0/16",
       "Pod IP range, leased to the nodes in subnets of --node-subnet-size", Check::kCidr},
      {"node-subnet-size", 0, "LB_NODE_SUBNET_SIZE", "node.subnet_size", Type::kInt, "24",
       "Prefix length of each node's pod subnet (24: 254 pods, 256 nodes in a /16)",
       Check::kPositive},
      {"node-offline-timeout", 0, "LB_NODE_OFFLINE_TIMEOUT", "node.offline_timeout",
       Type::kDuration, "30s", "Mark a node offline after this long without a status report",
       Check::kPositive},
      // Not in the reference (its controller read no such settings); ours.
      {"controller-id", 0, "LB_CONTROLLER_ID", "controller.id", Type::kString, "",
       "Leader election identity; empty = the host name (must differ per controller on a host)"},
      {"lease-ttl", 0, "LB_CONTROLLER_LEASE_TTL", "controller.lease_ttl", Type::kDuration, "10s",
       "Leader lease lifetime; renewed every third of it", Check::kPositive},
      {"resync-period", 0, "LB_CONTROLLER_RESYNC", "controller.resync", Type::kDuration, "30s",
       "Re-check every object this often (safety net of the level-triggered loops)",
       Check::kPositive},
      {"node-endpoints", 0, "LB_CONTROLLER_NODE_ENDPOINTS", "controller.node_endpoints",
       Type::kBool, "false",
       "Also copy each endpoint into the manifests of the nodes running pods of its namespace"},
      {"deployment-history", 0, "LB_DEPLOYMENT_HISTORY", "controller.deployment_history",
       Type::kInt, "10",
       "Replaced deployments kept per service, with their specs, for history and rollback",
       Check::kPositive},
      {"rollout-deadline", 0, "LB_ROLLOUT_DEADLINE", "controller.rollout_deadline", Type::kDuration,
       "10m",
       "A new deployment not ready this long after it is made is failed and its service "
       "reverted to the serving one (a service's spec.strategy.deadline overrides it)",
       Check::kPositive},
  };
}

Opts apiOptions() { return Opts{kVerbose, token()} + apiOwn() + storage(); }

Opts controllerOptions() { return Opts{kVerbose} + controllerOwn() + storage(); }

Opts nodeOptions() {
  return Opts{kVerbose, token()} + nodeHost("") +
         Opts{
             {"bind-address", 0, "LB_NODE_BIND_ADDRESS", "server.host", Type::kString, "0.0.0.0",
              "Node bind address"},
             {"bind-port", 0, "LB_NODE_BIND_PORT", "server.port", Type::kInt, "2965",
              "Node listening port binding", Check::kPort},
         } +
         serverTls("LB_NODE_TLS_CERT_FILE", "LB_NODE_PRIVATE_KEY_FILE", "LB_NODE_CA_FILE") +
         apiClient();
}

// What discovery needs besides its listener (discovery and server).
Opts discoveryOwn() {
  return {
      {"domain-internal", 0, "LB_DOMAIN_INTERNAL", "domain.internal", Type::kString, "lb.local",
       "Internal domain name for cluster: the zone served"},
      // The reference default (8.8.8.8, 8.8.4.4) is a public resolver: none
      // is the default here, the host's /etc/resolv.conf is read instead.
      {"network-resolvers", 0, "LB_NETWORK_RESOLVERS", "network.resolver.servers",
       Type::kStringList, "",
       "Upstream resolvers (ip[:port]) for names outside the zone; default: the host's "
       "/etc/resolv.conf; 'none': outside names are refused"},
  };
}

Opts discoveryOptions() {
  return Opts{
             kVerbose,
             token(),
             {"bind-address", 0, "LB_BIND_ADDRESS", "dns.host", Type::kString, "0.0.0.0",
              "DNS server bind address"},
             {"bind-port", 0, "LB_DNS_PORT", "dns.port", Type::kInt, "53", "DNS port listening",
              Check::kPort},
             {"dns-ttl", 0, "LB_DNS_TTL", "dns.ttl", Type::kDuration, "24h",
              "Longest TTL handed out: caps cluster records (5 s) and cached upstream answers",
              Check::kPositive},
         } +
         discoveryOwn() + storage() + apiClient();
}

Opts ingressOptions() {
  OptionSpec password{"haproxy-stat-password",
                      0,
                      "LB_HAPROXY_STAT_PASS",
                      "haproxy.stats.password",
                      Type::kString,
                      "",
                      "HAProxy statistic access password"};
  password.secret = true;
  return Opts{
             kVerbose,
             token(),
             {"haproxy-config-path", 0, "LB_HAPROXY_CONFIG_PATH", "haproxy.config", Type::kString,
              "/var/run/lastbackend/ingress/haproxy/haproxy.cfg",
              "HAProxy configuration path setup"},
             {"haproxy-pid", 0, "LB_HAPROXY_PID", "haproxy.pid", Type::kString,
              "/var/run/lastbackend/ingress/haproxy/haproxy.pid", "HAProxy pid file path"},
             // Debian's haproxy package installs /usr/sbin/haproxy (the
             // reference says /usr/local/bin/haproxy); see docs.
             {"haproxy-exec", 0, "LB_HAPROXY_EXEC", "haproxy.exec", Type::kString,
              "/usr/sbin/haproxy", "HAProxy entrypoint path"},
             {"haproxy-stat-port", 0, "LB_HAPROXY_STAT_PORT", "haproxy.stats.port", Type::kInt,
              "1936", "HAProxy statistic port; 0 disables statistics", Check::kPortOrZero},
             {"haproxy-stat-username", 0, "LB_HAPROXY_STAT_USER", "haproxy.stats.username",
              Type::kString, "", "HAProxy statistic access username"},
             password,
         } +
         network("LB_INGRESS_BIND_INTERFACE") +
         Opts{
             {"network-resolvers", 0, "LB_NETWORK_RESOLVERS", "network.resolver.servers",
              Type::kStringList, "8.8.8.8,8.8.4.4",
              "Additional resolvers IPs for Ingress (unused: its backends are pod IPs, so it "
              "sends no DNS query)"},
         } +
         apiClient();
}

// Section 3.1.6 of the reference is titled "Ingress" but lists these.
Opts exporterOptions() {
  return Opts{
             kVerbose,
             token(),
             {"bind-listener-address", 0, "LB_BIND_LISTENER_ADDRESS", "logger.host", Type::kString,
              "0.0.0.0", "Exporter log listener bind address"},
             {"bind-listener-port", 0, "LB_BIND_LISTENER_PORT", "logger.port", Type::kInt, "2963",
              "Exporter log listener bind port", Check::kPort},
             {"bind-rest-address", 0, "LB_BIND_REST_ADDRESS", "server.host", Type::kString,
              "0.0.0.0", "Exporter REST listener address for logs and metrics streaming"},
             {"bind-rest-port", 0, "LB_BIND_REST_PORT", "server.port", Type::kInt, "2964",
              "Exporter REST listener port", Check::kPort},
         } +
         serverTls("LB_TLS_CERT_FILE", "LB_TLS_PRIVATE_KEY", "LB_TLS_CA_FILE") + apiClient() +
         Opts{
             {"bind-interface", 0, "LB_BIND_INTERFACE", "network.interface", Type::kString, "eth0",
              "Exporter bind network interface"},
             {"log-workdir", 0, "LB_LOG_WORKDIR", "logger.workdir", Type::kString,
              "/var/run/lastbackend", "Set directory on host for logs storage"},
         };
}

// All-in-one: api + controller + node + discovery on the embedded store. The node's
// listener moves to --node-bind-* / node.server.* because --bind-* and
// server.* are the REST API's here.
Opts serverOptions() {
  return Opts{kVerbose, token()} + apiOwn() + storage() + controllerOwn() +
         nodeHost("/var/lib/lastbackend") +
         Opts{
             {"node-bind-address", 0, "LB_NODE_BIND_ADDRESS", "node.server.host", Type::kString,
              "0.0.0.0", "Node bind address"},
             {"node-bind-port", 0, "LB_NODE_BIND_PORT", "node.server.port", Type::kInt, "2965",
              "Node listening port binding", Check::kPort},
             {"dns-bind-address", 0, "LB_DNS_BIND_ADDRESS", "dns.host", Type::kString, "0.0.0.0",
              "Discovery (DNS) bind address"},
             {"dns-bind-port", 0, "LB_DNS_PORT", "dns.port", Type::kInt, "53",
              "Discovery (DNS) port; 0 runs without discovery", Check::kPortOrZero},
             {"dns-ttl", 0, "LB_DNS_TTL", "dns.ttl", Type::kDuration, "24h",
              "Longest TTL handed out: caps cluster records (5 s) and cached upstream answers",
              Check::kPositive},
             {"network-resolvers", 0, "LB_NETWORK_RESOLVERS", "network.resolver.servers",
              Type::kStringList, "",
              "Upstream resolvers (ip[:port]) for names outside the zone; default: the host's "
              "/etc/resolv.conf; 'none': outside names are refused"},
         };
}

}  // namespace

const std::vector<ComponentSpec>& components() {
  static const std::vector<ComponentSpec> kComponents = {
      {"server", "api + controller + node + discovery in one process on the embedded store",
       serverOptions()},
      {"api", "REST API server", apiOptions()},
      {"controller", "cluster state controller", controllerOptions()},
      {"node", "node agent: runs pods on this host", nodeOptions()},
      {"discovery", "DNS for <service>.<namespace>.<internal domain>", discoveryOptions()},
      {"ingress", "HAProxy ingress for routes", ingressOptions()},
      {"exporter", "log and metric collector", exporterOptions()},
  };
  return kComponents;
}

}  // namespace lb::config
