#include "controller/loops/nodes.h"

#include <set>

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;
using types::Pod;

namespace {

struct Refs {
  std::set<std::string> secrets, configs, volumes;  // names in the pod's namespace
};

void collectRefs(const types::PodTemplate& t, Refs* refs) {
  for (const auto& c : t.containers) {
    if (!c.image.secret.empty()) refs->secrets.insert(c.image.secret);
    for (const auto& e : c.env) {
      if (e.secret) refs->secrets.insert(e.secret->name);
      if (e.config) refs->configs.insert(e.config->name);
    }
  }
  for (const auto& v : t.volumes) {
    if (v.secret) refs->secrets.insert(v.secret->name);
    if (v.config) refs->configs.insert(v.config->name);
    if (v.volume) refs->volumes.insert(v.volume->name);
  }
}

// Adds the manifest of each object of `map` named in `names` (in `ns`).
template <class T>
void addRefs(std::map<std::string, std::optional<std::string>>& want, const std::string& node,
             keys::ManifestKind kind, const std::map<std::string, T>& map, const std::string& ns,
             const std::set<std::string>& names) {
  for (const auto& n : names) {
    auto it = map.find(ns + ":" + n);
    if (it != map.end())
      want[*keys::nodeManifestKey(node, kind, it->first)] = encodeObject(it->second);
  }
}

}  // namespace

std::vector<Kind> NodesLoop::kinds() const {
  std::vector<Kind> k = {Kind::kPod,    Kind::kNodeInfo, Kind::kNodeStatus, Kind::kNodeManifest,
                         Kind::kSecret, Kind::kConfig,   Kind::kVolume};
  if (ctx_.options.nodeEndpointManifests) k.push_back(Kind::kEndpoint);
  return k;
}

void NodesLoop::enqueueNodesOf(std::string_view ns) {
  auto it = ctx_.cache.nsNodes().find(std::string(ns));
  if (it == ctx_.cache.nsNodes().end()) return;
  for (const auto& [node, n] : it->second) ctx_.queue.enqueue('n', node);
}

void NodesLoop::onChange(const Change& c) {
  switch (c.kind) {
    case Kind::kPod:
      if (c.node != c.newNode || !c.present || !c.existed) {
        if (!c.node.empty()) ctx_.queue.enqueue('n', c.node);
        if (!c.newNode.empty()) ctx_.queue.enqueue('n', c.newNode);
      }
      return;
    case Kind::kNodeInfo:
    case Kind::kNodeStatus:
      ctx_.queue.enqueue('n', c.id);
      return;
    case Kind::kNodeManifest:
      ctx_.queue.enqueue('n', c.node);
      return;
    default:  // secrets, configs, volumes, endpoints: the nodes running their namespace
      enqueueNodesOf(detail::selflinkPrefix(c.id, 1));
      return;
  }
}

void NodesLoop::resync() {
  for (const auto& [name, n] : ctx_.cache.nodeInfo()) ctx_.queue.enqueue('n', name);
  for (const auto& [name, s] : ctx_.cache.nodeStatus()) ctx_.queue.enqueue('n', name);
  std::string last;
  for (const auto& [key, v] : ctx_.cache.manifests()) {
    auto ki = detail::classify(key);
    if (ki.node != last) ctx_.queue.enqueue('n', ki.node);
    last = std::move(ki.node);
  }
}

bool NodesLoop::heartbeatStale(const types::NodeStatus& s) const {
  auto hb = parseRfc3339(s.heartbeat);
  if (!hb) return true;
  return ctx_.clock.now() - *hb > ctx_.options.nodeOfflineTimeout;
}

Loop::SteadyTime NodesLoop::nextTick() const { return lastHealth_ + ctx_.options.healthInterval; }

void NodesLoop::tick(SteadyTime now) {
  if (now - lastHealth_ < ctx_.options.healthInterval) return;
  lastHealth_ = now;
  for (const auto& [name, s] : ctx_.cache.nodeStatus()) {
    if (s.online && heartbeatStale(s)) ctx_.queue.enqueue('n', name);
  }
}

