// Values -> typed configs. Each builder reads keys of its own table only;
// shared groups (storage, TLS, API client, network) have one reader each.

#include "lastbackend/config/config.h"

namespace lb::config {
namespace {

int asInt(const Values& v, std::string_view key) { return static_cast<int>(v.integer(key)); }

storage::Options readStorage(const Values& v) {
  storage::Options o;
  o.driver = v.str("storage.driver");
  o.prefix = v.str("storage.etcd.prefix");
  o.sqlitePath = v.str("storage.sqlite.path");
  o.etcdEndpoints = v.list("storage.etcd.endpoints");
  o.etcdCert = v.str("storage.etcd.tls.cert");
  o.etcdKey = v.str("storage.etcd.tls.key");
  o.etcdCa = v.str("storage.etcd.tls.ca");
  o.historySize = v.integer("storage.history");
  return o;
}

TlsFiles readTls(const Values& v, const std::string& prefix) {
  return {v.str(prefix + ".cert"), v.str(prefix + ".key"), v.str(prefix + ".ca")};
}

Listen readListen(const Values& v, const std::string& prefix, bool withTls) {
  Listen l;
  l.host = v.str(prefix + ".host");
  l.port = asInt(v, prefix + ".port");
  if (withTls) l.tls = readTls(v, prefix + ".tls");
  return l;
}

ApiClient readApiClient(const Values& v) { return {v.str("api.uri"), readTls(v, "api.tls")}; }

Network readNetwork(const Values& v) {
  Network n;
  n.interface = v.str("network.interface");
  n.proxyDriver = v.str("network.cpi.type");
  n.proxyDriverSet = v.source("network.cpi.type") != Source::kDefault;
  n.proxyIfaceExternal = v.str("network.cpi.interface.external");
  n.proxyIfaceInternal = v.str("network.cpi.interface.internal");
  n.overlayDriver = v.str("network.cni.type");
  n.overlayIfaceExternal = v.str("network.cni.iterface.external");
  n.overlayIfaceInternal = v.str("network.cni.iterface.internal");
  n.vxlanVni = asInt(v, "network.cni.vxlan.vni");
  n.vxlanPort = asInt(v, "network.cni.vxlan.port");
  return n;
}

// The REST-API-only part, shared by api and server.
void readApiOwn(const Values& v, ApiConfig* c) {
  c->verbose = asInt(v, "verbose");
  c->token = v.str("token");
  c->name = v.str("name");
  c->description = v.str("description");
  c->domainInternal = v.str("domain.internal");
  c->domainExternal = v.str("domain.external");
  c->storage = readStorage(v);
  c->server = readListen(v, "server", true);
  c->vaultEndpoint = v.str("vault.endpoint");
  c->vaultToken = v.str("vault.token");
}

void readControllerOwn(const Values& v, ControllerConfig* c) {
  c->verbose = asInt(v, "verbose");
  c->storage = readStorage(v);
  c->servicesCidr = v.str("service.cidr");
  c->podsCidr = v.str("pods.cidr");
  c->nodeSubnetSize = asInt(v, "node.subnet_size");
  c->nodeOfflineTimeout = v.duration("node.offline_timeout");
  c->id = v.str("controller.id");
  c->leaseTtl = v.duration("controller.lease_ttl");
  c->resync = v.duration("controller.resync");
  c->nodeEndpoints = v.boolean("controller.node_endpoints");
  c->deploymentHistory = asInt(v, "controller.deployment_history");
  c->rolloutDeadline = v.duration("controller.rollout_deadline");
}

// The host part of the node, shared by node and server.
void readNodeHost(const Values& v, NodeConfig* c) {
  c->verbose = asInt(v, "verbose");
  c->token = v.str("token");
  c->workdir = v.str("workdir");
  c->manifestDir = v.str("manifest.dir");
  c->nodeName = v.str("node.name");
  c->labels = v.list("node.labels");
  c->stopGrace = v.duration("node.stop_grace");
  c->network = readNetwork(v);
  c->containerRuntime = v.str("container.cri.type");
  c->containerRuntimeDockerVersion = v.str("container.cri.docker.version");
  c->imageRuntime = v.str("container.iri.type");
  c->imageRuntimeDockerVersion = v.str("container.iri.docker.version");
  c->storageRoot = v.str("container.csi.dir.root");
}

}  // namespace

template <>
StatusOr<ApiConfig> fromValues<ApiConfig>(const Values& v) {
  ApiConfig c;
  readApiOwn(v, &c);
  return c;
}

template <>
StatusOr<ControllerConfig> fromValues<ControllerConfig>(const Values& v) {
  ControllerConfig c;
  readControllerOwn(v, &c);
  return c;
}

template <>
StatusOr<NodeConfig> fromValues<NodeConfig>(const Values& v) {
  NodeConfig c;
  readNodeHost(v, &c);
  c.server = readListen(v, "server", true);
  c.api = readApiClient(v);
  return c;
}

template <>
StatusOr<DiscoveryConfig> fromValues<DiscoveryConfig>(const Values& v) {
  DiscoveryConfig c;
  c.verbose = asInt(v, "verbose");
  c.token = v.str("token");
  c.storage = readStorage(v);
  c.dns = readListen(v, "dns", false);
  c.ttl = v.duration("dns.ttl");
  c.domain = v.str("domain.internal");
  c.resolvers = v.list("network.resolver.servers");
  c.api = readApiClient(v);
  return c;
}

template <>
StatusOr<IngressConfig> fromValues<IngressConfig>(const Values& v) {
  IngressConfig c;
  c.verbose = asInt(v, "verbose");
  c.token = v.str("token");
  c.haproxy.configPath = v.str("haproxy.config");
  c.haproxy.pidPath = v.str("haproxy.pid");
  c.haproxy.exec = v.str("haproxy.exec");
  c.haproxy.statsPort = asInt(v, "haproxy.stats.port");
  c.haproxy.statsUsername = v.str("haproxy.stats.username");
  c.haproxy.statsPassword = v.str("haproxy.stats.password");
  c.network = readNetwork(v);
  c.resolvers = v.list("network.resolver.servers");
  c.api = readApiClient(v);
  return c;
}

template <>
StatusOr<ExporterConfig> fromValues<ExporterConfig>(const Values& v) {
  ExporterConfig c;
  c.verbose = asInt(v, "verbose");
  c.token = v.str("token");
  c.server = readListen(v, "server", true);
  c.logger.workdir = v.str("logger.workdir");
  c.logger.host = v.str("logger.host");
  c.logger.port = asInt(v, "logger.port");
  c.api = readApiClient(v);
  c.interface = v.str("network.interface");
  return c;
}

template <>
StatusOr<ServerConfig> fromValues<ServerConfig>(const Values& v) {
  ServerConfig c;
  c.verbose = asInt(v, "verbose");
  readApiOwn(v, &c.api);
  readControllerOwn(v, &c.controller);
  readNodeHost(v, &c.node);
  c.node.server = readListen(v, "node.server", false);
  // In one process the node still talks to the API over its socket, so it
  // gets the API's own address (a wildcard bind is reached via loopback).
  const Listen& api = c.api.server;
  std::string host = api.host.empty() || api.host == "0.0.0.0" ? "127.0.0.1"
                     : api.host == "::"                        ? "[::1]"
                                                               : api.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  c.node.api.uri =
      (api.tls.enabled() ? "https://" : "http://") + host + ":" + std::to_string(api.port);
  c.node.api.tls.ca = api.tls.ca;
  c.discovery.verbose = c.verbose;
  c.discovery.storage = c.api.storage;
  c.discovery.dns = readListen(v, "dns", false);
  c.discovery.ttl = v.duration("dns.ttl");
  c.discovery.domain = c.api.domainInternal;
  c.discovery.resolvers = v.list("network.resolver.servers");
  c.discovery.api = c.node.api;
  return c;
}

template <typename T>
StatusOr<T> load(const std::vector<std::string>& args, const EnvLookup& env) {
  const ComponentSpec* spec = findComponent(T::kComponent);
  if (!spec) return internalError("no option table for '" + std::string(T::kComponent) + "'");
  auto parsed = parse(*spec, args, env);
  if (!parsed) return parsed.status();
  return fromValues<T>(parsed->values);
}

template StatusOr<ApiConfig> load<ApiConfig>(const std::vector<std::string>&, const EnvLookup&);
template StatusOr<ControllerConfig> load<ControllerConfig>(const std::vector<std::string>&,
                                                           const EnvLookup&);
template StatusOr<NodeConfig> load<NodeConfig>(const std::vector<std::string>&, const EnvLookup&);
template StatusOr<DiscoveryConfig> load<DiscoveryConfig>(const std::vector<std::string>&,
                                                         const EnvLookup&);
template StatusOr<IngressConfig> load<IngressConfig>(const std::vector<std::string>&,
                                                     const EnvLookup&);
template StatusOr<ExporterConfig> load<ExporterConfig>(const std::vector<std::string>&,
                                                       const EnvLookup&);
template StatusOr<ServerConfig> load<ServerConfig>(const std::vector<std::string>&,
                                                   const EnvLookup&);

}  // namespace lb::config
