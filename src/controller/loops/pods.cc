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
  if (c.usable >= 0) return;
  // Its pods are lost: their services reschedule them.
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

std::string PodsLoop::scale(const types::Deployment& dep) {
  const std::string depSl = dep.meta.selflink;
  auto& pods = ctx_.cache.pods();
  std::vector<Pod*> live;
  std::vector<std::string> lost;
  forPrefix(pods, depSl + ":", [&](const std::string& sl, Pod& p) {
    if (!p.status.node.empty() && !ctx_.cache.nodeUsable(p.status.node)) {
      lost.push_back(sl);
    } else {
      live.push_back(&p);
    }
  });
  for (const auto& sl : lost) {
    spdlog::info("controller: pod '{}' lost with node '{}'; replacing it", sl,
                 pods[sl].status.node);
    remove(sl);
  }
  const int want = std::max(dep.spec.replicas, 0);
  scaleDown(live, want);
  const auto req = podRequest(dep.spec.template_, ctx_.options.requestDefaults);
  std::string reason;
  auto place = [&] {
    return reason.empty() ? ctx_.cache.scheduler().place(depSl, dep.spec.selector, req)
                          : Scheduler::Placement{"", reason};
  };
  // Pods still waiting for a node: retry them first.
  std::vector<std::string> waiting;
  for (Pod* p : live) {
    if (p->status.node.empty()) waiting.push_back(p->meta.selflink);
  }
  for (const auto& sl : waiting) {
    Pod p = pods[sl];
    auto placed = place();
    if (!placed.node.empty()) {
      p.status.node = placed.node;
      p.status.message.clear();
      p.status.state = State::kProvision;
    } else {
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
      reason = placed.reason;
      p.status.message = reason;
    } else {
      p.status.node = placed.node;
    }
    put(std::move(p));
  }
  return reason;
}

}  // namespace lb::controller::loops
