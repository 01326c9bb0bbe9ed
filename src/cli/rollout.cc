#include "cli/rollout.h"

namespace lb::cli {

namespace {
bool terminating(types::State s) {
  return s == types::State::kDestroy || s == types::State::kDestroyed;
}

// The current deployment: live, made from this template, at this size. Two
// can match while a changed secret rolls the pods: the one with more Ready
// pods counts, the other's pods are old.
template <class ReadyOf>
const types::Deployment* currentDeployment(const types::Service& service,
                                           const std::vector<types::Deployment>& deployments,
                                           const std::string& hash, const ReadyOf& readyOf) {
  const types::Deployment* cur = nullptr;
  int curReady = -1;
  for (const auto& d : deployments) {
    const bool made =
        hash.empty() ? d.spec.template_ == service.spec.template_ : d.spec.templateHash == hash;
    if (terminating(d.status.state) || d.spec.replicas != service.spec.replicas || !made) continue;
    int ready = readyOf(d);
    if (ready > curReady) {
      cur = &d;
      curReady = ready;
    }
  }
  return cur;
}

}  // namespace

Rollout rolloutOf(const types::Service& service, const std::vector<types::Deployment>& deployments,
                  const std::map<std::string, std::vector<types::Pod>>& pods,
                  const std::string& hash) {
  Rollout r;
  r.service = service.meta.name;
  r.want = service.spec.replicas;
  r.phase = service.status.message;
  static const std::vector<types::Pod> kNone;
  auto podsOf = [&](const std::string& d) -> const std::vector<types::Pod>& {
    auto it = pods.find(d);
    return it == pods.end() ? kNone : it->second;
  };
  const types::Deployment* cur =
      currentDeployment(service, deployments, hash, [&](const types::Deployment& d) {
        int ready = 0;
        for (const auto& p : podsOf(d.meta.name)) ready += p.status.ready ? 1 : 0;
        return ready;
      });
  for (const auto& d : deployments) {
    const auto& list = podsOf(d.meta.name);
    if (&d != cur) {
      r.old += static_cast<int>(list.size());
      continue;
    }
    r.current = true;
    r.pods = static_cast<int>(list.size());
    for (const auto& p : list) {
      if (p.status.ready) {
        ++r.ready;
      } else if (r.message.empty() && !p.status.message.empty()) {
        r.message = p.status.message;
      }
    }
  }
  return r;
}

Rollout rolloutFromStatus(const types::Service& service,
                          const std::vector<types::Deployment>& deployments,
                          const std::string& hash) {
  Rollout r;
  r.service = service.meta.name;
  r.want = service.spec.replicas;
  r.phase = service.status.message;
  const types::Deployment* cur =
      currentDeployment(service, deployments, hash,
                        [](const types::Deployment& d) { return d.status.replicas.ready; });
  for (const auto& d : deployments) {
    if (&d != cur) {
      r.old += d.status.replicas.total;
      continue;
    }
    r.current = true;
    r.pods = d.status.replicas.total;
    r.ready = d.status.replicas.ready;
    r.message = d.status.message;
  }
  return r;
}

std::string describe(const Rollout& r) {
  std::string s = r.service + ": ";
  if (!r.current) {
    s += "waiting for the deployment of the new spec";
  } else {
    s += std::to_string(r.ready) + " of " + std::to_string(r.want) + " pods ready";
    if (r.pods > r.want) s += ", " + std::to_string(r.pods - r.want) + " more being removed";
  }
  if (r.old > 0) s += ", " + std::to_string(r.old) + " old pod" + (r.old == 1 ? "" : "s") + " left";
  // The service's own word on the rollout (a phase, why it waits) says
  // more than one pod's.
  const std::string& why = r.phase.empty() ? r.message : r.phase;
  if (!why.empty()) s += " (" + why + ")";
  return s;
}

}  // namespace lb::cli
