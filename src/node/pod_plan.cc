#include "node/pod_plan.h"

#include <algorithm>

#include "lastbackend/types/template.h"

namespace lb::node {

namespace cri = runtime::cri;
namespace cii = runtime::cii;

namespace {

std::string refKey(const std::string& ns, const std::string& name) { return ns + ":" + name; }

// The selflink's parts: ns:service:deployment:pod.
std::vector<std::string> parts(const std::string& selflink) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t colon = selflink.find(':', start);
    out.push_back(selflink.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

StatusOr<cri::Restart> restartOf(const types::RestartPolicy& r) {
  cri::Restart out;
  if (r.policy.empty() || r.policy == "always") {
    // Services are long-running: an unset policy restarts (documented).
    out.policy = "always";
  } else if (r.policy == "on-failure") {
    out.policy = "on-failure";
    out.maxRetries = r.attempt;
  } else if (r.policy == "never" || r.policy == "no") {
    out.policy = "no";
  } else {
    return invalidArgument(
        "unknown restart policy '" + r.policy + "' (valid: always, on-failure, never)",
        "restart.policy");
  }
  return out;
}

}  // namespace

std::string containerName(const std::string& podSelflink, const std::string& container) {
  std::string out = "lb_";
  for (char c : podSelflink)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  out += "_" + container;
  return out;
}

cii::RegistryAuth registryAuth(const types::Secret& secret) {
  cii::RegistryAuth a;
  auto get = [&](const char* k) {
    auto it = secret.spec.data.find(k);
    return it == secret.spec.data.end() ? std::string() : it->second;
  };
  a.username = get("username");
  a.password = get("password");
  a.serverAddress = get("serveraddress");
  if (a.serverAddress.empty()) a.serverAddress = get("server");
  a.identityToken = get("token");
  return a;
}

StatusOr<PodPlan> planPod(const types::Pod& pod, const Refs& refs, bool local) {
  PodPlan plan;
  plan.selflink = pod.meta.selflink;
  const auto& tmpl = pod.spec.template_;
  plan.hash = types::templateHash(tmpl);
  auto p = parts(pod.meta.selflink);
  const std::string ns = pod.meta.namespace_.empty() ? p[0] : pod.meta.namespace_;
  if (tmpl.containers.empty())
    return invalidArgument("pod has no containers", "spec.template.containers");

  auto secretOf = [&](const std::string& name) -> StatusOr<const types::Secret*> {
    if (refs.secrets) {
      auto it = refs.secrets->find(refKey(ns, name));
      if (it != refs.secrets->end()) return &it->second;
    }
    return notFound("secret '" + name + "' not found");
  };
  auto configOf = [&](const std::string& name) -> StatusOr<const types::Config*> {
    if (refs.configs) {
      auto it = refs.configs->find(refKey(ns, name));
      if (it != refs.configs->end()) return &it->second;
    }
    return notFound("config '" + name + "' not found");
  };

  for (const auto& v : tmpl.volumes) {
    VolumePlan vp;
    vp.name = v.name;
    vp.csiName = pod.meta.selflink + "." + v.name;
    if (v.secret) {
      auto s = secretOf(v.secret->name);
      if (!s.isOk()) return s.status().withContext("volume '" + v.name + "'");
      vp.files = true;
      vp.data = (*s)->spec.data;
      vp.keys = v.secret->files;
    } else if (v.config) {
      auto c = configOf(v.config->name);
      if (!c.isOk()) return c.status().withContext("volume '" + v.name + "'");
      vp.files = true;
      vp.data = (*c)->spec.data;
      vp.keys = v.config->files;
    } else if (v.volume) {
      vp.shared = true;
      vp.csiName = refKey(ns, v.volume->name);
    }
    for (const auto& k : vp.keys)
      if (!vp.data.count(k)) return notFound("volume '" + v.name + "': key '" + k + "' not found");
    plan.volumes.push_back(std::move(vp));
  }

  for (size_t i = 0; i < tmpl.containers.size(); ++i) {
    const auto& c = tmpl.containers[i];
    const std::string what = "container '" + c.name + "'";
    ContainerPlan cp;
    cp.name = c.name;
    cp.probes = c.probes;
    auto policy = cii::parsePullPolicy(c.image.policy);
    if (!policy.isOk()) return policy.status().withContext(what);
    cp.pullPolicy = *policy;
    if (!c.image.secret.empty()) {
      auto s = secretOf(c.image.secret);
      if (!s.isOk()) return s.status().withContext(what + " image");
      cp.auth = registryAuth(**s);
    }
    cri::ContainerSpec& s = cp.spec;
    s.name = containerName(pod.meta.selflink, c.name);
    s.image = c.image.name;
    s.entrypoint = c.entrypoint;
    s.command = c.command;
    s.args = c.args;
    s.workdir = c.workdir;
    for (const auto& e : c.env) {
      if (e.value) {
        s.env[e.name] = *e.value;
      } else if (e.secret) {
        auto sec = secretOf(e.secret->name);
        if (!sec.isOk()) return sec.status().withContext(what + " env " + e.name);
        auto it = (*sec)->spec.data.find(e.secret->key);
        if (it == (*sec)->spec.data.end())
          return notFound(what + " env " + e.name + ": secret '" + e.secret->name +
                          "' has no key '" + e.secret->key + "'");
        s.env[e.name] = it->second;
      } else if (e.config) {
        auto cfg = configOf(e.config->name);
        if (!cfg.isOk()) return cfg.status().withContext(what + " env " + e.name);
        auto it = (*cfg)->spec.data.find(e.config->key);
        if (it == (*cfg)->spec.data.end())
          return notFound(what + " env " + e.name + ": config '" + e.config->name +
                          "' has no key '" + e.config->key + "'");
        s.env[e.name] = it->second;
      }
    }
    s.memoryBytes = c.resources.limits.ram;
    s.milliCpu = c.resources.limits.cpu;
    auto restart = restartOf(c.restart);
    if (!restart.isOk()) return restart.status().withContext(what);
    s.restart = *restart;
    s.privileged = c.security.privileged;
    for (const auto& port : c.ports) s.exposedPorts.push_back({port.containerPort, port.protocol});
    for (const auto& m : c.volumes) {
      auto vp = std::find_if(plan.volumes.begin(), plan.volumes.end(),
                             [&](const VolumePlan& v) { return v.name == m.name; });
      if (vp == plan.volumes.end())
        return notFound(what + ": volume '" + m.name + "' is not declared in the template");
      bool ro = vp->files || m.readonly || m.mode == "ro";
      s.mounts.push_back({vp->csiName, m.path, ro});
    }
    s.labels[cri::kLabelPod] = pod.meta.selflink;
    s.labels[cri::kLabelContainer] = c.name;
    s.labels[cri::kLabelNamespace] = ns;
    if (p.size() >= 4) {
      s.labels[cri::kLabelService] = p[1];
      s.labels[cri::kLabelDeployment] = p[2];
    }
    s.labels[cri::kLabelSpecHash] = plan.hash;
    if (local) s.labels[kLabelLocal] = "true";
    if (i == 0) s.labels[cri::kLabelNetwork] = "owner";
    plan.containers.push_back(std::move(cp));
  }
  return plan;
}

}  // namespace lb::node
