#include "controller/loops/pods.h"

#include <algorithm>

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;
using types::Pod;
using types::State;

namespace {

// A freshly scheduled pod encodes exactly like its node manifest.
bool manifestForm(const Pod& p) {
  types::PodStatus s;
  s.node = p.status.node;
  s.state = State::kProvision;
  return !p.status.node.empty() && p.status == s;
}

}  // namespace

std::vector<Kind> PodsLoop::kinds() const {
  return {Kind::kPod, Kind::kNodeInfo, Kind::kNodeStatus};
}

void PodsLoop::onChange(const Change& c) {
  if (c.kind == Kind::kPod) {
    ctx_.queue.enqueue('s', detail::selflinkPrefix(c.id, 2));
    if (c.existed && !c.node.empty()) pendingRetry_ = true;  // capacity freed
    return;
  }
  if (c.usable > 0) pendingRetry_ = true;
  const bool draining = c.kind == Kind::kNodeInfo && ctx_.cache.nodeDraining(std::string(c.id));
  if (c.usable >= 0 && !draining) return;
  // Its pods are lost or leave: their services replace them.
  auto pods = ctx_.cache.podsByNode().find(std::string(c.id));
  if (pods == ctx_.cache.podsByNode().end()) return;
  for (const auto& sl : pods->second) ctx_.queue.enqueue('s', detail::selflinkPrefix(sl, 2));
}

constexpr auto kPendingRetry = std::chrono::milliseconds(500);

Loop::SteadyTime PodsLoop::nextTick() const {
  return pendingRetry_ ? lastRetry_ + kPendingRetry : SteadyTime::max();
}

void PodsLoop::tick(SteadyTime now) {
  if (!pendingRetry_ || now - lastRetry_ < kPendingRetry) return;
  pendingRetry_ = false;
  lastRetry_ = now;
  for (const auto& sl : ctx_.cache.unscheduled())
    ctx_.queue.enqueue('s', detail::selflinkPrefix(sl, 2));
}

void PodsLoop::resync() {
  // Pods whose service is gone (namespace removal, a crash mid-teardown):
  // their service key tears them down.
  std::string last;
  for (const auto& [sl, p] : ctx_.cache.pods()) {
    std::string parent = detail::selflinkPrefix(sl, 2);
    if (parent != last && !ctx_.cache.services().count(parent)) ctx_.queue.enqueue('s', parent);
    last = std::move(parent);
  }
}

PodCounts PodsLoop::count(const std::string& depSl) {
  PodCounts c;
  forPrefix(ctx_.cache.pods(), depSl + ":", [&](const std::string&, Pod& p) {
    c.total++;
    for (const auto& ct : p.status.containers) {
      if (ct.restarts <= c.restarts) continue;
      c.restarts = ct.restarts;
      c.restarted = "pod " + p.meta.name + ": container " + ct.name + " restarted " +
                    std::to_string(ct.restarts) + " times";
    }
    if (p.status.ready) {
      c.ready++;
    } else if (p.status.state == State::kError) {
      c.errored++;
      if (c.error.empty())
        c.error =
            "pod " + p.meta.name + ": " + (p.status.message.empty() ? "error" : p.status.message);
    } else {
      c.provision++;
      c.unplaced += p.status.node.empty() ? 1 : 0;
      if (p.status.node.empty() && c.unscheduled.empty() && !p.status.message.empty())
        c.unscheduled = "pod " + p.meta.name + " unschedulable: " + p.status.message;
    }
  });
  return c;
}

void PodsLoop::remove(const std::string& sl) {
  ctx_.batch.remove(*keys::objectKey(keys::Collection::kPod, sl), false);
}

size_t PodsLoop::removeAll(const std::string& prefix) {
  std::vector<std::string> pods;
  forPrefix(ctx_.cache.pods(), prefix, [&](const std::string& sl, Pod&) { pods.push_back(sl); });
  for (const auto& sl : pods) remove(sl);
  return pods.size();
}

void PodsLoop::put(Pod p) {
  const std::string sl = p.meta.selflink;
  std::string key = *keys::objectKey(keys::Collection::kPod, sl);
  std::string value = ctx_.podJson.encode(p);
  if (manifestForm(p)) {
    // Let the node key reuse the bytes instead of encoding the pod again.
    ctx_.batch.put(key, value);
    ctx_.batch.podJson()[sl] = std::move(value);
  } else {
    ctx_.batch.put(key, std::move(value));
  }
  ctx_.cache.setPod(sl, std::move(p));
}

