#pragma once

// Typed configuration of every `lastbackend` component: what the components
// consume. The defaults are NOT here: they live once, in the option tables
// (src/config/tables.cc), and reach these structs through load<T>() — so a
// default-constructed struct is "nothing set", handy for tests.
//
// Each struct names its subcommand in kComponent, which ties it to its table.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/config/options.h"
#include "lastbackend/storage/storage.h"

namespace lb::config {

struct TlsFiles {
  std::string cert, key, ca;
  bool enabled() const { return !cert.empty(); }
};

// A listening socket: host, port and optional server TLS.
struct Listen {
  std::string host;
  int port = 0;
  TlsFiles tls;
};

// How a component reaches the REST API (node, discovery, ingress, exporter).
struct ApiClient {
  std::string uri;
  TlsFiles tls;  // client certificate, key and the CA to trust
};

// Host networking shared by node and ingress (reference `network.*`).
struct Network {
  std::string interface;             // --bind-interface: external interface
  std::string proxyDriver;           // cpi: ipvs | nftables
  bool proxyDriverSet = false;       // given by flag, env or file (not the default)
  std::string proxyIfaceExternal;    // cpi.interface.external
  std::string proxyIfaceInternal;    // cpi.interface.internal
  std::string overlayDriver;         // cni: vxlan
  std::string overlayIfaceExternal;  // the underlay; "" = detect
  std::string overlayIfaceInternal;  // the pods' bridge
  int vxlanVni = 1;
  int vxlanPort = 4789;
};

struct ApiConfig {
  static constexpr std::string_view kComponent = "api";
  int verbose = 0;
  std::string token;  // secret
  std::string name, description;
  std::string domainInternal, domainExternal;
  storage::Options storage;
  Listen server;  // REST API listener (--bind-address, --bind-port, --tls-*)
  std::string vaultEndpoint;
  std::string vaultToken;  // secret
};

struct ControllerConfig {
  static constexpr std::string_view kComponent = "controller";
  int verbose = 0;
  storage::Options storage;
  std::string servicesCidr;  // IPAM range for service VIPs
  std::string podsCidr;      // pod range, leased to the nodes
  int nodeSubnetSize = 0;    // prefix length of each node's subnet
  // A node that has not reported for this long is marked offline.
  std::chrono::milliseconds nodeOfflineTimeout{0};
  std::string id;                                // leader election identity; empty = host name
  std::chrono::milliseconds leaseTtl{0};         // leader lease lifetime
  std::chrono::milliseconds resync{0};           // every key re-queued this often
  bool nodeEndpoints = false;                    // endpoints also copied into node manifests
  int deploymentHistory = 0;                     // replaced deployments kept per service
  std::chrono::milliseconds rolloutDeadline{0};  // a new deployment's time to be ready
};

struct NodeConfig {
  static constexpr std::string_view kComponent = "node";
  int verbose = 0;
  std::string token;  // secret
  std::string workdir;
  std::string manifestDir;                     // local manifests (--manifest-path)
  std::string nodeName;                        // --node-name; empty = the host name
  std::vector<std::string> labels;             // --node-labels, "key=value" each
  std::chrono::milliseconds stopGrace{5'000};  // --stop-grace
  Network network;
  std::string containerRuntime;  // CRI driver: docker
  std::string containerRuntimeDockerVersion;
  std::string imageRuntime;  // CII driver: docker
  std::string imageRuntimeDockerVersion;
  std::string storageRoot;  // CSI dir driver root
  Listen server;            // node HTTP (--bind-address, --bind-port 2965)
  ApiClient api;
};

struct DiscoveryConfig {
  static constexpr std::string_view kComponent = "discovery";
  int verbose = 0;
  std::string token;  // secret
  storage::Options storage;
  Listen dns;  // DNS listener (tls unused); port 0 in server: no discovery
  std::chrono::milliseconds ttl{0};
  std::string domain;                  // the zone: the internal domain
  std::vector<std::string> resolvers;  // upstreams; empty = /etc/resolv.conf
  ApiClient api;
};

struct IngressConfig {
  static constexpr std::string_view kComponent = "ingress";
  int verbose = 0;
  std::string token;  // secret
  struct Haproxy {
    std::string configPath, pidPath, exec;
    int statsPort = 0;  // 0 disables the stats page
    std::string statsUsername;
    std::string statsPassword;  // secret
  } haproxy;
  Network network;
  std::vector<std::string> resolvers;
  ApiClient api;
};

struct ExporterConfig {
  static constexpr std::string_view kComponent = "exporter";
  int verbose = 0;
  std::string token;  // secret
  Listen server;      // REST for log/metric streaming (--bind-rest-*, --tls-*)
  struct Logger {
    std::string workdir;  // where received logs are kept
    std::string host;
    int port = 0;  // TCP listener nodes ship logs to
  } logger;
  ApiClient api;
  std::string interface;  // decides the endpoint the exporter advertises
};

// `lastbackend server`: api + controller + node + discovery in one process on the
// embedded store. The shared options (verbose, token, storage) are copied
// into each part, so each part's run function works unchanged.
struct ServerConfig {
  static constexpr std::string_view kComponent = "server";
  int verbose = 0;
  ApiConfig api;
  ControllerConfig controller;
  NodeConfig node;
  DiscoveryConfig discovery;
};

// Builds a typed config from resolved Values of its component's table.
// Cross-option checks (none fail today) would return kInvalidArgument.
template <typename T>
StatusOr<T> fromValues(const Values& values);
template <>
StatusOr<ApiConfig> fromValues<ApiConfig>(const Values&);
template <>
StatusOr<ControllerConfig> fromValues<ControllerConfig>(const Values&);
template <>
StatusOr<NodeConfig> fromValues<NodeConfig>(const Values&);
template <>
StatusOr<DiscoveryConfig> fromValues<DiscoveryConfig>(const Values&);
template <>
StatusOr<IngressConfig> fromValues<IngressConfig>(const Values&);
template <>
StatusOr<ExporterConfig> fromValues<ExporterConfig>(const Values&);
template <>
StatusOr<ServerConfig> fromValues<ServerConfig>(const Values&);

// parse() + fromValues() for T's component. -h/--help is not special here
// (callers that honour it use parse()).
template <typename T>
StatusOr<T> load(const std::vector<std::string>& args, const EnvLookup& env);

}  // namespace lb::config
