#include "controller/loops/services.h"

#include <algorithm>
#include <string_view>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;
using types::Deployment;
using types::Service;
using types::State;

namespace {

bool terminating(State s) { return s == State::kDestroy || s == State::kDestroyed; }

// Only the data counts (not meta.updated and the like).
template <class T>
T dataOf(const T& obj) {
  T out;
  out.spec = obj.spec;
  return out;
}

// A quarter of the replicas, at least one: the default of surge and unavailable.
int quarter(int replicas) { return replicas <= 0 ? 0 : std::max(1, replicas / 4); }
bool rolling(const Service& svc) { return svc.spec.strategy.type == "rolling"; }
int maxUnavailable(const Service& svc) {
  return svc.spec.strategy.unavailable.value_or(quarter(svc.spec.replicas));
}
int maxSurge(const Service& svc) {
  return svc.spec.strategy.surge.value_or(quarter(svc.spec.replicas));
}
// A failed deployment's message starts so (revertIfFailed), also once retired.
constexpr std::string_view kFailed = "failed: ";
bool failed(const Deployment& d) {
  return d.status.state == State::kError && d.status.message.starts_with(kFailed);
}

// Restarts of one container that make a new deployment crash-looping.
constexpr int kCrashLoopRestarts = 3;

}  // namespace

std::vector<Kind> ServicesLoop::kinds() const {
  return {Kind::kService, Kind::kDeployment, Kind::kNamespace, Kind::kSecret, Kind::kConfig};
}

void ServicesLoop::onChange(const Change& c) {
  switch (c.kind) {
    case Kind::kService:
      ctx_.queue.enqueue('s', c.id);
      return;
    case Kind::kDeployment:
      ctx_.queue.enqueue('s', detail::selflinkPrefix(c.id, 2));
      return;
    case Kind::kNamespace:
      if (c.present) return;  // a namespace going takes its services along
      [[fallthrough]];
    case Kind::kSecret:
    case Kind::kConfig: {
      // Env taken from a secret or config is part of the deployment hash.
      std::string ns =
          c.kind == Kind::kNamespace ? std::string(c.id) : detail::selflinkPrefix(c.id, 1);
      forPrefix(ctx_.cache.services(), ns + ":",
                [&](const std::string& sl, Service&) { ctx_.queue.enqueue('s', sl); });
      return;
    }
    default:
      return;
  }
}

void ServicesLoop::resync() {
  for (const auto& [sl, svc] : ctx_.cache.services()) ctx_.queue.enqueue('s', sl);
  // Deployments whose service is gone: their service key tears them down.
  std::string last;
  for (const auto& [sl, d] : ctx_.cache.deployments()) {
    std::string parent = detail::selflinkPrefix(sl, 2);
    if (parent != last && !ctx_.cache.services().count(parent)) ctx_.queue.enqueue('s', parent);
    last = std::move(parent);
  }
}

// The deployment's template hash: the template's, combined with the data
// of every secret and config the containers' env takes values from. Env
// is resolved when a container is created, so a changed secret or config
// rolls the pods (a new deployment, blue/green). Files projected from
// secrets and configs are rewritten in place by the agents
// (docs/node-protocol.md), so volume references do not roll; nor does a
// template without env references change its hash.
std::string ServicesLoop::deploymentHash(const Service& svc) {
  return types::deploymentHash(
      svc.spec.template_, [&](bool secret, const std::string& name) -> std::optional<std::string> {
        const std::string key = svc.meta.namespace_ + ":" + name;
        if (secret) {
          auto it = ctx_.cache.secrets().find(key);
          if (it == ctx_.cache.secrets().end()) return std::nullopt;
          return types::toJson(dataOf(it->second));
        }
        auto it = ctx_.cache.configs().find(key);
        if (it == ctx_.cache.configs().end()) return std::nullopt;
        return types::toJson(dataOf(it->second));
      });
}

std::vector<std::string> ServicesLoop::deploymentsOf(const std::string& sl) {
  std::vector<std::string> deps;
  forPrefix(ctx_.cache.deployments(), sl + ":",
            [&](const std::string& d, Deployment&) { deps.push_back(d); });
  return deps;
}