void NodesLoop::markOfflineIfStale(const std::string& name) {
  auto status = ctx_.cache.nodeStatus().find(name);
  if (status == ctx_.cache.nodeStatus().end() || !status->second.online ||
      !heartbeatStale(status->second))
    return;
  types::Node n;
  n.meta.name = name;
  n.status = status->second;
  n.status.online = false;
  spdlog::warn("controller: node '{}' missed its heartbeat (last {}); marking it offline", name,
               n.status.heartbeat.empty() ? "never" : n.status.heartbeat);
  ctx_.batch.putObject(*keys::nodeKey(name, keys::Part::kStatus), n);
  ctx_.cache.setNodeStatus(name, n.status);
}

NodesLoop::Manifests NodesLoop::wanted(const std::string& name) {
  Manifests want;
  if (!ctx_.cache.nodeUsable(name)) return want;
  Cache& cache = ctx_.cache;
  std::map<std::string, Refs> refs;  // namespace -> referenced objects
  auto pods = cache.podsByNode().find(name);
  if (pods != cache.podsByNode().end()) {
    for (const auto& sl : pods->second) {
      const Pod& p = cache.pods()[sl];
      want[*keys::nodeManifestKey(name, keys::ManifestKind::kPod, sl)] = std::nullopt;
      collectRefs(p.spec.template_, &refs[p.meta.namespace_]);
    }
  }
  for (const auto& [ns, r] : refs) {
    addRefs(want, name, keys::ManifestKind::kSecret, cache.secrets(), ns, r.secrets);
    addRefs(want, name, keys::ManifestKind::kConfig, cache.configs(), ns, r.configs);
    addRefs(want, name, keys::ManifestKind::kVolume, cache.volumes(), ns, r.volumes);
    if (ctx_.options.nodeEndpointManifests) {
      forPrefix(cache.endpoints(), ns + ":", [&](const std::string& sl, types::Endpoint& e) {
        want[*keys::nodeManifestKey(name, keys::ManifestKind::kEndpoint, sl)] = encodeObject(e);
      });
    }
  }
  return want;
}

// A pod's manifest: the pod as scheduled (no status beyond its node).
std::string NodesLoop::podManifest(const std::string& name, const std::string& sl) {
  auto cached = ctx_.batch.podJson().find(sl);
  if (cached != ctx_.batch.podJson().end()) return cached->second;
  Pod p = ctx_.cache.pods()[sl];
  p.status = {};
  p.status.node = name;
  p.status.state = types::State::kProvision;
  return ctx_.podJson.encode(p);
}

void NodesLoop::write(const std::string& name, Manifests want) {
  auto& manifests = ctx_.cache.manifests();
  const std::string prefix = *keys::nodeManifestsPrefix(name);
  std::vector<std::string> stale;
  forPrefix(manifests, prefix, [&](const std::string& key, std::string&) {
    if (!want.count(key)) stale.push_back(key);
  });
  for (const auto& key : stale) {
    ctx_.batch.remove(key, false);
    manifests.erase(key);
  }
  for (auto& [key, value] : want) {
    auto have = manifests.find(key);
    const bool pod = !value;
    if (pod) {
      if (have != manifests.end()) continue;                     // pod specs never change
      value = podManifest(name, key.substr(prefix.size() + 4));  // after "pod/"
    } else if (have != manifests.end() && have->second == *value) {
      continue;
    }
    manifests[key] = pod ? std::string() : *value;
    ctx_.batch.put(key, std::move(*value));
  }
}

// A draining node's spec.drain: how many pods are still on it, "drained"
// once none is (in its info key, as the pod subnet).
void NodesLoop::reportDrain(const std::string& name) {
  auto info = ctx_.cache.nodeInfo().find(name);
  if (info == ctx_.cache.nodeInfo().end() || info->second.spec.drain.state.empty()) return;
  auto pods = ctx_.cache.podsByNode().find(name);
  types::NodeDrain want;
  want.pods = pods == ctx_.cache.podsByNode().end() ? 0 : static_cast<int>(pods->second.size());
  want.state = want.pods > 0 ? "draining" : "drained";
  if (info->second.spec.drain == want) return;
  if (want.pods == 0) spdlog::info("controller: node '{}' is drained", name);
  types::Node next = info->second;
  next.spec.drain = want;
  next.meta.updated = ctx_.now();
  ctx_.batch.putObject(*keys::nodeKey(name, keys::Part::kInfo), next);
  ctx_.cache.setNodeInfo(name, std::move(next));
}

void NodesLoop::reconcile(const std::string& name) {
  markOfflineIfStale(name);
  write(name, wanted(name));
  reportDrain(name);
}

}  // namespace lb::controller::loops
