#pragma once

// Private: the one field table per struct, and the generic encoder/decoder
// that walks it. Each struct lists its wire keys once (fields(v, o)); the
// same list serves JSON/YAML encoding and strict decoding, so the two can
// never drift apart.

#include <charconv>
#include <concepts>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "lastbackend/types/codec.h"
#include "lastbackend/types/manifest.h"
#include "lastbackend/types/quantity.h"
#include "lastbackend/types/shell.h"
#include "types/tree.h"

namespace lb::types::detail {

// Object form (storage, API) vs manifest form (what users write): manifests
// spell ports as "80:8080/tcp" and quantities as "512MB"/"500m".
enum class Mode { kObject, kManifest };

struct DecodeContext {
  bool yaml = false;  // scalars arrive as text; numbers/bools are parsed from it
};

// Per-field flags.
enum : unsigned {
  kShellWords = 1,  // vector<string>: also accept one string, split like a shell
  kMemory = 2,      // int64: bytes, also accept "512MB"
  kCpu = 4,         // int64: millicores; JSON integers, or "500m" / "0.5" (cores)
  kBase64 = 8,      // string: base64 on the wire
};

std::string base64Encode(std::string_view in);
bool base64Decode(std::string_view in, std::string* out);

#define LB_FIELDS(Type)                               \
  template <class V, class T>                         \
  requires std::same_as<std::remove_const_t<T>, Type> \
  void fields(V& v, T& o)

// ---- field tables ---------------------------------------------------------

LB_FIELDS(Meta) {
  v("name", o.name);
  v("namespace", o.namespace_);
  v("selflink", o.selflink);
  v("description", o.description);
  v("labels", o.labels);
  v("created", o.created);
  v("updated", o.updated);
  v("revision", o.revision);
}
LB_FIELDS(PortMapping) {
  v("port", o.port);
  v("container_port", o.containerPort);
  v("protocol", o.protocol);
}
LB_FIELDS(ImageSpec) {
  v("name", o.name);
  v("secret", o.secret);
  v("policy", o.policy);
}
LB_FIELDS(KeyRef) {
  v("name", o.name);
  v("key", o.key);
}
LB_FIELDS(EnvVar) {
  v("name", o.name);
  v("value", o.value);
  v("secret", o.secret);
  v("config", o.config);
}
LB_FIELDS(ResourceAmount) {
  v("ram", o.ram, kMemory);
  v("cpu", o.cpu, kCpu);
}
LB_FIELDS(Resources) {
  v("limits", o.limits);
  v("request", o.request);
}
LB_FIELDS(RestartPolicy) {
  v("policy", o.policy);
  v("attempt", o.attempt);
}
LB_FIELDS(VolumeMount) {
  v("name", o.name);
  v("path", o.path);
  v("mode", o.mode);
  v("readonly", o.readonly);
}
LB_FIELDS(Security) { v("privileged", o.privileged); }
LB_FIELDS(ProbeExec) { v("command", o.command, kShellWords); }
LB_FIELDS(ProbeTcp) { v("port", o.port); }
LB_FIELDS(Probe) {
  v("exec", o.exec);
  v("tcp", o.tcp);
  v("initial_delay", o.initialDelay);
  v("period", o.period);
  v("timeout", o.timeout);
  v("success_threshold", o.successThreshold);
  v("failure_threshold", o.failureThreshold);
}
LB_FIELDS(Probes) {
  v("liveness", o.liveness);
  v("readiness", o.readiness);
}
LB_FIELDS(ContainerSpec) {
  v("name", o.name);
  v("image", o.image);
  v("command", o.command, kShellWords);
  v("entrypoint", o.entrypoint, kShellWords);
  v("args", o.args);
  v("workdir", o.workdir);
  v("env", o.env);
  v("ports", o.ports);
  v("resources", o.resources);
  v("restart", o.restart);
  v("volume", o.volumes);
  v("security", o.security);
  v("probes", o.probes);
}
LB_FIELDS(FilesRef) {
  v("name", o.name);
  v("files", o.files);
}
LB_FIELDS(VolumeRef) { v("name", o.name); }
LB_FIELDS(TemplateVolume) {
  v("name", o.name);
  v("secret", o.secret);
  v("config", o.config);
  v("volume", o.volume);
}
LB_FIELDS(PodTemplate) {
  v("containers", o.containers);
  v("volumes", o.volumes);
}
LB_FIELDS(NodeSelector) {
  v("node", o.node);
  v("labels", o.labels);
}
// Namespace
LB_FIELDS(NamespaceDomain) {
  v("internal", o.internal);
  v("external", o.external);
}
LB_FIELDS(NamespaceAmounts) {
  v("ram", o.ram, kMemory);
  v("cpu", o.cpu, kCpu);
  v("pods", o.pods);
  v("services", o.services);
}
LB_FIELDS(NamespaceResources) { v("limits", o.limits); }
LB_FIELDS(NamespaceSpec) {
  v("domain", o.domain);
  v("resources", o.resources);
}
LB_FIELDS(NamespaceStatus) {
  v("state", o.state);
  v("message", o.message);
  v("usage", o.usage);
}
LB_FIELDS(Namespace) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Service
LB_FIELDS(ServiceNetwork) { v("ports", o.ports); }
LB_FIELDS(ServiceStrategy) {
  v("type", o.type);
  v("surge", o.surge);
  v("unavailable", o.unavailable);
  v("deadline", o.deadline);
}
LB_FIELDS(ServiceSpec) {
  v("replicas", o.replicas);
  v("selector", o.selector);
  v("network", o.network);
  v("strategy", o.strategy);
  v("template", o.template_);
}
LB_FIELDS(ServiceStatus) {
  v("state", o.state);
  v("message", o.message);
  v("ip", o.ip);
}
LB_FIELDS(Service) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Deployment
LB_FIELDS(DeploymentSpec) {
  v("template", o.template_);
  v("selector", o.selector);
  v("replicas", o.replicas);
  v("template_hash", o.templateHash);
}
LB_FIELDS(DeploymentReplicas) {
  v("total", o.total);
  v("provision", o.provision);
  v("ready", o.ready);
  v("errored", o.errored);
}
LB_FIELDS(DeploymentStatus) {
  v("state", o.state);
  v("message", o.message);
  v("replicas", o.replicas);
}
LB_FIELDS(Deployment) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Pod
LB_FIELDS(PodSpec) {
  v("template", o.template_);
  v("selector", o.selector);
}
LB_FIELDS(ContainerStatus) {
  v("id", o.id);
  v("name", o.name);
  v("image", o.image);
  v("state", o.state);
  v("ready", o.ready);
  v("restarts", o.restarts);
  v("message", o.message);
}
LB_FIELDS(PodStatus) {
  v("state", o.state);
  v("message", o.message);
  v("ready", o.ready);
  v("ip", o.ip);
  v("containers", o.containers);
  v("node", o.node);
}
LB_FIELDS(Pod) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Endpoint
LB_FIELDS(Upstream) {
  v("ip", o.ip);
  v("port", o.port);
}
LB_FIELDS(EndpointSpec) {
  v("ip", o.ip);
  v("ports", o.ports);
  v("upstreams", o.upstreams);
  v("policy", o.policy);
  v("domain", o.domain);
}
LB_FIELDS(EndpointStatus) {
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(Endpoint) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Volume
LB_FIELDS(VolumeCapacity) { v("storage", o.storage, kMemory); }
LB_FIELDS(VolumeSpec) {
  v("type", o.type);
  v("selector", o.selector);
  v("capacity", o.capacity);
  v("access_mode", o.accessMode);
}
LB_FIELDS(VolumeStatus) {
  v("state", o.state);
  v("message", o.message);
  v("path", o.path);
  v("ready", o.ready);
}
LB_FIELDS(Volume) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Secret / Config
LB_FIELDS(SecretSpec) {
  v("type", o.type);
  v("data", o.data, kBase64);
}
LB_FIELDS(SecretStatus) {
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(Secret) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
LB_FIELDS(ConfigSpec) {
  v("type", o.type);
  v("data", o.data);
}
LB_FIELDS(ConfigStatus) {
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(Config) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Route
LB_FIELDS(RouteRule) {
  v("path", o.path);
  v("service", o.service);
  v("port", o.port);
}
LB_FIELDS(RouteTls) {
  v("secret", o.secret);
  v("redirect", o.redirect);
}
LB_FIELDS(RouteSpec) {
  v("domain", o.domain);
  v("port", o.port);
  v("rules", o.rules);
  v("tls", o.tls);
}
LB_FIELDS(RouteStatus) {
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(Route) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Node
LB_FIELDS(NodeInfo) {
  v("hostname", o.hostname);
  v("os", o.os);
  v("architecture", o.architecture);
  v("external_ip", o.externalIp);
  v("internal_ip", o.internalIp);
  v("internal_iface", o.internalIface);
  v("labels", o.labels);
}
LB_FIELDS(NodeResources) {
  v("cpu", o.cpu, kCpu);
  v("ram", o.ram, kMemory);
  v("storage", o.storage, kMemory);
  v("pods", o.pods);
}
LB_FIELDS(NodeNetwork) {
  v("cidr", o.cidr);
  v("message", o.message);
}
LB_FIELDS(NodeDrain) {
  v("state", o.state);
  v("pods", o.pods);
}
LB_FIELDS(NodeSpec) {
  v("unschedulable", o.unschedulable);
  v("drain", o.drain);
  v("network", o.network);
}
LB_FIELDS(NodeStatus) {
  v("online", o.online);
  v("capacity", o.capacity);
  v("allocated", o.allocated);
  v("heartbeat", o.heartbeat);
}
LB_FIELDS(Node) {
  v("meta", o.meta);
  v("info", o.info);
  v("spec", o.spec);
  v("status", o.status);
}
// Cluster / Subnet
LB_FIELDS(ClusterStatus) {
  v("nodes", o.nodes);
  v("capacity", o.capacity);
  v("allocated", o.allocated);
}
LB_FIELDS(Cluster) {
  v("meta", o.meta);
  v("status", o.status);
}
LB_FIELDS(SubnetSpec) {
  v("cidr", o.cidr);
  v("node", o.node);
  v("type", o.type);
  v("iface", o.iface);
  v("addr", o.addr);
  v("hwaddr", o.hwaddr);
}
LB_FIELDS(SubnetStatus) {
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(Subnet) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Components
LB_FIELDS(ComponentSpec) {
  v("hostname", o.hostname);
  v("version", o.version);
  v("ip", o.ip);
  v("port", o.port);
}
LB_FIELDS(ComponentStatus) {
  v("online", o.online);
  v("ready", o.ready);
  v("heartbeat", o.heartbeat);
}
LB_FIELDS(DiscoverySpec) {
  v("hostname", o.hostname);
  v("version", o.version);
  v("ip", o.ip);
  v("port", o.port);
  v("domain", o.domain);
}
LB_FIELDS(DiscoveryStatus) {
  v("online", o.online);
  v("ready", o.ready);
  v("heartbeat", o.heartbeat);
  v("records", o.records);
  v("queries", o.queries);
}
LB_FIELDS(IngressRouteState) {
  v("route", o.route);
  v("state", o.state);
  v("message", o.message);
}
LB_FIELDS(IngressStatus) {
  v("online", o.online);
  v("ready", o.ready);
  v("heartbeat", o.heartbeat);
  v("routes", o.routes);
}
LB_FIELDS(Ingress) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
LB_FIELDS(Discovery) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
LB_FIELDS(Exporter) {
  v("meta", o.meta);
  v("spec", o.spec);
  v("status", o.status);
}
// Manifests (the Document envelope is handled in manifest.cc: its spec type depends on kind)
LB_FIELDS(ManifestMeta) {
  v("name", o.name);
  v("description", o.description);
  v("labels", o.labels);
}
LB_FIELDS(DataItem) {
  v("key", o.key);
  v("value", o.value);
  v("file", o.file);
}
LB_FIELDS(DataManifestSpec) {
  v("type", o.type);
  v("data", o.data);
}

#undef LB_FIELDS

// ---- encoding -------------------------------------------------------------

struct FieldProbe {
  template <class U>
  void operator()(const char*, U&, unsigned = 0) {}
};

// Anything with a field table.
template <class T>
concept Struct = requires(FieldProbe& p, T& t) {
  fields(p, t);
};

inline Json encode(const std::string& s, Mode, unsigned flags) {
  return (flags & kBase64) ? Json(base64Encode(s)) : Json(s);
}
inline Json encode(bool b, Mode, unsigned) { return b; }
inline Json encode(int i, Mode, unsigned) { return i; }
// CPU is always written as a quantity string ("500m", "2"): in YAML a bare
// number is text, and "2" in a manifest means two cores, so writing
// millicores as a number would not read back. JSON integers still decode as
// millicores for API clients.
inline Json encode(int64_t i, Mode mode, unsigned flags) {
  if (flags & kCpu) return formatCpu(i);
  if (mode == Mode::kManifest && (flags & kMemory)) return formatMemory(i);
  return i;
}
inline Json encode(State s, Mode, unsigned) { return stateName(s); }
Json encode(const PortMapping& p, Mode mode, unsigned flags);
template <Struct T>
Json encode(const T& value, Mode mode, unsigned flags);
template <class T>
Json encode(const std::optional<T>& o, Mode mode, unsigned flags) {
  return o ? encode(*o, mode, flags) : Json(nullptr);
}
template <class T>
Json encode(const std::vector<T>& v, Mode mode, unsigned flags) {
  Json a = Json::array();
  for (const auto& x : v) a.push_back(encode(x, mode, flags));
  return a;
}
template <class T>
Json encode(const std::map<std::string, T>& m, Mode mode, unsigned flags) {
  Json o = Json::object();
  for (const auto& [k, x] : m) o[k] = encode(x, mode, flags);
  return o;
}

class Encoder {
 public:
  explicit Encoder(Mode mode) : mode_(mode) {}
  template <class U>
  void operator()(const char* key, const U& value, unsigned flags = 0) {
    out_[key] = encode(value, mode_, flags);
  }
  Json& out() { return out_; }

 private:
  Mode mode_;
  Json out_ = Json::object();
};

template <class T>
Json encodeAllFields(const T& value, Mode mode) {
  Encoder e(mode);
  fields(e, value);
  return std::move(e.out());
}

// Keys whose value equals the default's are dropped (decoding restores the
// default, so this stays lossless); numbers and bools are always written so
// readers see `replicas: 0` / `ready: false` explicitly.
template <Struct T>
Json encode(const T& value, Mode mode, unsigned) {
  Json full = encodeAllFields(value, mode);
  static const Json kDefaults[2] = {encodeAllFields(T{}, Mode::kObject),
                                    encodeAllFields(T{}, Mode::kManifest)};
  const Json& def = kDefaults[mode == Mode::kManifest ? 1 : 0];
  Json out = Json::object();
  for (auto& [k, x] : full.items()) {
    bool omittable = x.is_null() || x.is_string() || x.is_array() || x.is_object();
    if (omittable && def.contains(k) && def[k] == x) continue;
    out[k] = std::move(x);
  }
  return out;
}

// ---- decoding -------------------------------------------------------------

Status decode(const Json& j, std::string& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
Status decode(const Json& j, bool& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
Status decode(const Json& j, int& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
Status decode(const Json& j, int64_t& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
Status decode(const Json& j, State& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
Status decode(const Json& j, PortMapping& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);
template <Struct T>
Status decode(const Json& j, T& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags);

template <class T>
Status decode(const Json& j, std::optional<T>& out, const std::string& path,
              const DecodeContext& ctx, unsigned flags) {
  if (j.is_null()) {
    out.reset();
    return Status::ok();
  }
  out.emplace();
  return decode(j, *out, path, ctx, flags);
}

Status decodeShellWords(const Json& j, std::vector<std::string>& out, const std::string& path);

template <class T>
Status decode(const Json& j, std::vector<T>& out, const std::string& path, const DecodeContext& ctx,
              unsigned flags) {
  if constexpr (std::is_same_v<T, std::string>) {
    if ((flags & kShellWords) && j.is_string()) return decodeShellWords(j, out, path);
  }
  if (!j.is_array()) return fieldError(path, "expected a list");
  out.clear();
  out.resize(j.size());
  for (size_t i = 0; i < j.size(); ++i)
    LB_RETURN_IF_ERROR(decode(j[i], out[i], indexPath(path, i), ctx, flags));
  return Status::ok();
}

template <class T>
Status decode(const Json& j, std::map<std::string, T>& out, const std::string& path,
              const DecodeContext& ctx, unsigned flags) {
  if (!j.is_object()) return fieldError(path, "expected a mapping");
  out.clear();
  for (const auto& [k, x] : j.items())
    LB_RETURN_IF_ERROR(decode(x, out[k], childPath(path, k), ctx, flags));
  return Status::ok();
}

// Reads the fields of one JSON object, remembering which keys were known so
// that finish() can name the first unknown one.
class Decoder {
 public:
  Decoder(const Json& obj, const std::string& path, const DecodeContext& ctx)
      : obj_(obj), path_(path), ctx_(ctx) {}

  template <class U>
  void operator()(const char* key, U& out, unsigned flags = 0) {
    known_.push_back(key);
    if (!status_.isOk()) return;
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return;  // absent or null: keep the default
    status_ = decode(*it, out, childPath(path_, key), ctx_, flags);
  }

  Status finish() const {
    if (!status_.isOk()) return status_;
    for (const auto& [k, x] : obj_.items()) {
      bool found = false;
      for (const char* known : known_) found = found || k == known;
      if (!found) return fieldError(childPath(path_, k), "unknown field");
    }
    return Status::ok();
  }

 private:
  const Json& obj_;
  const std::string& path_;
  const DecodeContext& ctx_;
  std::vector<const char*> known_;
  Status status_;
};

template <Struct T>
Status decode(const Json& j, T& out, const std::string& path, const DecodeContext& ctx, unsigned) {
  if (!j.is_object()) return fieldError(path, "expected a mapping");
  out = T{};
  Decoder d(j, path, ctx);
  fields(d, out);
  return d.finish();
}

}  // namespace lb::types::detail