void ServicesLoop::putDeployment(const Deployment& d) {
  ctx_.batch.putObject(*keys::objectKey(keys::Collection::kDeployment, d.meta.selflink), d);
  ctx_.cache.setDeployment(d.meta.selflink, d);
}

// Deletes a deployment with its pods (the node agents stop the containers
// when their manifests go, which the node keys do).
void ServicesLoop::destroyDeployment(const std::string& depSl) {
  pods_.removeAll(depSl + ":");
  ctx_.batch.remove(*keys::objectKey(keys::Collection::kDeployment, depSl), false);
}

// A replaced deployment: its pods go, the record stays (state destroyed,
// no replicas) as the service's history, with the spec it ran, for
// `lb service history` and rollback.
void ServicesLoop::retireDeployment(const std::string& depSl, const std::string& cur) {
  pods_.removeAll(depSl + ":");
  const Deployment& dep = ctx_.cache.deployments()[depSl];
  if (dep.status.state == State::kDestroyed) return;
  Deployment d = dep;
  const std::string was = types::stateName(d.status.state);
  // A failed one keeps why it failed.
  const std::string message =
      failed(d) ? d.status.message
                : "replaced by " + detail::selflinkName(cur) + " (was " + was + ")";
  d.status = {};
  d.status.state = State::kDestroyed;
  d.status.message = message;
  d.meta.updated = ctx_.now();
  spdlog::info("controller: service '{}': deployment '{}' retired ({})",
               detail::selflinkPrefix(depSl, 2), d.meta.name, d.status.message);
  putDeployment(d);
}

// Past Options::deploymentHistory retired deployments, the oldest go.
void ServicesLoop::pruneHistory(const std::string& sl, const std::vector<std::string>& deps) {
  auto& deployments = ctx_.cache.deployments();
  std::vector<std::pair<std::string, std::string>> retired;  // (created, selflink)
  for (const auto& d : deps) {
    auto it = deployments.find(d);
    if (it != deployments.end() && it->second.status.state == State::kDestroyed)
      retired.emplace_back(it->second.meta.created, d);
  }
  const size_t keep = static_cast<size_t>(std::max(ctx_.options.deploymentHistory, 0));
  if (retired.size() <= keep) return;
  std::sort(retired.begin(), retired.end());
  for (size_t i = 0; i + keep < retired.size(); ++i) {
    spdlog::debug("controller: service '{}': deployment '{}' leaves the history", sl,
                  detail::selflinkName(retired[i].second));
    destroyDeployment(retired[i].second);
    ctx_.cache.setDeployment(retired[i].second, std::nullopt);
  }
}

void ServicesLoop::teardown(const std::string& sl) {
  std::vector<std::string> deps = deploymentsOf(sl);
  for (const auto& d : deps) destroyDeployment(d);
  // Pods whose deployment is already gone.
  size_t pods = pods_.removeAll(sl + ":");
  endpoints_.remove(sl);
  if (ctx_.cache.services().count(sl)) {
    ctx_.batch.remove(*keys::objectKey(keys::Collection::kService, sl), true);
    spdlog::info("controller: service '{}' torn down ({} deployments, {} pods)", sl, deps.size(),
                 pods);
  }
}

// The live deployment made from this template (the one with the most ready
// pods), created or brought to the service's replicas and selector.
std::string ServicesLoop::currentDeployment(const std::string& sl, const Service& svc,
                                            const std::string& hash,
                                            const std::vector<std::string>& deps) {
  auto& deployments = ctx_.cache.deployments();
  std::string cur;
  int curReady = -1;
  for (const auto& d : deps) {
    const Deployment& dep = deployments[d];
    if (dep.spec.templateHash != hash || terminating(dep.status.state)) continue;
    int ready = pods_.count(d).ready;
    if (cur.empty() || ready > curReady) {
      cur = d;
      curReady = ready;
    }
  }
  if (cur.empty()) {
    Deployment d;
    types::Meta parent = svc.meta;
    parent.selflink = sl;  // the key is authoritative
    d.meta = ctx_.childMeta(parent);
    d.spec.template_ = svc.spec.template_;
    d.spec.selector = svc.spec.selector;
    d.spec.replicas = svc.spec.replicas;
    d.spec.templateHash = hash;
    d.status.state = State::kProvision;
    putDeployment(d);
    spdlog::info("controller: service '{}': new deployment '{}' (template {})", sl, d.meta.name,
                 hash);
    return d.meta.selflink;
  }
  const Deployment& dep = deployments[cur];
  if (dep.spec.replicas != svc.spec.replicas || !(dep.spec.selector == svc.spec.selector)) {
    Deployment d = dep;
    d.spec.replicas = svc.spec.replicas;
    d.spec.selector = svc.spec.selector;
    d.meta.updated = ctx_.now();
    putDeployment(d);
  }
  return cur;
}