// Scale-down order: unscheduled, then scheduled but not ready, then ready;
// within each, newest first (created), then name descending.
void PodsLoop::scaleDown(std::vector<Pod*>& live, int want) {
  if (static_cast<int>(live.size()) <= want) return;
  auto rank = [](const Pod* p) { return p->status.node.empty() ? 0 : !p->status.ready ? 1 : 2; };
  std::sort(live.begin(), live.end(), [&](const Pod* a, const Pod* b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a->meta.created != b->meta.created) return a->meta.created > b->meta.created;
    return a->meta.name > b->meta.name;
  });
  std::vector<std::string> victims;
  for (size_t i = 0; i < live.size() - want; ++i) victims.push_back(live[i]->meta.selflink);
  for (const auto& sl : victims) remove(sl);
  live.erase(live.begin(), live.begin() + (live.size() - want));
}

Pod PodsLoop::newPod(const types::Deployment& dep) {
  Pod p;
  p.meta = ctx_.childMeta(dep.meta);
  p.spec.template_ = dep.spec.template_;
  p.spec.selector = dep.spec.selector;
  p.status.state = State::kProvision;
  return p;
}

// Pods on a draining node leave new-before-old: each goes once the
// deployment has its replicas ready without it, when it serves nothing (not
// ready), or when its replacement finds no node (the drain does not wait for
// room that is not there; the replacement waits for it instead).
void PodsLoop::drain(std::vector<Pod*>& leaving, int ready, int want, int unplaced) {
  std::stable_sort(leaving.begin(), leaving.end(),
                   [](const Pod* a, const Pod* b) { return !a->status.ready && b->status.ready; });
  std::vector<std::string> go;
  for (const Pod* p : leaving) {
    if (p->status.ready) {
      if (ready <= want && unplaced == 0) continue;  // its replacement is not ready yet
      if (ready <= want) unplaced--;
      ready--;
    }
    spdlog::info("controller: pod '{}' leaves draining node '{}'", p->meta.selflink,
                 p->status.node);
    go.push_back(p->meta.selflink);
  }
  for (const auto& sl : go) remove(sl);
}

std::string PodsLoop::scale(const types::Deployment& dep) {
  const std::string depSl = dep.meta.selflink;
  auto& pods = ctx_.cache.pods();
  std::vector<Pod*> live, leaving;
  std::vector<std::string> lost;
  forPrefix(pods, depSl + ":", [&](const std::string& sl, Pod& p) {
    if (!p.status.node.empty() && !ctx_.cache.nodeUsable(p.status.node)) {
      lost.push_back(sl);
      return;
    }
    (!p.status.node.empty() && ctx_.cache.nodeDraining(p.status.node) ? leaving : live)
        .push_back(&p);
  });
  for (const auto& sl : lost) {
    spdlog::info("controller: pod '{}' lost with node '{}'; replacing it", sl,
                 pods[sl].status.node);
    remove(sl);
  }
  const int want = std::max(dep.spec.replicas, 0);
  scaleDown(live, want);
  int ready = 0;
  for (const auto* group : {&live, &leaving})
    for (const Pod* p : *group) ready += p->status.ready ? 1 : 0;
  const auto req = podRequest(dep.spec.template_, ctx_.options.requestDefaults);
  std::string reason;
  auto place = [&] {
    if (!reason.empty()) return Scheduler::Placement{"", reason};
    if (auto over = ctx_.cache.overQuota(dep.meta.namespace_, req); !over.empty())
      return Scheduler::Placement{"", over};
    return ctx_.cache.scheduler().place(depSl, dep.spec.selector, req);
  };
  // Pods still waiting for a node: retry them first.
  std::vector<std::string> waiting;
  for (Pod* p : live) {
    if (p->status.node.empty()) waiting.push_back(p->meta.selflink);
  }
  int unplaced = 0;
  for (const auto& sl : waiting) {
    Pod p = pods[sl];
    auto placed = place();
    if (!placed.node.empty()) {
      p.status.node = placed.node;
      p.status.message.clear();
      p.status.state = State::kProvision;
    } else {
      unplaced++;
      reason = placed.reason;
      if (p.status.message == reason) continue;
      p.status.message = reason;
    }
    p.meta.updated = ctx_.now();
    put(std::move(p));
  }
  const int missing = want - static_cast<int>(live.size());
  for (int i = 0; i < missing; ++i) {
    Pod p = newPod(dep);
    auto placed = place();
    if (placed.node.empty()) {
      unplaced++;
      reason = placed.reason;
      p.status.message = reason;
    } else {
      p.status.node = placed.node;
    }
    put(std::move(p));
  }
  if (!leaving.empty()) drain(leaving, ready, want, unplaced);
  return reason;
}

}  // namespace lb::controller::loops
