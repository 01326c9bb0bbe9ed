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

namespace {

// Secrets and configs of the pod's namespace.
struct Lookup {
  const Refs& refs;
  std::string ns;

  StatusOr<const types::Secret*> secret(const std::string& name) const {
    return find(refs.secrets, name, "secret");
  }
  StatusOr<const types::Config*> config(const std::string& name) const {
    return find(refs.configs, name, "config");
  }
  // One key of a secret (`ref` from a secret) or a config.
  template <typename Object>
  StatusOr<std::string> key(const std::map<std::string, Object>* objects, const types::KeyRef& ref,
                            const char* kind) const {
    auto o = find(objects, ref.name, kind);
    if (!o.isOk()) return o.status();
    auto it = (*o)->spec.data.find(ref.key);
    if (it == (*o)->spec.data.end())
      return notFound(std::string(kind) + " '" + ref.name + "' has no key '" + ref.key + "'");
    return it->second;
  }

 private:
  template <typename Object>
  StatusOr<const Object*> find(const std::map<std::string, Object>* objects,
                               const std::string& name, const char* kind) const {
    if (objects) {
      auto it = objects->find(refKey(ns, name));
      if (it != objects->end()) return &it->second;
    }
    return notFound(std::string(kind) + " '" + name + "' not found");
  }
};

StatusOr<VolumePlan> planVolume(const Lookup& l, const types::Pod& pod,
                                const types::TemplateVolume& v) {
  VolumePlan vp;
  vp.name = v.name;
  vp.csiName = pod.meta.selflink + "." + v.name;
  if (v.secret) {
    auto s = l.secret(v.secret->name);
    if (!s.isOk()) return s.status();
    vp.files = true;
    vp.data = (*s)->spec.data;
    vp.keys = v.secret->files;
  } else if (v.config) {
    auto c = l.config(v.config->name);
    if (!c.isOk()) return c.status();
    vp.files = true;
    vp.data = (*c)->spec.data;
    vp.keys = v.config->files;
  } else if (v.volume) {
    vp.shared = true;
    vp.csiName = refKey(l.ns, v.volume->name);
  }
  for (const auto& k : vp.keys)
    if (!vp.data.count(k)) return notFound("key '" + k + "' not found");
  return vp;
}

Status planEnv(const Lookup& l, const std::string& what, const types::ContainerSpec& c,
               cri::ContainerSpec& s) {
  for (const auto& e : c.env) {
    StatusOr<std::string> value = std::string();
    if (e.value) {
      value = *e.value;
    } else if (e.secret) {
      value = l.key(l.refs.secrets, *e.secret, "secret");
    } else if (e.config) {
      value = l.key(l.refs.configs, *e.config, "config");
    } else {
      continue;
    }
    if (!value.isOk()) return value.status().withContext(what + " env " + e.name);
    s.env[e.name] = std::move(*value);
  }
  return Status::ok();
}

Status planMounts(const std::string& what, const types::ContainerSpec& c, const PodPlan& plan,
                  cri::ContainerSpec& s) {
  for (const auto& m : c.volumes) {
    auto vp = std::find_if(plan.volumes.begin(), plan.volumes.end(),
                           [&](const VolumePlan& v) { return v.name == m.name; });
    if (vp == plan.volumes.end())
      return notFound(what + ": volume '" + m.name + "' is not declared in the template");
    bool ro = vp->files || m.readonly || m.mode == "ro";
    s.mounts.push_back({vp->csiName, m.path, ro});
  }
  return Status::ok();
}

void labelContainer(const types::Pod& pod, const PodPlan& plan, const std::string& ns,
                    const std::string& name, size_t i, bool local, cri::ContainerSpec& s) {
  auto p = parts(pod.meta.selflink);
  s.labels[cri::kLabelPod] = pod.meta.selflink;
  s.labels[cri::kLabelContainer] = name;
  s.labels[cri::kLabelNamespace] = ns;
  if (p.size() >= 4) {
    s.labels[cri::kLabelService] = p[1];
    s.labels[cri::kLabelDeployment] = p[2];
  }
  s.labels[cri::kLabelSpecHash] = plan.hash;
  if (local) s.labels[kLabelLocal] = "true";
  if (i == 0) s.labels[cri::kLabelNetwork] = "owner";
}

StatusOr<ContainerPlan> planContainer(const Lookup& l, const types::Pod& pod, const PodPlan& plan,
                                      size_t i, bool local) {
  const auto& c = pod.spec.template_.containers[i];
  const std::string what = "container '" + c.name + "'";
  ContainerPlan cp;
  cp.name = c.name;
  cp.probes = c.probes;
  auto policy = cii::parsePullPolicy(c.image.policy);
  if (!policy.isOk()) return policy.status().withContext(what);
  cp.pullPolicy = *policy;
  if (!c.image.secret.empty()) {
    auto s = l.secret(c.image.secret);
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
  LB_RETURN_IF_ERROR(planEnv(l, what, c, s));
  s.memoryBytes = c.resources.limits.ram;
  s.milliCpu = c.resources.limits.cpu;
  auto restart = restartOf(c.restart);
  if (!restart.isOk()) return restart.status().withContext(what);
  s.restart = *restart;
  s.privileged = c.security.privileged;
  for (const auto& port : c.ports) s.exposedPorts.push_back({port.containerPort, port.protocol});
  LB_RETURN_IF_ERROR(planMounts(what, c, plan, s));
  labelContainer(pod, plan, l.ns, c.name, i, local, s);
  return cp;
}

}  // namespace

StatusOr<PodPlan> planPod(const types::Pod& pod, const Refs& refs, bool local) {
  PodPlan plan;
  plan.selflink = pod.meta.selflink;
  const auto& tmpl = pod.spec.template_;
  plan.hash = types::templateHash(tmpl);
  const Lookup l{refs, pod.meta.namespace_.empty() ? parts(pod.meta.selflink)[0]
                                                   : pod.meta.namespace_};
  if (tmpl.containers.empty())
    return invalidArgument("pod has no containers", "spec.template.containers");
  for (const auto& v : tmpl.volumes) {
    auto vp = planVolume(l, pod, v);
    if (!vp.isOk()) return vp.status().withContext("volume '" + v.name + "'");
    plan.volumes.push_back(std::move(*vp));
  }
  for (size_t i = 0; i < tmpl.containers.size(); ++i) {
    auto cp = planContainer(l, pod, plan, i, local);
    if (!cp.isOk()) return cp.status();
    plan.containers.push_back(std::move(*cp));
  }
  return plan;
}

}  // namespace lb::node