// Older deployments: once the current one is ready they all go; until then
// the one serving the most ready pods keeps serving. Returns that one.
std::string ServicesLoop::retireOld(const std::string& sl, const std::string& cur, bool ready,
                                    const std::vector<std::string>& deps) {
  auto& deployments = ctx_.cache.deployments();
  std::string serving;
  int servingReady = 0;
  if (!ready) {
    for (const auto& d : deps) {
      if (d == cur || !deployments.count(d) || terminating(deployments[d].status.state)) continue;
      int r = pods_.count(d).ready;
      if (r > servingReady || (r == servingReady && r > 0 && d > serving)) {
        serving = d;
        servingReady = r;
      }
    }
  }
  for (const auto& d : deps) {
    if (d == cur || d == serving || !deployments.count(d)) continue;
    retireDeployment(d, cur);
  }
  pruneHistory(sl, deps);
  if (!serving.empty()) {
    pods_.scale(deployments[serving]);
    updateDeploymentStatus(serving, pods_.count(serving));
  }
  return serving;
}

// The pods the current deployment may have now: all its replicas
// (blue-green), or, rolling, what replicas + surge leaves beside the old
// deployments' pods.
int ServicesLoop::podTarget(const Service& svc, const std::string& cur,
                            const std::vector<std::string>& deps) {
  const int want = std::max(svc.spec.replicas, 0);
  if (!rolling(svc)) return want;
  int old = 0;
  for (const auto& d : deps) {
    auto it = ctx_.cache.deployments().find(d);
    if (d == cur || it == ctx_.cache.deployments().end() || terminating(it->second.status.state))
      continue;
    old += pods_.count(d).total;
  }
  return std::clamp(want + maxSurge(svc) - old, 0, want);
}

// A new deployment that is not ready by its deadline (spec.strategy.deadline,
// else --rollout-deadline) or whose pods crash-loop, while an older one
// serves, has failed: it is marked so and the service's template goes back
// to the serving deployment's (the controller's one write of a spec), so
// the next pass makes that one current again at full size and retires the
// failed one, which keeps its message as history. A rollout caused by a
// changed secret or config (the same template) cannot be reverted so: the
// deployment is only marked failed, and the old one keeps serving. Returns
// true when it wrote the service.
bool ServicesLoop::revertIfFailed(const Service& svc, const std::string& cur,
                                  const std::string& serving, const PodCounts& cc) {
  Deployment dep = ctx_.cache.deployments()[cur];
  if (failed(dep)) return false;
  const std::chrono::milliseconds deadline = svc.spec.strategy.deadline > 0
                                                 ? std::chrono::seconds(svc.spec.strategy.deadline)
                                                 : ctx_.options.rolloutDeadline;
  std::string why;
  if (cc.restarts >= kCrashLoopRestarts) {
    why = "crash-looping (" + cc.restarted + ")";
  } else if (auto created = parseRfc3339(dep.meta.created)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*created + deadline -
                                                                            ctx_.clock.now());
    if (left > std::chrono::milliseconds(0)) {
      deadlines_[svc.meta.selflink] = ctx_.clock.steadyNow() + left;
      return false;
    }
    why = "not ready within " + std::to_string(deadline.count() / 1000) + " s";
    if (!cc.error.empty()) {
      why += " (" + cc.error + ")";
    } else if (!cc.unscheduled.empty()) {
      why += " (" + cc.unscheduled + ")";
    }
  } else {
    return false;
  }
  const Deployment& old = ctx_.cache.deployments()[serving];
  const bool revertible = !(old.spec.template_ == svc.spec.template_);
  dep.status.state = State::kError;
  dep.status.message =
      std::string(kFailed) + why +
      (revertible ? "; reverted to " + old.meta.name
                  : "; a changed secret or config its env takes caused it, so there is no spec "
                    "to revert to; deployment " +
                        old.meta.name + " keeps serving");
  dep.meta.updated = ctx_.now();
  putDeployment(dep);
  spdlog::warn("controller: service '{}': deployment '{}' {}", svc.meta.selflink, dep.meta.name,
               dep.status.message);
  if (!revertible) return false;
  Service next = svc;
  next.spec.template_ = old.spec.template_;
  next.meta.updated = ctx_.now();
  ctx_.batch.putObject(*keys::objectKey(keys::Collection::kService, svc.meta.selflink), next);
  ctx_.cache.services()[svc.meta.selflink] = std::move(next);
  return true;
}

