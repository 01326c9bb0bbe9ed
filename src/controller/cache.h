#pragma once

// Private to the controller: the in-memory copy of the store the loops
// reconcile against, with the indexes they need (pods by node, pods per
// namespace and node, unscheduled pods, the scheduler's view, IPAM, pod
// subnets by node). Every
// change, read from the store or staged by a loop, is announced to the
// loops that subscribed to its kind; they turn it into work keys.
//
// Loop thread only.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "controller/cache_keys.h"
#include "controller/controller.h"
#include "controller/ipam.h"
#include "controller/scheduler.h"
#include "lastbackend/types/codec.h"

namespace lb::controller {

// The revision a staged write holds until its batch commits.
inline constexpr int64_t kPendingRev = std::numeric_limits<int64_t>::max();

// One change of the cache. Views point into the cache or the caller; valid
// only during the notification.
struct Change {
  detail::Kind kind = detail::Kind::kOther;
  std::string_view id;       // selflink, node name, or (node manifests) the key
  std::string_view node;     // pods, subnets: the node before; node manifests: their node
  std::string_view newNode;  // pods, subnets: the node after
  bool existed = false;      // was cached before
  bool present = false;      // is cached now
  int usable = 0;            // nodes: +1 became usable, -1 stopped being usable
};

class CacheListener {
 public:
  virtual ~CacheListener() = default;
  // Called after the cache applied `change`; may enqueue work, must not
  // change the cache.
  virtual void onChange(const Change& change) = 0;
};

// The shared service-address allocator and its stored revision.
struct IpamState {
  Ipam ipam;
  int64_t rev = 0;     // compare-and-swap condition of the next write
  bool dirty = false;  // changed since the last commit
};

class Cache {
 public:
  Cache(const Options& options, Ipam emptyIpam);

  // `listener` hears every change of `kind`, in subscription order.
  void subscribe(detail::Kind kind, CacheListener* listener);

  // Forgets everything (a new leadership or a lost watch re-lists).
  void clear();

  // A change read from the store (listing, watch, refresh). Older than what
  // the cache knows (our own write echoed back) is skipped unless `force`.
  void applyRemote(const std::string& key, const std::string& value, int64_t rev, bool deleted,
                   bool force);
  // Sets (or with nullopt removes) the object at `key`.
  void apply(const detail::KeyInfo& ki, const std::string& key,
             const std::optional<std::string>& value);

  // Typed setters: keep the indexes in step and notify.
  void setService(const std::string& sl, std::optional<types::Service> v);
  void setDeployment(const std::string& sl, std::optional<types::Deployment> v);
  void setPod(const std::string& sl, std::optional<types::Pod> v);
  void setEndpoint(const std::string& sl, std::optional<types::Endpoint> v);
  void setRoute(const std::string& sl, std::optional<types::Route> v);
  void setNodeInfo(const std::string& name, std::optional<types::Node> v);
  void setNodeStatus(const std::string& name, std::optional<types::NodeStatus> v);
  void setSubnet(const std::string& cidr, std::optional<types::Subnet> v);

  // Revisions: the cached revision of a live key (kPendingRev when staged).
  std::optional<int64_t> revOf(const std::string& key) const;
  void setRev(const std::string& key, int64_t rev, bool deleted) { revs_[key] = {rev, deleted}; }
  // Drops deletion markers the watch has passed.
  void pruneTombstones(int64_t watchRev);

  bool nodeUsable(const std::string& name) const;
  // Being drained (`lb node drain`): its pods move elsewhere.
  bool nodeDraining(const std::string& name) const;

