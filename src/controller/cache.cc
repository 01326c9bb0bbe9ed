#include "controller/cache.h"

#include <type_traits>

#include "lastbackend/common/logging.h"

namespace lb::controller {

using detail::Kind;

namespace {

// /manifest/node/<node>/pod/...
bool isPodManifest(const detail::KeyInfo& ki) {
  return ki.id.compare(15 + ki.node.size(), 5, "/pod/") == 0;
}

}  // namespace

Cache::Cache(const Options& options, Ipam emptyIpam)
    : opt_(options), emptyIpam_(emptyIpam), ipam_{std::move(emptyIpam)} {}

void Cache::subscribe(Kind kind, CacheListener* listener) {
  listeners_[static_cast<int>(kind)].push_back(listener);
}

void Cache::notify(const Change& change) {
  for (CacheListener* l : listeners_[static_cast<int>(change.kind)]) l->onChange(change);
}

void Cache::notify(Kind kind, std::string_view id, bool existed, bool present) {
  Change c;
  c.kind = kind;
  c.id = id;
  c.existed = existed;
  c.present = present;
  notify(c);
}

void Cache::clear() {
  revs_.clear();
  services_.clear();
  deployments_.clear();
  pods_.clear();
  endpoints_.clear();
  secrets_.clear();
  configs_.clear();
  volumes_.clear();
  routes_.clear();
  namespaces_.clear();
  nodeInfo_.clear();
  nodeStatus_.clear();
  manifests_.clear();
  clusterManifests_.clear();
  routeManifests_.clear();
  subnets_.clear();
  subnetManifests_.clear();
  subnetsByNode_.clear();
  podsByNode_.clear();
  nsNodes_.clear();
  unscheduled_.clear();
  sched_ = Scheduler();
  ipam_ = {emptyIpam_};
}

void Cache::applyRemote(const std::string& key, const std::string& value, int64_t rev, bool deleted,
                        bool force) {
  auto ki = detail::classify(key);
  if (ki.kind == Kind::kOther) return;
  auto known = revs_.find(key);
  if (!force && known != revs_.end() && known->second.rev >= rev) return;
  revs_[key] = {rev, deleted};
  std::optional<std::string> v;
  if (!deleted) v = value;
  apply(ki, key, v);
}

std::optional<int64_t> Cache::revOf(const std::string& key) const {
  auto it = revs_.find(key);
  if (it == revs_.end() || it->second.deleted) return std::nullopt;
  return it->second.rev;
}

void Cache::pruneTombstones(int64_t watchRev) {
  for (auto it = revs_.begin(); it != revs_.end();) {
    if (it->second.deleted && it->second.rev <= watchRev) {
      it = revs_.erase(it);
    } else {
      ++it;
    }
  }
}

template <class T>
std::optional<T> Cache::decode(const std::string& key, const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  T obj;
  Status s = types::fromJson(*value, &obj);
  if (!s.isOk()) {
    spdlog::warn("controller: '{}' does not decode ({}); treated as absent", key, s.toString());
    return std::nullopt;
  }
  return obj;
}

void Cache::apply(const detail::KeyInfo& ki, const std::string& key,
                  const std::optional<std::string>& value) {
  switch (ki.kind) {
    case Kind::kService:
      return setService(ki.id, decode<types::Service>(key, value));
    case Kind::kDeployment:
      return setDeployment(ki.id, decode<types::Deployment>(key, value));
    case Kind::kPod:
      return setPod(ki.id, decode<types::Pod>(key, value));
    case Kind::kEndpoint:
      return setEndpoint(ki.id, decode<types::Endpoint>(key, value));
    case Kind::kSecret:
      return setNamespaced(secrets_, ki.kind, ki.id, decode<types::Secret>(key, value));
    case Kind::kConfig:
      return setNamespaced(configs_, ki.kind, ki.id, decode<types::Config>(key, value));
    case Kind::kVolume:
      return setNamespaced(volumes_, ki.kind, ki.id, decode<types::Volume>(key, value));
    case Kind::kRoute:
      return setRoute(ki.id, decode<types::Route>(key, value));
    case Kind::kNamespace:
      return setNamespaced(namespaces_, ki.kind, ki.id, decode<types::Namespace>(key, value));
    case Kind::kNodeInfo:
      return setNodeInfo(ki.id, decode<types::Node>(key, value));
    case Kind::kNodeStatus: {
      auto n = decode<types::Node>(key, value);
      return setNodeStatus(ki.id, n ? std::optional<types::NodeStatus>(n->status) : std::nullopt);
    }
    case Kind::kNodeManifest:
    case Kind::kClusterManifest:
    case Kind::kSubnetManifest:
    case Kind::kRouteManifest:
      return setManifest(ki, key, value);
    case Kind::kSubnet:
      return setSubnet(ki.id, decode<types::Subnet>(key, value));
    case Kind::kIpam:
      return setIpam(key, value);
    case Kind::kOther:
      return;
  }
}

template <class T>
void Cache::setNamespaced(std::map<std::string, T>& map, Kind kind, const std::string& sl,
                          std::optional<T> v) {
  auto it = map.find(sl);
  const bool existed = it != map.end();
  if (v && existed) {
    it->second = std::move(*v);
  } else if (v) {
    map.emplace(sl, std::move(*v));
  } else if (existed) {
    map.erase(it);
  }
  notify(kind, sl, existed, v.has_value());
}

void Cache::setManifest(const detail::KeyInfo& ki, const std::string& key,
                        const std::optional<std::string>& value) {
  const bool node = ki.kind == Kind::kNodeManifest;
  auto& map = node                               ? manifests_
              : ki.kind == Kind::kSubnetManifest ? subnetManifests_
              : ki.kind == Kind::kRouteManifest  ? routeManifests_
                                                 : clusterManifests_;
  const std::string& id = node ? key : ki.id;
  const bool existed = map.count(id) > 0;
  if (value) {
    map[id] = node && isPodManifest(ki) ? std::string() : *value;
  } else {
    map.erase(id);
  }
  Change c;
  c.kind = ki.kind;
  c.id = id;
  c.node = ki.node;
  c.existed = existed;
  c.present = value.has_value();
  notify(c);
}

void Cache::setIpam(const std::string& key, const std::optional<std::string>& value) {
  if (value) {
    Status s = ipam_.ipam.loadJson(*value);
    if (!s.isOk()) spdlog::warn("controller: /system/ipam: {}", s.message());
    // The next IPAM write is a compare-and-swap on the loaded revision;
    // without it a restarted controller would try to create the key.
    ipam_.rev = revs_[key].rev;
  } else {
    ipam_.ipam = emptyIpam_;
    ipam_.rev = 0;
  }
  notify(Kind::kIpam, key, true, value.has_value());
}

void Cache::setService(const std::string& sl, std::optional<types::Service> v) {
  setNamespaced(services_, Kind::kService, sl, std::move(v));
}

void Cache::setDeployment(const std::string& sl, std::optional<types::Deployment> v) {
  setNamespaced(deployments_, Kind::kDeployment, sl, std::move(v));
}

void Cache::setEndpoint(const std::string& sl, std::optional<types::Endpoint> v) {
  setNamespaced(endpoints_, Kind::kEndpoint, sl, std::move(v));
}

void Cache::setRoute(const std::string& sl, std::optional<types::Route> v) {
  setNamespaced(routes_, Kind::kRoute, sl, std::move(v));
}

void Cache::setSubnet(const std::string& cidr, std::optional<types::Subnet> v) {
  auto it = subnets_.find(cidr);
  const bool existed = it != subnets_.end();
  std::string oldNode;
  if (existed) {
    oldNode = it->second.spec.node;
    auto held = subnetsByNode_.find(oldNode);
    if (held != subnetsByNode_.end()) {
      held->second.erase(cidr);
      if (held->second.empty()) subnetsByNode_.erase(held);
    }
  }
  const std::string* newNode = nullptr;
  if (v) {
    auto& slot = existed ? it->second : subnets_[cidr];
    slot = std::move(*v);
    subnetsByNode_[slot.spec.node].insert(cidr);
    newNode = &slot.spec.node;
  } else if (existed) {
    subnets_.erase(it);
  }
  Change c;
  c.kind = Kind::kSubnet;
  c.id = cidr;
  c.node = oldNode;
  if (newNode) c.newNode = *newNode;
  c.existed = existed;
  c.present = newNode != nullptr;
  notify(c);
}

void Cache::podIndex(const types::Pod& p, int sign) {
  const std::string& sl = p.meta.selflink;
  const std::string& node = p.status.node;
  if (node.empty()) {
    if (sign > 0) {
      unscheduled_.insert(sl);
    } else {
      unscheduled_.erase(sl);
    }
    return;
  }
  std::string dep = detail::selflinkPrefix(sl, 3);
  auto req = podRequest(p.spec.template_, opt_.requestDefaults);
  const std::string& ns = p.meta.namespace_;
  types::NamespaceAmounts& placed = nsPlaced_[ns];
  placed.ram += sign * req.ram;
  placed.cpu += sign * req.cpu;
  placed.pods += sign;
  if (sign > 0) {
    podsByNode_[node].insert(sl);
    nsNodes_[ns][node]++;
    sched_.addPod(node, dep, req);
    return;
  }
  if (placed.pods <= 0) nsPlaced_.erase(ns);
  auto it = podsByNode_.find(node);
  if (it != podsByNode_.end()) {
    it->second.erase(sl);
    if (it->second.empty()) podsByNode_.erase(it);
  }
  auto n = nsNodes_.find(ns);
  if (n != nsNodes_.end()) {
    if (--n->second[node] <= 0) n->second.erase(node);
    if (n->second.empty()) nsNodes_.erase(n);
  }
  sched_.removePod(node, dep, req);
}

void Cache::setPod(const std::string& sl, std::optional<types::Pod> v) {
  auto it = pods_.find(sl);
  const bool existed = it != pods_.end();
  std::string oldNode;
  const std::string* newNode = nullptr;
  if (existed) {
    oldNode = it->second.status.node;
    podIndex(it->second, -1);
  }
  if (v) {
    v->meta.selflink = sl;  // the key is authoritative
    auto& slot = existed ? it->second : pods_[sl];
    slot = std::move(*v);
    podIndex(slot, +1);
    newNode = &slot.status.node;
  } else if (existed) {
    pods_.erase(it);
  }
  Change c;
  c.kind = Kind::kPod;
  c.id = sl;
  c.node = oldNode;
  if (newNode) c.newNode = *newNode;
  c.existed = existed;
  c.present = newNode != nullptr;
  notify(c);
}

void Cache::setNodeInfo(const std::string& name, std::optional<types::Node> v) {
  if (v) {
    nodeInfo_[name] = std::move(*v);
  } else {
    nodeInfo_.erase(name);
  }
  nodeChanged(Kind::kNodeInfo, name);
}

void Cache::setNodeStatus(const std::string& name, std::optional<types::NodeStatus> v) {
  if (v) {
    // A heartbeat alone (every report of every node) changes neither the
    // node's manifests nor the scheduler: keep it for the health check only.
    auto old = nodeStatus_.find(name);
    if (old != nodeStatus_.end()) {
      types::NodeStatus same = *v;
      same.heartbeat = old->second.heartbeat;
      if (same == old->second) {
        old->second.heartbeat = std::move(v->heartbeat);
        return;
      }
    }
    nodeStatus_[name] = std::move(*v);
  } else {
    nodeStatus_.erase(name);
  }
  nodeChanged(Kind::kNodeStatus, name);
}

bool Cache::nodeUsable(const std::string& name) const {
  auto info = nodeInfo_.find(name);
  auto status = nodeStatus_.find(name);
  return info != nodeInfo_.end() && status != nodeStatus_.end() && status->second.online;
}

std::string Cache::overQuota(const std::string& ns, ResourceRequest req) const {
  auto n = namespaces_.find(ns);
  if (n == namespaces_.end()) return "";
  types::NamespaceAmounts limits = n->second.spec.resources.limits;
  limits.services = 0;  // the api's to enforce: a service is not a pod
  types::NamespaceAmounts use;
  if (auto p = nsPlaced_.find(ns); p != nsPlaced_.end()) use = p->second;
  use.ram += req.ram;
  use.cpu += req.cpu;
  use.pods++;
  auto excess = types::overQuota(limits, use);
  if (excess.field.empty()) return "";
  return "namespace '" + ns + "' quota: spec.resources.limits." + excess.field + " " +
         excess.message + " by its placed pods and this one";
}

bool Cache::nodeDraining(const std::string& name) const {
  auto info = nodeInfo_.find(name);
  return info != nodeInfo_.end() && !info->second.spec.drain.state.empty();
}

void Cache::nodeChanged(Kind kind, const std::string& name) {
  auto info = nodeInfo_.find(name);
  const bool usable = nodeUsable(name);
  if (info == nodeInfo_.end()) {
    sched_.removeNode(name);
  } else {
    types::Labels labels = info->second.info.labels;
    for (const auto& [k, v] : info->second.meta.labels) labels[k] = v;
    NodeCapacity cap;
    auto status = nodeStatus_.find(name);
    if (status != nodeStatus_.end()) {
      cap = {status->second.capacity.cpu, status->second.capacity.ram,
             status->second.capacity.pods};
    }
    // A node the pod range has no subnet for is not ready for pods.
    const auto& spec = info->second.spec;
    sched_.upsertNode(name, labels, cap,
                      usable && !spec.unschedulable && spec.network.message.empty());
  }
  Change c;
  c.kind = kind;
  c.id = name;
  c.present = kind == Kind::kNodeInfo ? info != nodeInfo_.end() : nodeStatus_.count(name) > 0;
  const bool was = usableNodes_.count(name) > 0;
  if (usable && !was) {
    usableNodes_.insert(name);
    c.usable = 1;
  } else if (!usable && was) {
    usableNodes_.erase(name);
    c.usable = -1;
  }
  notify(c);
}

}  // namespace lb::controller