// When the current deployment is one a failed rollout was reverted to: what
// the (last) failed deployment says, for the service's status; else "".
std::string ServicesLoop::revertedFrom(const std::string& curName,
                                       const std::vector<std::string>& deps) {
  const std::string suffix = "; reverted to " + curName;
  const Deployment* last = nullptr;
  for (const auto& d : deps) {
    auto it = ctx_.cache.deployments().find(d);
    if (it == ctx_.cache.deployments().end()) continue;
    const std::string& m = it->second.status.message;
    if (!m.starts_with(kFailed) || !m.ends_with(suffix)) continue;
    if (!last || it->second.meta.updated > last->meta.updated) last = &it->second;
  }
  return last ? "deployment " + last->meta.name + " " + last->status.message : "";
}

Loop::SteadyTime ServicesLoop::nextTick() const {
  SteadyTime next = SteadyTime::max();
  for (const auto& [sl, at] : deadlines_) next = std::min(next, at);
  return next;
}

// A rollout's deadline has come: its service is looked at again.
void ServicesLoop::tick(SteadyTime now) {
  for (auto it = deadlines_.begin(); it != deadlines_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    ctx_.queue.enqueue('s', it->first);
    it = deadlines_.erase(it);
  }
}

// The new deployment's pods do not all fit beside the serving old ones: the
// old deployment gives way, as many pods as wait for a node, but never more
// than leaves replicas - maxUnavailable ready pods of the two. Those of its
// pods that are not ready serve nothing and go first. The freed room places
// new pods (the pods loop retries them); once they are ready the next batch
// goes, until the new deployment is ready and the old one retired. Not while
// the new one fails: then the old one keeps what it has. Returns the phase
// for the service's status ("" when there is room).
std::string ServicesLoop::makeRoom(const Service& svc, const std::string& cur,
                                   const std::string& serving) {
  const PodCounts nc = pods_.count(cur), oc = pods_.count(serving);
  if (nc.errored > 0 || failed(ctx_.cache.deployments()[cur])) return "";
  if (!rolling(svc) && nc.unplaced == 0) return "";
  const int want = svc.spec.replicas;
  const int floor = std::max(0, want - maxUnavailable(svc));
  const int spare = std::max(0, nc.ready + oc.ready - floor) + (oc.total - oc.ready);
  const int give =
      rolling(svc) ? std::min(spare, oc.total) : std::min({nc.unplaced, spare, oc.total});
  Deployment old = ctx_.cache.deployments()[serving];
  if (give > 0) {
    old.spec.replicas = oc.total - give;
    old.meta.updated = ctx_.now();
    putDeployment(old);
    pods_.scale(old);
    spdlog::info(
        "controller: service '{}': for deployment '{}', '{}' gives way: {} old pod{} go ({} "
        "left)",
        svc.meta.selflink, detail::selflinkName(cur), old.meta.name, give, give == 1 ? "" : "s",
        old.spec.replicas);
  }
  return "rolling out deployment " + detail::selflinkName(cur) +
         (rolling(svc) ? " over " + old.meta.name
                       : " in batches (no room beside " + old.meta.name + ")") +
         ": " + std::to_string(nc.ready) + " of " + std::to_string(want) + " new pods ready, " +
         std::to_string(oc.total - give) + " old pods serving, at least " + std::to_string(floor) +
         " ready throughout";
}