  std::map<std::string, types::Service>& services() { return services_; }
  std::map<std::string, types::Deployment>& deployments() { return deployments_; }
  std::map<std::string, types::Pod>& pods() { return pods_; }
  std::map<std::string, types::Endpoint>& endpoints() { return endpoints_; }
  std::map<std::string, types::Secret>& secrets() { return secrets_; }
  std::map<std::string, types::Config>& configs() { return configs_; }
  std::map<std::string, types::Volume>& volumes() { return volumes_; }
  std::map<std::string, types::Route>& routes() { return routes_; }
  std::map<std::string, types::Namespace>& namespaces() { return namespaces_; }
  std::map<std::string, types::Node>& nodeInfo() { return nodeInfo_; }
  std::map<std::string, types::NodeStatus>& nodeStatus() { return nodeStatus_; }
  // /manifest/node/... -> value (empty for pod manifests: a pod's spec never
  // changes, so only their presence is kept, not a second copy of every pod).
  std::map<std::string, std::string>& manifests() { return manifests_; }
  std::map<std::string, std::string>& clusterManifests() { return clusterManifests_; }
  // route selflink -> the stored bytes of its cluster route manifest.
  std::map<std::string, std::string>& routeManifests() { return routeManifests_; }
  // cidr -> subnet, and cidr -> the stored bytes of its cluster manifest.
  std::map<std::string, types::Subnet>& subnets() { return subnets_; }
  std::map<std::string, std::string>& subnetManifests() { return subnetManifests_; }
  // node -> the cidrs of the subnets it holds (one, unless something went wrong)
  const std::unordered_map<std::string, std::set<std::string>>& subnetsByNode() const {
    return subnetsByNode_;
  }
  const std::unordered_map<std::string, std::set<std::string>>& podsByNode() const {
    return podsByNode_;
  }
  // namespace -> node -> pods
  const std::unordered_map<std::string, std::map<std::string, int>>& nsNodes() const {
    return nsNodes_;
  }
  const std::set<std::string>& unscheduled() const { return unscheduled_; }
  // Why one more pod of namespace `ns` holding `req` would take it past its
  // quota (spec.resources.limits over the pods placed); "" when it fits.
  std::string overQuota(const std::string& ns, ResourceRequest req) const;
  Scheduler& scheduler() { return sched_; }
  IpamState& ipam() { return ipam_; }

 private:
  struct Rev {
    int64_t rev = 0;
    bool deleted = false;
  };

  template <class T>
  std::optional<T> decode(const std::string& key, const std::optional<std::string>& value);
  template <class T>
  void setNamespaced(std::map<std::string, T>& map, detail::Kind kind, const std::string& sl,
                     std::optional<T> v);
  void setManifest(const detail::KeyInfo& ki, const std::string& key,
                   const std::optional<std::string>& value);
  void setIpam(const std::string& key, const std::optional<std::string>& value);
  void podIndex(const types::Pod& p, int sign);
  void nodeChanged(detail::Kind kind, const std::string& name);
  void notify(const Change& change);
  void notify(detail::Kind kind, std::string_view id, bool existed, bool present);

  const Options& opt_;
  std::vector<CacheListener*> listeners_[static_cast<int>(detail::Kind::kOther) + 1];

  std::unordered_map<std::string, Rev> revs_;  // every cached key, and recent deletions
  std::map<std::string, types::Service> services_;
  std::map<std::string, types::Deployment> deployments_;
  std::map<std::string, types::Pod> pods_;
  std::map<std::string, types::Endpoint> endpoints_;
  std::map<std::string, types::Secret> secrets_;
  std::map<std::string, types::Config> configs_;
  std::map<std::string, types::Volume> volumes_;
  std::map<std::string, types::Route> routes_;
  std::map<std::string, types::Namespace> namespaces_;
  std::map<std::string, types::Node> nodeInfo_;
  std::map<std::string, types::NodeStatus> nodeStatus_;
  std::map<std::string, std::string> manifests_;
  std::map<std::string, std::string> clusterManifests_;  // selflink -> value
  std::map<std::string, std::string> routeManifests_;    // selflink -> value
  std::map<std::string, types::Subnet> subnets_;
  std::map<std::string, std::string> subnetManifests_;
  std::unordered_map<std::string, std::set<std::string>> subnetsByNode_;
  std::unordered_map<std::string, std::set<std::string>> podsByNode_;
  std::unordered_map<std::string, std::map<std::string, int>> nsNodes_;
  // namespace -> what its placed pods hold (ram, cpu, pods)
  std::unordered_map<std::string, types::NamespaceAmounts> nsPlaced_;
  std::set<std::string> unscheduled_;
  // Kept across re-lists: a node's usability changes are what matter.
  std::unordered_set<std::string> usableNodes_;
  Scheduler sched_;
  const Ipam emptyIpam_;
  IpamState ipam_;
};

// Iterates the entries of a selflink-keyed map whose key starts with `prefix`
// (the callback may erase the entry it is given).
template <class Map, class F>
void forPrefix(Map& map, const std::string& prefix, F f) {
  for (auto it = map.lower_bound(prefix);
       it != map.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    auto next = std::next(it);
    f(it->first, it->second);
    it = next;
  }
}

}  // namespace lb::controller
