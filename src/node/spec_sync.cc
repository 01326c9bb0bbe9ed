// Spec sync: registers the node, then follows its spec by long-poll and
// makes it (with the local pods) the desired state: a worker per new pod,
// retirement for pods gone, and a wake-up for the rest (secrets and configs
// may have changed).

#include "lastbackend/common/logging.h"
#include "node/agent_impl.h"
#include "node/pod_worker.h"

namespace lb::node {

void Agent::Impl::apply(bool prune) {
  auto next = std::make_shared<RefsSnapshot>();
  next->secrets = remote.secrets;
  next->configs = remote.configs;
  for (const auto& [k, v] : local.secrets) next->secrets[k] = v;
  for (const auto& [k, v] : local.configs) next->configs[k] = v;
  refs = next;
  // The network first: a pod gone leaves its service's rules (the
  // controller dropped it from the endpoint) while its worker tears down.
  if (net && remoteKnown) netGen = net->want(remote.subnets, remote.endpoints);
  std::map<std::string, std::pair<const types::Pod*, bool>> desired;
  for (const auto& [sl, p] : remote.pods) desired[sl] = {&p, false};
  for (const auto& [sl, p] : local.pods) desired[sl] = {&p, true};
  if (prune) {
    // Memories of pods in no spec any more (gone while the agent was down).
    memory.prune([&](const std::string& sl) { return desired.count(sl) || workers.count(sl); });
  }
  for (auto it = workers.begin(); it != workers.end();) {
    if (!desired.count(it->first)) {
      it->second->retire();
      retired.push_back(it->second);
      it = workers.erase(it);
    } else {
      it->second->wake();  // secrets/configs may have changed
      ++it;
    }
  }
  if (stopping) return;
  for (const auto& [sl, d] : desired) {
    if (workers.count(sl)) continue;
    types::Pod pod = *d.first;
    pod.meta.selflink = sl;
    auto w = std::make_shared<PodWorker>(*this, std::move(pod), d.second);
    workers[sl] = w;
    w->start();
  }
  dirty = true;
  cv.notify_all();
}

void Agent::Impl::specLoop() {
  while (!isStopping()) {
    types::Node n;
    n.meta.name = opt.node;
    n.meta.description = opt.description;
    n.info = opt.host.info;
    Status s = link->registerNode(n);
    if (s.isOk()) break;
    spdlog::warn("node '{}': {}; retrying", opt.node, s.toString());
    if (!sleepFor(opt.retry)) return;
  }
  spdlog::info("node '{}': registered", opt.node);
  reportOnce();
  refreshDns();  // the first pods already get the cluster's resolver
  int64_t revision = 0;
  while (!isStopping()) {
    auto m = link->fetchSpec(revision, opt.specWait);
    if (!m.isOk()) {
      if (isStopping()) return;  // e.g. the embedded api stopped first
      spdlog::warn("node '{}': {}; retrying", opt.node, m.status().toString());
      if (!sleepFor(opt.retry)) return;
      continue;
    }
    bool changed = m->revision != revision;
    if (changed || revision == 0) {
      std::lock_guard lock(mu);
      remote = std::move(*m);
      initialized = remoteKnown = true;
      apply();
      revision = remote.revision;
      spdlog::debug("node '{}': spec at revision {}", opt.node, revision);
      // GC lists every container: off this thread (the report thread), so
      // the next poll is not held up by it.
      gcWanted = true;
      cv.notify_all();
    } else if (!sleepFor(std::chrono::milliseconds(200))) {
      return;  // an api without long-poll answers at once: do not spin
    }
  }
}

}  // namespace lb::node
