#pragma once

// The pod template shared by services, deployments and pods: containers and
// the volumes they mount. Quantities are already parsed (bytes, millicores).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/meta.h"

namespace lb::types {

// "80:8080/tcp": port exposed by the service endpoint : port in the container
// / protocol. "8080" alone means 8080:8080/tcp.
struct PortMapping {
  int port = 0;
  int containerPort = 0;
  std::string protocol = "tcp";  // tcp | udp
  bool operator==(const PortMapping&) const = default;
};

StatusOr<PortMapping> parsePortMapping(std::string_view text);
std::string formatPortMapping(const PortMapping& p);

struct ImageSpec {
  std::string name;
  std::string secret;  // name of an auth secret for the registry
  std::string policy;  // pull policy
  bool operator==(const ImageSpec&) const = default;
};

// A key of a secret or config.
struct KeyRef {
  std::string name;
  std::string key;
  bool operator==(const KeyRef&) const = default;
};

// Exactly one source: value, secret or config.
struct EnvVar {
  std::string name;
  std::optional<std::string> value;
  std::optional<KeyRef> secret;
  std::optional<KeyRef> config;
  bool operator==(const EnvVar&) const = default;
};

struct ResourceAmount {
  int64_t ram = 0;  // bytes; 0 = unset
  int64_t cpu = 0;  // millicores; 0 = unset
  bool operator==(const ResourceAmount&) const = default;
};

struct Resources {
  ResourceAmount limits;
  ResourceAmount request;
  bool operator==(const Resources&) const = default;
};

struct RestartPolicy {
  std::string policy;  // always | on-failure | never; empty = runtime default
  int attempt = 0;
  bool operator==(const RestartPolicy&) const = default;
};

struct VolumeMount {
  std::string name;  // a volume declared in the template
  std::string path;  // mount point in the container
  std::string mode;  // "rw" | "ro" | "" (rw)
  bool readonly = false;
  bool operator==(const VolumeMount&) const = default;
};

struct Security {
  bool privileged = false;
  bool operator==(const Security&) const = default;
};

struct ProbeExec {
  std::vector<std::string> command;
  bool operator==(const ProbeExec&) const = default;
};
struct ProbeTcp {
  int port = 0;
  bool operator==(const ProbeTcp&) const = default;
};

// Exactly one of exec / tcp. Times in seconds.
struct Probe {
  std::optional<ProbeExec> exec;
  std::optional<ProbeTcp> tcp;
  int initialDelay = 0;
  int period = 10;
  int timeout = 1;
  int successThreshold = 1;
  int failureThreshold = 3;
  bool operator==(const Probe&) const = default;
};

struct Probes {
  std::optional<Probe> liveness;
  std::optional<Probe> readiness;
  bool operator==(const Probes&) const = default;
};

struct ContainerSpec {
  std::string name;
  ImageSpec image;
  std::vector<std::string> command;     // manifests accept a shell-like string too
  std::vector<std::string> entrypoint;  // likewise
  std::vector<std::string> args;
  std::string workdir;
  std::vector<EnvVar> env;
  std::vector<PortMapping> ports;
  Resources resources;
  RestartPolicy restart;
  std::vector<VolumeMount> volumes;  // wire key "volume", as the reference manifests write it
  Security security;
  Probes probes;
  bool operator==(const ContainerSpec&) const = default;
};

// Files (keys) of a secret or config projected into a volume.
struct FilesRef {
  std::string name;
  std::vector<std::string> files;
  bool operator==(const FilesRef&) const = default;
};

struct VolumeRef {
  std::string name;  // a Volume object in the namespace
  bool operator==(const VolumeRef&) const = default;
};

// Exactly one of secret / config / volume; none means an empty scratch dir.
struct TemplateVolume {
  std::string name;
  std::optional<FilesRef> secret;
  std::optional<FilesRef> config;
  std::optional<VolumeRef> volume;
  bool operator==(const TemplateVolume&) const = default;
};

struct PodTemplate {
  std::vector<ContainerSpec> containers;
  std::vector<TemplateVolume> volumes;
  bool operator==(const PodTemplate&) const = default;
};

struct NodeSelector {
  std::string node;  // hostname; empty = any
  Labels labels;     // node labels that must all match
  bool operator==(const NodeSelector&) const = default;
};

// Stable hex digest (FNV-1a 64) of the runtime-relevant parts of a template:
// everything in it (images, env, commands, volumes, resources, probes...).
// Replicas are not part of a template, so scaling never makes a new deployment.
std::string templateHash(const PodTemplate& tmpl);
// 64-bit FNV-1a of `bytes` as 16 hex digits: templateHash's digest, for
// other stable content hashes.
std::string contentHash(std::string_view bytes);

// The hash that names a service's deployment (DeploymentSpec::templateHash):
// templateHash(tmpl), combined with the data of every secret and config the
// containers' env takes values from, so that changing one rolls the pods.
// `data(secret, name)` gives that object's data in a stable encoding (the
// JSON of its spec), or nullopt when it does not exist. The controller
// names deployments with it; the api answers it to apply, so a client can
// tell the deployment of what it applied.
using RefData = std::function<std::optional<std::string>(bool secret, const std::string& name)>;
std::string deploymentHash(const PodTemplate& tmpl, const RefData& data);

}  // namespace lb::types