// Status of a deployment from its pods; written when it changed.
void ServicesLoop::updateDeploymentStatus(const std::string& depSl, const PodCounts& c) {
  auto it = ctx_.cache.deployments().find(depSl);
  if (it == ctx_.cache.deployments().end()) return;
  Deployment d = it->second;
  const int want = d.spec.replicas;
  types::DeploymentStatus s;
  s.replicas = {c.total, c.provision, c.ready, c.errored};
  if (c.ready >= want) {  // more while a drain moves pods: the replacements start
    s.state = State::kReady;
  } else if (c.errored > 0) {
    s.state = State::kError;
    s.message = c.error;
  } else {
    s.state = State::kProvision;
    s.message = c.unscheduled;
  }
  if (s == d.status) return;
  d.status = s;
  d.meta.updated = ctx_.now();
  putDeployment(d);
}

void ServicesLoop::updateStatus(const Service& svc, types::ServiceStatus st) {
  if (st == svc.status) return;
  Service next = svc;
  next.status = std::move(st);
  const std::string& sl = svc.meta.selflink;
  ctx_.batch.putObject(*keys::objectKey(keys::Collection::kService, sl), next);
  ctx_.cache.services()[sl] = std::move(next);
}

void ServicesLoop::reconcile(const std::string& sl) {
  auto svcIt = ctx_.cache.services().find(sl);
  if (svcIt == ctx_.cache.services().end() || terminating(svcIt->second.status.state) ||
      !ctx_.cache.namespaces().count(detail::selflinkPrefix(sl, 1))) {
    teardown(sl);
    return;
  }
  const Service svc = svcIt->second;
  const std::vector<std::string> deps = deploymentsOf(sl);
  const std::string cur = currentDeployment(sl, svc, deploymentHash(svc), deps);
  Deployment target = ctx_.cache.deployments()[cur];
  target.spec.replicas = podTarget(svc, cur, deps);
  std::string unscheduled = pods_.scale(target);
  PodCounts cc = pods_.count(cur);
  if (!failed(ctx_.cache.deployments()[cur])) updateDeploymentStatus(cur, cc);
  const bool ready = ctx_.cache.deployments()[cur].status.state == State::kReady;
  const std::string serving = retireOld(sl, cur, ready, deps);
  if (serving.empty() || ready) deadlines_.erase(sl);
  if (!serving.empty() && !ready && revertIfFailed(svc, cur, serving, cc)) {
    reconcile(sl);  // the reverted spec: its deployment is current again (once: it serves)
    return;
  }
  const std::string phase = serving.empty() ? "" : makeRoom(svc, cur, serving);
  if (!phase.empty()) {
    // The old pods that went left room (the cache has them gone already):
    // the new deployment takes it now rather than on a later pass.
    target.spec.replicas = podTarget(svc, cur, deps);
    unscheduled = pods_.scale(target);
  }

  // Blue/green: the old pods serve until the new ones are all ready; in
  // batches (no room), the ready pods of both do.
  std::vector<std::string> upstreams{cur};
  if (!ready && !serving.empty())
    upstreams = phase.empty() ? std::vector{serving} : std::vector{serving, cur};
  std::string epMessage = endpoints_.reconcile(svc, upstreams);

  types::ServiceStatus st;
  const std::string curName = detail::selflinkName(cur);
  if (ready) {
    st.state = State::kReady;
    st.message = revertedFrom(curName, deps);
  } else if (cc.errored > 0) {
    st.state = State::kError;
    st.message =
        "deployment " + curName + " failed: " + cc.error +
        (serving.empty() ? "" : "; deployment " + detail::selflinkName(serving) + " keeps serving");
  } else {
    st.state = State::kProvision;
    st.message = !phase.empty()        ? phase
                 : unscheduled.empty() ? ""
                                       : "deployment " + curName + ": " + unscheduled;
  }
  if (!epMessage.empty()) st.message += (st.message.empty() ? "" : "; ") + epMessage;
  if (auto ep = ctx_.cache.endpoints().find(sl); ep != ctx_.cache.endpoints().end())
    st.ip = ep->second.spec.ip;  // shown with the service (the endpoint has no route of its own)
  updateStatus(svc, std::move(st));
}

}  // namespace lb::controller::loops
