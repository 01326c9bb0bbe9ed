#pragma once

// Turning a pod (its template) and the secrets/configs it references into
// runtime terms: container specs for the CRI and volumes for the CSI. Pure
// functions, no I/O, so every rule here is unit-tested on its own.

#include <map>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cii.h"
#include "lastbackend/runtime/cri.h"
#include "lastbackend/types/pod.h"
#include "lastbackend/types/secret.h"

namespace lb::node {

// Label on containers of pods from --manifest-path (never reported to the api).
inline constexpr const char* kLabelLocal = "io.lastbackend.local";

struct VolumePlan {
  std::string name;     // template volume name
  std::string csiName;  // CSI volume name: "<pod selflink>.<name>", or "<ns:volume>" when shared
  bool shared = false;  // a Volume object's dir, kept when the pod goes
  bool files = false;   // projected secret/config files (mounted read-only)
  std::map<std::string, std::string> data;  // files: key -> bytes
  std::vector<std::string> keys;            // files to project (empty = all)
};

struct ContainerPlan {
  std::string name;                  // name in the template
  runtime::cri::ContainerSpec spec;  // mounts' source holds the CSI name until resolved
  runtime::cii::PullPolicy pullPolicy = runtime::cii::PullPolicy::kIfNotPresent;
  runtime::cii::RegistryAuth auth;  // from image.secret
  types::Probes probes;
};

struct PodPlan {
  std::string selflink;
  std::string hash;                       // template hash (io.lastbackend.spec)
  std::vector<ContainerPlan> containers;  // [0] owns the pod's network namespace
  std::vector<VolumePlan> volumes;
};

// Secrets and configs by "ns:name".
struct Refs {
  const std::map<std::string, types::Secret>* secrets = nullptr;
  const std::map<std::string, types::Config>* configs = nullptr;
};

// Docker names: the selflink with ':' as '_' plus the container name.
std::string containerName(const std::string& podSelflink, const std::string& container);

// The plan of `pod`. kNotFound when a referenced secret/config (or key) is
// missing; kInvalidArgument for a bad pull policy or restart policy.
StatusOr<PodPlan> planPod(const types::Pod& pod, const Refs& refs, bool local = false);

// Credentials of an "auth" secret (keys username/password, optional
// serveraddress / server / token).
runtime::cii::RegistryAuth registryAuth(const types::Secret& secret);

}  // namespace lb::node
