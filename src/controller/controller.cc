// The controller's loop: one thread owns an in-memory cache of the store,
// fed by a watch of the whole tree (from the listing's revision, so nothing
// is missed), and a deduplicated work queue of object keys. Each work key
// is reconciled level-triggered against the cache; the writes of many keys
// are grouped into one store transaction (one revision, one fsync) and
// applied to the cache at once, so the next reconcile sees them before the
// watch echoes them back. A failed batch (a compare-and-swap lost to the api
// or a node, or a store error) re-reads every key it touched and re-queues
// its work keys, each to be committed alone next time.
//
// Work keys: "s/<ns:svc>" (service -> deployments -> pods, endpoint, IPAM),
// "n/<node>" (node health, per-node manifests), "r/<ns:route>" (route
// status), "g/ipam" (IPAM against endpoints). Writes are partitioned by work
// key (a pod is written only by its service's key, a manifest only by its
// node's key), so two keys of one batch never write the same object.

#include "controller/controller.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "controller/cache_keys.h"
#include "controller/election.h"
#include "controller/ipam.h"
#include "controller/pod_json.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"

namespace lb::controller {

namespace keys = storage::keys;
using detail::Kind;
using storage::Op;
using SteadyTime = std::chrono::steady_clock::time_point;
using types::Deployment;
using types::Endpoint;
using types::Node;
using types::Pod;
using types::Service;
using types::State;

namespace {

constexpr int64_t kPending = std::numeric_limits<int64_t>::max();

bool terminating(State s) { return s == State::kDestroy || s == State::kDestroyed; }

template <class T>
std::string encode(T obj) {
  obj.meta.revision = 0;
  return types::toJson(obj);
}

// Iterates the entries of a selflink-keyed map whose key starts with `prefix`.
template <class Map, class F>
void forPrefix(Map& map, const std::string& prefix, F f) {
  for (auto it = map.lower_bound(prefix);
       it != map.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    auto next = std::next(it);
    f(it->first, it->second);
    it = next;
  }
}

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

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || !buf[0]) return "controller";
  std::string out;
  for (char c : std::string(buf)) out += (c == ':' || c == '/' || c == ' ') ? '-' : c;
  return out;
}

}  // namespace

class Controller::Impl {
 public:
  Impl(std::shared_ptr<storage::Storage> store, Options opt, Ipam ipam)
      : store_(std::move(store)),
        opt_(std::move(opt)),
        clock_(*opt_.clock),
        elector_(*store_, clock_, opt_.id, opt_.leaseTtl),
        emptyIpam_(ipam),
        ipam_(std::move(ipam)),
        rng_(std::random_device{}()) {}

  // ---- threads ----------------------------------------------------------------

  void start() {
    std::lock_guard lock(threadMu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    electionThread_ = std::thread([this] { electionLoop(); });
    loopThread_ = std::thread([this] { loop(); });
  }

  void stop(bool release) {
    {
      std::lock_guard lock(threadMu_);
      if (!running_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (electionThread_.joinable()) electionThread_.join();
    if (loopThread_.joinable()) loopThread_.join();
    if (release) elector_.release();
    std::lock_guard lock(threadMu_);
    running_ = false;
  }

  void electionLoop() {
    while (true) {
      auto r = elector_.tick();
      if (!r.isOk()) spdlog::warn("{}", r.status().message());
      std::unique_lock lock(threadMu_);
      if (wake_.wait_for(lock, elector_.nextDelay(), [&] { return stopping_; })) return;
    }
  }

  void loop() {
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      {
        std::lock_guard lock(threadMu_);
        if (stopping_) break;
      }
      if (!elector_.isLeader()) {
        if (synced_) dropCache();
        std::unique_lock lock(threadMu_);
        wake_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_; });
        continue;
      }
      Status s = runOnce(std::chrono::milliseconds(50), 20'000);
      if (!s.isOk()) {
        spdlog::warn("controller loop: {}; retrying in {} ms", s.message(), backoff.count());
        std::unique_lock lock(threadMu_);
        wake_.wait_for(lock, backoff, [&] { return stopping_; });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5'000));
      } else {
        backoff = std::chrono::milliseconds(100);
      }
    }
  }

  bool electionTick() {
    auto r = elector_.tick();
    if (!r.isOk()) spdlog::warn("{}", r.status().message());
    return elector_.isLeader();
  }

  bool isLeader() const { return elector_.isLeader(); }

  Stats stats() const {
    std::lock_guard lock(statsMu_);
    Stats s = stats_;
    s.leader = elector_.isLeader();
    return s;
  }

  // ---- one pass -----------------------------------------------------------------

  Status runOnce(std::chrono::milliseconds wait, size_t maxKeys) {
    if (!elector_.isLeader()) {
      if (synced_) dropCache();
      return Status::ok();
    }
    if (synced_ && syncedLeadership_ != elector_.leadership()) dropCache();
    if (!synced_) LB_RETURN_IF_ERROR(sync());
    LB_RETURN_IF_ERROR(pump(wait));
    const auto now = clock_.steadyNow();
    if (now - lastHealth_ >= opt_.healthInterval) {
      lastHealth_ = now;
      checkHealth();
    }
    if (now - lastResync_ >= opt_.resyncInterval) {
      lastResync_ = now;
      resyncNow();
    }
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      enqueue(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
    }
    if (pendingRetry_ && now - lastPendingRetry_ >= std::chrono::milliseconds(500)) {
      pendingRetry_ = false;
      lastPendingRetry_ = now;
      for (const auto& sl : unscheduled_) enqueue("s/" + detail::selflinkPrefix(sl, 2));
    }
    size_t processed = 0;
    while (!queue_.empty() && processed < maxKeys) {
      if (!elector_.isLeader()) break;  // stepped down: write nothing more
      std::string key = std::move(queue_.front());
      queue_.pop_front();
      queued_.erase(key);
      processed++;
      bool solo = solo_.erase(key) > 0;
      if (solo) flush();
      reconcile(key);
      if (solo || batchOps_ >= opt_.maxBatchOps) flush();
      if (processed % 512 == 0) {
        flush();
        LB_RETURN_IF_ERROR(pump(std::chrono::milliseconds(0)));
      }
    }
    flush();
    {
      std::lock_guard lock(statsMu_);
      stats_.queue = queue_.size();
    }
    if (!synced_ && elector_.isLeader()) return unavailable("cache lost its store; re-listing");
    return Status::ok();
  }

  void resyncNow() {
    enqueue("g/ipam");
    for (const auto& [sl, svc] : services_) enqueue("s/" + sl);
    for (const auto& [name, n] : nodeInfo_) enqueue("n/" + name);
    for (const auto& [name, s] : nodeStatus_) enqueue("n/" + name);
    for (const auto& [sl, r] : routes_) enqueue("r/" + sl);
    // Leftovers whose service is gone (namespace removal, a crash
    // mid-teardown): their service key tears them down.
    std::string last;
    auto orphan = [&](const std::string& sl) {
      std::string parent = detail::selflinkPrefix(sl, 2);
      if (parent != last && !services_.count(parent)) enqueue("s/" + parent);
      last = parent;
    };
    for (const auto& [sl, d] : deployments_) orphan(sl);
    for (const auto& [sl, p] : pods_) orphan(sl);
    for (const auto& [sl, e] : endpoints_) orphan(sl);
    for (const auto& [sl, v] : clusterManifests_) orphan(sl);
    last.clear();
    for (const auto& [key, v] : manifests_) {
      auto ki = detail::classify(key);
      if (ki.node != last) enqueue("n/" + ki.node);
      last = ki.node;
    }
  }

 private:
  // ---- cache sync ----------------------------------------------------------------

  void dropCache() {
    watch_.reset();
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
    manifestFrom_.clear();
    revs_.clear();
    podsByNode_.clear();
    nsNodes_.clear();
    unscheduled_.clear();
    sched_ = Scheduler();
    ipam_ = emptyIpam_;
    ipamRev_ = 0;
    ipamDirty_ = false;
    queue_.clear();
    queued_.clear();
    delayed_.clear();
    solo_.clear();
    resetBatch();
    synced_ = false;
  }

  Status sync() {
    dropCache();
    auto list = store_->list("/");
    if (!list.isOk()) return list.status().withContext("listing the store");
    loading_ = true;
    for (const auto& o : list->items)
      applyRemote(o.key, o.value, o.revision, /*deleted=*/false, true);
    loading_ = false;
    watchRev_ = list->revision;
    auto w = store_->watch("/", watchRev_);
    if (!w.isOk()) return w.status().withContext("watching the store");
    watch_ = std::move(*w);
    synced_ = true;
    syncedLeadership_ = elector_.leadership();
    lastResync_ = clock_.steadyNow();
    {
      std::lock_guard lock(statsMu_);
      stats_.relists++;
    }
    spdlog::info("controller: cache loaded at revision {} ({} services, {} pods, {} nodes)",
                 watchRev_, services_.size(), pods_.size(), nodeInfo_.size());
    resyncNow();
    return Status::ok();
  }

  Status pump(std::chrono::milliseconds wait) {
    if (!watch_) return Status::ok();
    for (int round = 0; round < 1000; ++round) {
      auto events = watch_->next(round == 0 ? wait : std::chrono::milliseconds(0));
      if (!events.isOk()) {
        spdlog::warn("controller: watch ended ({}); re-listing", events.status().message());
        synced_ = false;
        return Status::ok();
      }
      if (events->empty()) break;
      for (const auto& e : *events) {
        applyRemote(e.key, e.value, e.revision, e.type == storage::Event::Type::kDelete, false);
        watchRev_ = std::max(watchRev_, e.revision);
      }
    }
    if (++pumps_ % 64 == 0) pruneTombstones();
    return Status::ok();
  }

  void pruneTombstones() {
    for (auto it = revs_.begin(); it != revs_.end();) {
      if (it->second.deleted && it->second.rev <= watchRev_) {
        it = revs_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A change read from the store (listing, watch, refresh). Older than what
  // the cache knows (our own write echoed back) is skipped unless `force`.
  void applyRemote(const std::string& key, const std::string& value, int64_t rev, bool deleted,
                   bool force) {
    auto ki = detail::classify(key);
    if (ki.kind == Kind::kOther) return;
    auto known = revs_.find(key);
    if (!force && known != revs_.end() && known->second.rev >= rev) return;
    revs_[key] = {rev, deleted};
    std::optional<std::string> v;
    if (!deleted) v = value;
    applyValue(ki, key, v);
  }

  template <class T>
  std::optional<T> decode(const std::string& key, const std::optional<std::string>& value) {
    if (!value) return std::nullopt;
    T obj;
    Status s = types::fromJson(*value, &obj);
    if (!s.isOk()) {
      spdlog::warn("controller: '{}' does not decode ({}); treated as absent", key, s.toString());
      return std::nullopt;
    }
    return obj;
  }

  void applyValue(const detail::KeyInfo& ki, const std::string& key,
                  const std::optional<std::string>& value) {
    switch (ki.kind) {
      case Kind::kService:
        setService(ki.id, decode<Service>(key, value));
        break;
      case Kind::kDeployment:
        setDeployment(ki.id, decode<Deployment>(key, value));
        break;
      case Kind::kPod:
        setPod(ki.id, decode<Pod>(key, value));
        break;
      case Kind::kEndpoint:
        setEndpoint(ki.id, decode<Endpoint>(key, value));
        break;
      case Kind::kSecret:
        setNamespaced(secrets_, ki.id, decode<types::Secret>(key, value));
        break;
      case Kind::kConfig:
        setNamespaced(configs_, ki.id, decode<types::Config>(key, value));
        break;
      case Kind::kVolume:
        setNamespaced(volumes_, ki.id, decode<types::Volume>(key, value));
        break;
      case Kind::kRoute:
        setRoute(ki.id, decode<types::Route>(key, value));
        break;
      case Kind::kNamespace: {
        auto ns = decode<types::Namespace>(key, value);
        if (ns) {
          namespaces_[ki.id] = std::move(*ns);
        } else {
          namespaces_.erase(ki.id);
          forPrefix(services_, ki.id + ":",
                    [&](const std::string& sl, Service&) { enqueue("s/" + sl); });
        }
        break;
      }
      case Kind::kNodeInfo:
        setNodeInfo(ki.id, decode<Node>(key, value));
        break;
      case Kind::kNodeStatus: {
        auto n = decode<Node>(key, value);
        setNodeStatus(ki.id, n ? std::optional<types::NodeStatus>(n->status) : std::nullopt);
        break;
      }
      case Kind::kNodeManifest:
        if (value) {
          // Pod manifests never change (a pod's spec is fixed): keep only
          // their presence, not a second copy of every pod.
          manifests_[key] = isPodManifest(ki) ? std::string() : *value;
        } else {
          manifests_.erase(key);
        }
        enqueue("n/" + ki.node);
        break;
      case Kind::kClusterManifest:
        manifestFrom_.erase(ki.id);  // written by someone else (or re-read)
        if (value) {
          clusterManifests_[ki.id] = *value;
        } else {
          clusterManifests_.erase(ki.id);
        }
        enqueue("s/" + ki.id);
        break;
      case Kind::kIpam:
        if (value) {
          Status s = ipam_.loadJson(*value);
          if (!s.isOk()) spdlog::warn("controller: /system/ipam: {}", s.message());
          // The next IPAM write is a compare-and-swap on the loaded revision;
          // without it a restarted controller would try to create the key.
          ipamRev_ = revs_[key].rev;
        } else {
          ipam_ = emptyIpam_;
          ipamRev_ = 0;
        }
        if (!loading_) enqueue("g/ipam");
        break;
      case Kind::kOther:
        break;
    }
  }

  // ---- typed cache setters: keep the indexes and queue in step ----------------

  void setService(const std::string& sl, std::optional<Service> v) {
    if (v) {
      services_[sl] = std::move(*v);
    } else {
      services_.erase(sl);
    }
    enqueue("s/" + sl);
  }

  void setDeployment(const std::string& sl, std::optional<Deployment> v) {
    if (v) {
      deployments_[sl] = std::move(*v);
    } else {
      deployments_.erase(sl);
    }
    enqueue("s/" + detail::selflinkPrefix(sl, 2));
  }

  void podIndex(const Pod& p, int sign) {
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
    if (sign > 0) {
      podsByNode_[node].insert(sl);
      nsNodes_[ns][node]++;
      sched_.addPod(node, dep, req);
    } else {
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
      pendingRetry_ = true;  // capacity freed
    }
  }

  void setPod(const std::string& sl, std::optional<Pod> v) {
    auto it = pods_.find(sl);
    const bool existed = it != pods_.end();
    std::string oldNode, newNode;
    if (existed) {
      oldNode = it->second.status.node;
      podIndex(it->second, -1);
    }
    if (v) {
      v->meta.selflink = sl;  // the key is authoritative
      newNode = v->status.node;
      auto& slot = pods_[sl];
      slot = std::move(*v);
      podIndex(slot, +1);
    } else if (existed) {
      pods_.erase(it);
    }
    enqueue("s/" + detail::selflinkPrefix(sl, 2));
    if (oldNode != newNode || !v || !existed) {
      if (!oldNode.empty()) enqueue("n/" + oldNode);
      if (!newNode.empty()) enqueue("n/" + newNode);
    }
  }

  void setEndpoint(const std::string& sl, std::optional<Endpoint> v) {
    if (v) {
      endpoints_[sl] = std::move(*v);
    } else {
      endpoints_.erase(sl);
    }
    enqueue("s/" + sl);
    std::string ns = detail::selflinkPrefix(sl, 1);
    forPrefix(routes_, ns + ":", [&](const std::string& r, types::Route&) { enqueue("r/" + r); });
    if (opt_.nodeEndpointManifests) enqueueNodesOf(ns);
  }

  void enqueueNodesOf(const std::string& ns) {
    auto it = nsNodes_.find(ns);
    if (it == nsNodes_.end()) return;
    for (const auto& [node, n] : it->second) enqueue("n/" + node);
  }

  template <class T>
  void setNamespaced(std::map<std::string, T>& map, const std::string& sl, std::optional<T> v) {
    if (v) {
      map[sl] = std::move(*v);
    } else {
      map.erase(sl);
    }
    const std::string ns = detail::selflinkPrefix(sl, 1);
    enqueueNodesOf(ns);
    // Env taken from a secret or config is part of the deployment hash.
    if constexpr (std::is_same_v<T, types::Secret> || std::is_same_v<T, types::Config>)
      forPrefix(services_, ns + ":", [&](const std::string& s, Service&) { enqueue("s/" + s); });
  }

  void setRoute(const std::string& sl, std::optional<types::Route> v) {
    if (v) {
      routes_[sl] = std::move(*v);
    } else {
      routes_.erase(sl);
    }
    enqueue("r/" + sl);
  }

  void setNodeInfo(const std::string& name, std::optional<Node> v) {
    if (v) {
      nodeInfo_[name] = std::move(*v);
    } else {
      nodeInfo_.erase(name);
    }
    nodeChanged(name);
  }

  void setNodeStatus(const std::string& name, std::optional<types::NodeStatus> v) {
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
    nodeChanged(name);
  }

  bool nodeUsable(const std::string& name) const {
    auto info = nodeInfo_.find(name);
    auto status = nodeStatus_.find(name);
    return info != nodeInfo_.end() && status != nodeStatus_.end() && status->second.online;
  }

  void nodeChanged(const std::string& name) {
    enqueue("n/" + name);
    auto info = nodeInfo_.find(name);
    bool usable = nodeUsable(name);
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
      sched_.upsertNode(name, labels, cap, usable && !info->second.spec.unschedulable);
    }
    bool was = usableNodes_.count(name) > 0;
    if (usable && !was) {
      usableNodes_.insert(name);
      pendingRetry_ = true;
    } else if (!usable && was) {
      usableNodes_.erase(name);
      // Its pods are lost: their services reschedule them.
      auto pods = podsByNode_.find(name);
      if (pods != podsByNode_.end()) {
        for (const auto& sl : pods->second) enqueue("s/" + detail::selflinkPrefix(sl, 2));
      }
    }
  }

  // ---- queue --------------------------------------------------------------------------

  void enqueue(const std::string& key) {
    if (loading_ || key == current_) return;
    if (queued_.insert(key).second) queue_.push_back(key);
  }

  void enqueueAfter(const std::string& key, std::chrono::milliseconds delay) {
    delayed_.emplace(clock_.steadyNow() + delay, key);
  }

  // ---- staging writes ------------------------------------------------------------------

  std::optional<int64_t> revOf(const std::string& key) const {
    auto it = revs_.find(key);
    if (it == revs_.end() || it->second.deleted) return std::nullopt;
    return it->second.rev;
  }

  void addOp(Op op) {
    auto it = opIndex_.find(op.key);
    if (it == opIndex_.end()) {
      opIndex_[op.key] = ops_.size();
      ops_.push_back(std::move(op));
      batchOps_++;
      return;
    }
    // A second write of a key in one batch: merge, keeping the first
    // condition (the state the batch started from).
    std::optional<Op>& prev = ops_[it->second];
    if (!prev) {
      prev = std::move(op);
      return;
    }
    if (op.type == Op::Type::kDelete && prev->type == Op::Type::kPut && prev->expect == 0) {
      prev.reset();  // created and deleted within the batch: nothing to write
      return;
    }
    auto expect = prev->expect;
    prev = std::move(op);
    prev->expect = expect;
  }

  void stage(const std::string& key, std::optional<std::string> value,
             std::optional<int64_t> expect) {
    Op op;
    op.key = key;
    op.expect = expect;
    if (value) {
      op.type = Op::Type::kPut;
      op.value = *value;
    } else {
      op.type = Op::Type::kDelete;
    }
    addOp(std::move(op));
    touched_.insert(key);
    revs_[key] = {kPending, !value.has_value()};
  }

  // Create or update: the condition is the cached revision (0 = must not exist).
  template <class T>
  void stagePut(const std::string& key, const T& obj) {
    std::string value = encode(obj);
    auto rev = revOf(key);
    stage(key, value, rev ? (*rev == kPending ? std::optional<int64_t>() : rev) : 0);
  }

  void stageDelete(const std::string& key, bool conditional) {
    auto rev = revOf(key);
    if (!rev) return;  // not in the cache: nothing to delete
    stage(key, std::nullopt, conditional && *rev != kPending ? rev : std::nullopt);
    applyValue(detail::classify(key), key, std::nullopt);
  }

  void resetBatch() {
    batchPodJson_.clear();
    ops_.clear();
    opIndex_.clear();
    touched_.clear();
    workKeys_.clear();
    batchOps_ = 0;
  }

  void flush() {
    if (!elector_.isLeader()) {
      // Stepped down with writes staged: drop them and the cache they were
      // applied to; the next leadership re-lists.
      if (!ops_.empty() || ipamDirty_)
        spdlog::warn("controller: lost the lease; dropping {} staged writes", batchOps_);
      resetBatch();
      ipamDirty_ = false;
      synced_ = false;
      return;
    }
    std::vector<Op> ops;
    ops.reserve(ops_.size() + 1);
    for (auto& op : ops_) {
      if (op) ops.push_back(std::move(*op));
    }
    const std::string ipamKey = keys::ipamKey();
    if (ipamDirty_) {
      ops.push_back({Op::Type::kPut, ipamKey, ipam_.toJson(), ipamRev_});
      touched_.insert(ipamKey);
    }
    if (ops.empty()) {
      resetBatch();
      return;
    }
    auto rev = store_->txn(ops);
    if (rev.isOk()) {
      for (const auto& op : ops) revs_[op.key] = {*rev, op.type == Op::Type::kDelete};
      if (ipamDirty_) ipamRev_ = *rev;
      ipamDirty_ = false;
      std::lock_guard lock(statsMu_);
      stats_.txns++;
      stats_.ops += ops.size();
      for (const auto& op : ops) {
        if (op.key.compare(0, 5, "/pod/") != 0) continue;
        if (op.type == Op::Type::kDelete) stats_.podsDeleted++;
        if (op.type == Op::Type::kPut && op.expect == 0) stats_.podsCreated++;
      }
      for (const auto& k : workKeys_) failures_.erase(k);
      resetBatch();
      return;
    }
    {
      std::lock_guard lock(statsMu_);
      stats_.conflicts++;
    }
    spdlog::debug("controller: batch of {} ops for {} keys failed: {}", ops.size(),
                  workKeys_.size(), rev.status().message());
    std::vector<std::string> work = workKeys_;
    std::vector<std::string> touched(touched_.begin(), touched_.end());
    ipamDirty_ = false;
    resetBatch();
    refresh(touched);
    for (const auto& k : work) {
      if (work.size() > 1) {
        solo_.insert(k);
        enqueue(k);
      } else {
        int& n = failures_[k];
        n = std::min(n + 1, 8);
        enqueueAfter(k, std::chrono::milliseconds(50) * (1 << (n - 1)));
      }
    }
  }

  // Re-reads keys whose staged writes did not land.
  void refresh(const std::vector<std::string>& touched) {
    auto info = store_->info();
    if (!info.isOk()) {
      synced_ = false;
      return;
    }
    for (const auto& key : touched) {
      auto o = store_->get(key);
      if (o.isOk()) {
        applyRemote(key, o->value, o->revision, false, true);
      } else if (o.status().code() == Code::kNotFound) {
        applyRemote(key, "", info->revision, true, true);
      } else {
        synced_ = false;
        return;
      }
    }
  }

  // ---- reconcile dispatch -----------------------------------------------------------

  void reconcile(const std::string& key) {
    current_ = key;
    workKeys_.push_back(key);
    {
      std::lock_guard lock(statsMu_);
      stats_.reconciles++;
    }
    const std::string id = key.substr(2);
    switch (key[0]) {
      case 's':
        reconcileService(id);
        break;
      case 'n':
        reconcileNode(id);
        break;
      case 'r':
        reconcileRoute(id);
        break;
      case 'g':
        reconcileIpam();
        break;
      default:
        break;
    }
    current_.clear();
  }

  std::string newName() {
    static constexpr char kHex[] = "0123456789abcdef";
    uint64_t v = rng_();
    std::string out(10, '0');
    for (auto& c : out) {
      c = kHex[v & 15];
      v >>= 4;
    }
    return out;
  }

  std::string now() const { return formatRfc3339(clock_.now()); }

  // ---- services ---------------------------------------------------------------------------

  struct PodCounts {
    int total = 0, ready = 0, provision = 0, errored = 0;
    std::string error;        // first errored pod's message
    std::string unscheduled;  // first unschedulable reason
  };

  PodCounts countPods(const std::string& depSl) {
    PodCounts c;
    forPrefix(pods_, depSl + ":", [&](const std::string& sl, Pod& p) {
      c.total++;
      if (p.status.ready) {
        c.ready++;
      } else if (p.status.state == State::kError) {
        c.errored++;
        if (c.error.empty())
          c.error =
              "pod " + p.meta.name + ": " + (p.status.message.empty() ? "error" : p.status.message);
      } else {
        c.provision++;
        if (p.status.node.empty() && c.unscheduled.empty() && !p.status.message.empty())
          c.unscheduled = "pod " + p.meta.name + " unschedulable: " + p.status.message;
      }
    });
    return c;
  }

  void deletePod(const std::string& sl) {
    stageDelete(*keys::objectKey(keys::Collection::kPod, sl), false);
  }

  // Deletes a deployment with its pods (the node agents stop the containers
  // when their manifests go, which the node keys do).
  void destroyDeployment(const std::string& depSl) {
    std::vector<std::string> pods;
    forPrefix(pods_, depSl + ":", [&](const std::string& sl, Pod&) { pods.push_back(sl); });
    for (const auto& sl : pods) deletePod(sl);
    stageDelete(*keys::objectKey(keys::Collection::kDeployment, depSl), false);
  }

  void teardown(const std::string& sl) {
    std::vector<std::string> deps;
    forPrefix(deployments_, sl + ":",
              [&](const std::string& d, Deployment&) { deps.push_back(d); });
    for (const auto& d : deps) destroyDeployment(d);
    // Pods whose deployment is already gone.
    std::vector<std::string> pods;
    forPrefix(pods_, sl + ":", [&](const std::string& p, Pod&) { pods.push_back(p); });
    for (const auto& p : pods) deletePod(p);
    removeEndpoint(sl);
    auto svc = services_.find(sl);
    if (svc != services_.end()) {
      stageDelete(*keys::objectKey(keys::Collection::kService, sl), true);
      spdlog::info("controller: service '{}' torn down ({} deployments, {} pods)", sl, deps.size(),
                   pods.size());
    }
  }

  void removeEndpoint(const std::string& sl) {
    stageDelete(*keys::objectKey(keys::Collection::kEndpoint, sl), false);
    stageDelete(*keys::clusterEndpointManifestKey(sl), false);
    if (ipam_.release(sl)) ipamDirty_ = true;
  }

  // Keeps `dep` at its replica count; returns the first reason a pod could
  // not be placed (empty if all placed).
  std::string scalePods(const Deployment& dep) {
    const std::string depSl = dep.meta.selflink;
    std::vector<Pod*> live;
    std::vector<std::string> lost;
    forPrefix(pods_, depSl + ":", [&](const std::string& sl, Pod& p) {
      if (!p.status.node.empty() && !nodeUsable(p.status.node)) {
        lost.push_back(sl);
      } else {
        live.push_back(&p);
      }
    });
    for (const auto& sl : lost) {
      spdlog::info("controller: pod '{}' lost with node '{}'; replacing it", sl,
                   pods_[sl].status.node);
      deletePod(sl);
    }
    const int want = std::max(dep.spec.replicas, 0);
    std::string reason;
    if (static_cast<int>(live.size()) > want) {
      // Scale-down order: unscheduled, then scheduled but not ready, then
      // ready; within each, newest first (created), then name descending.
      auto rank = [](const Pod* p) {
        return p->status.node.empty() ? 0 : !p->status.ready ? 1 : 2;
      };
      std::sort(live.begin(), live.end(), [&](const Pod* a, const Pod* b) {
        if (rank(a) != rank(b)) return rank(a) < rank(b);
        if (a->meta.created != b->meta.created) return a->meta.created > b->meta.created;
        return a->meta.name > b->meta.name;
      });
      std::vector<std::string> victims;
      for (size_t i = 0; i < live.size() - want; ++i) victims.push_back(live[i]->meta.selflink);
      for (const auto& sl : victims) deletePod(sl);
      live.erase(live.begin(), live.begin() + (live.size() - want));
    }
    const auto req = podRequest(dep.spec.template_, opt_.requestDefaults);
    // Pods still waiting for a node: retry them first.
    std::vector<std::string> waiting;
    for (Pod* p : live) {
      if (p->status.node.empty()) waiting.push_back(p->meta.selflink);
    }
    for (const auto& sl : waiting) {
      Pod p = pods_[sl];
      auto placed = reason.empty() ? sched_.place(depSl, dep.spec.selector, req)
                                   : Scheduler::Placement{"", reason};
      if (!placed.node.empty()) {
        p.status.node = placed.node;
        p.status.message.clear();
        p.status.state = State::kProvision;
      } else {
        reason = placed.reason;
        if (p.status.message == reason) continue;
        p.status.message = reason;
      }
      p.meta.updated = now();
      putPod(p);
    }
    const int missing = want - static_cast<int>(live.size());
    for (int i = 0; i < missing; ++i) {
      Pod p;
      p.meta.name = newName();
      p.meta.namespace_ = dep.meta.namespace_;
      p.meta.selflink = depSl + ":" + p.meta.name;
      p.meta.labels = dep.meta.labels;
      p.meta.created = p.meta.updated = now();
      p.spec.template_ = dep.spec.template_;
      p.spec.selector = dep.spec.selector;
      p.status.state = State::kProvision;
      auto placed = reason.empty() ? sched_.place(depSl, dep.spec.selector, req)
                                   : Scheduler::Placement{"", reason};
      if (placed.node.empty()) {
        reason = placed.reason;
        p.status.message = reason;
      } else {
        p.status.node = placed.node;
      }
      putPod(p);
    }
    return reason;
  }

  void putPod(const Pod& p) {
    std::string key = *keys::objectKey(keys::Collection::kPod, p.meta.selflink);
    std::string value = podJson_.encode(p);
    auto rev = revOf(key);
    stage(key, value, rev ? (*rev == kPending ? std::optional<int64_t>() : rev) : 0);
    // A freshly scheduled pod encodes exactly like its node manifest: let
    // the node key reuse the bytes instead of encoding the pod again.
    if (manifestForm(p)) batchPodJson_[p.meta.selflink] = std::move(value);
    setPod(p.meta.selflink, p);
  }

  static bool manifestForm(const Pod& p) {
    types::PodStatus s;
    s.node = p.status.node;
    s.state = State::kProvision;
    return !p.status.node.empty() && p.status == s;
  }

  void putDeployment(const Deployment& d) {
    stagePut(*keys::objectKey(keys::Collection::kDeployment, d.meta.selflink), d);
    setDeployment(d.meta.selflink, d);
  }

  // Status of a deployment from its pods; written when it changed.
  void updateDeploymentStatus(const std::string& depSl, const PodCounts& c) {
    auto it = deployments_.find(depSl);
    if (it == deployments_.end()) return;
    Deployment d = it->second;
    const int want = d.spec.replicas;
    types::DeploymentStatus s;
    s.replicas = {c.total, c.provision, c.ready, c.errored};
    if (c.total == want && c.ready == want) {
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
    d.meta.updated = now();
    putDeployment(d);
  }

  // The deployment's template hash: the template's, combined with the data
  // of every secret and config the containers' env takes values from. Env
  // is resolved when a container is created, so a changed secret or config
  // rolls the pods (a new deployment, blue/green). Files projected from
  // secrets and configs are rewritten in place by the agents
  // (docs/node-protocol.md), so volume references do not roll; nor does a
  // template without env references change its hash.
  std::string deploymentHash(const Service& svc) const {
    return types::deploymentHash(
        svc.spec.template_,
        [&](bool secret, const std::string& name) -> std::optional<std::string> {
          const std::string key = svc.meta.namespace_ + ":" + name;
          if (secret) {
            auto it = secrets_.find(key);
            if (it == secrets_.end()) return std::nullopt;
            return types::toJson(dataOf(it->second));
          }
          auto it = configs_.find(key);
          if (it == configs_.end()) return std::nullopt;
          return types::toJson(dataOf(it->second));
        });
  }
  // Only the data counts (not meta.updated and the like).
  template <class T>
  static T dataOf(const T& obj) {
    T out;
    out.spec = obj.spec;
    return out;
  }

  void reconcileService(const std::string& sl) {
    auto svcIt = services_.find(sl);
    if (svcIt == services_.end() || terminating(svcIt->second.status.state) ||
        !namespaces_.count(detail::selflinkPrefix(sl, 1))) {
      teardown(sl);
      return;
    }
    const Service svc = svcIt->second;
    const std::string hash = deploymentHash(svc);

    // The current deployment: the live one made from this template.
    std::vector<std::string> deps;
    forPrefix(deployments_, sl + ":",
              [&](const std::string& d, Deployment&) { deps.push_back(d); });
    std::string cur;
    int curReady = -1;
    for (const auto& d : deps) {
      const Deployment& dep = deployments_[d];
      if (dep.spec.templateHash != hash || terminating(dep.status.state)) continue;
      int ready = countPods(d).ready;
      if (cur.empty() || ready > curReady) {
        cur = d;
        curReady = ready;
      }
    }
    if (cur.empty()) {
      Deployment d;
      d.meta.name = newName();
      d.meta.namespace_ = svc.meta.namespace_;
      d.meta.selflink = sl + ":" + d.meta.name;
      d.meta.labels = svc.meta.labels;
      d.meta.created = d.meta.updated = now();
      d.spec.template_ = svc.spec.template_;
      d.spec.selector = svc.spec.selector;
      d.spec.replicas = svc.spec.replicas;
      d.spec.templateHash = hash;
      d.status.state = State::kProvision;
      putDeployment(d);
      cur = d.meta.selflink;
      spdlog::info("controller: service '{}': new deployment '{}' (template {})", sl, d.meta.name,
                   hash);
    } else {
      const Deployment& dep = deployments_[cur];
      if (dep.spec.replicas != svc.spec.replicas || !(dep.spec.selector == svc.spec.selector)) {
        Deployment d = dep;
        d.spec.replicas = svc.spec.replicas;
        d.spec.selector = svc.spec.selector;
        d.meta.updated = now();
        putDeployment(d);
      }
    }
    std::string unscheduled = scalePods(deployments_[cur]);
    PodCounts cc = countPods(cur);
    updateDeploymentStatus(cur, cc);
    const bool ready = deployments_[cur].status.state == State::kReady;

    // Older deployments: once the current one is ready they all go; until
    // then the one serving the most ready pods keeps serving.
    std::string serving;
    int servingReady = 0;
    if (!ready) {
      for (const auto& d : deps) {
        if (d == cur || !deployments_.count(d) || terminating(deployments_[d].status.state))
          continue;
        int r = countPods(d).ready;
        if (r > servingReady || (r == servingReady && r > 0 && d > serving)) {
          serving = d;
          servingReady = r;
        }
      }
    }
    for (const auto& d : deps) {
      if (d == cur || d == serving || !deployments_.count(d)) continue;
      spdlog::info("controller: service '{}': destroying deployment '{}'", sl,
                   detail::selflinkName(d));
      destroyDeployment(d);
    }
    if (!serving.empty()) {
      scalePods(deployments_[serving]);
      updateDeploymentStatus(serving, countPods(serving));
    }

    std::string epMessage = reconcileEndpoint(svc, ready || serving.empty() ? cur : serving);

    types::ServiceStatus st;
    const std::string curName = detail::selflinkName(cur);
    if (ready) {
      st.state = State::kReady;
    } else if (cc.errored > 0) {
      st.state = State::kError;
      st.message =
          "deployment " + curName + " failed: " + cc.error +
          (serving.empty() ? ""
                           : "; deployment " + detail::selflinkName(serving) + " keeps serving");
    } else {
      st.state = State::kProvision;
      st.message = unscheduled.empty() ? "" : "deployment " + curName + ": " + unscheduled;
    }
    if (!epMessage.empty()) st.message += (st.message.empty() ? "" : "; ") + epMessage;
    if (st != svc.status) {
      Service next = svc;
      next.status = st;
      std::string key = *keys::objectKey(keys::Collection::kService, sl);
      stagePut(key, next);
      services_[sl] = next;
    }
  }

  // Endpoint and VIP of a service with ports; returns a problem to report.
  std::string reconcileEndpoint(const Service& svc, const std::string& upstreamDep) {
    const std::string& sl = svc.meta.selflink;
    if (svc.spec.network.ports.empty()) {
      removeEndpoint(sl);
      return "";
    }
    auto ip = ipam_.addressOf(sl);
    if (!ip) {
      auto got = ipam_.allocate(sl);
      if (!got.isOk()) return "no service IP: " + got.status().message();
      ip = *got;
      ipamDirty_ = true;
    }
    auto existing = endpoints_.find(sl);
    Endpoint ep;
    if (existing != endpoints_.end()) {
      ep = existing->second;
    } else {
      ep.meta.name = svc.meta.name;
      ep.meta.namespace_ = svc.meta.namespace_;
      ep.meta.selflink = sl;
      ep.meta.created = now();
    }
    Endpoint want = ep;
    want.spec.ip = *ip;
    want.spec.ports = svc.spec.network.ports;
    want.spec.policy = "rr";
    auto ns = namespaces_.find(svc.meta.namespace_);
    std::string suffix = ns != namespaces_.end() && !ns->second.spec.domain.internal.empty()
                             ? ns->second.spec.domain.internal
                             : svc.meta.namespace_ + ".lb.local";
    want.spec.domain = svc.meta.name + "." + suffix;
    want.spec.upstreams.clear();
    forPrefix(pods_, upstreamDep + ":", [&](const std::string&, Pod& p) {
      if (!p.status.ready || p.status.ip.empty()) return;
      for (const auto& port : svc.spec.network.ports)
        want.spec.upstreams.push_back({p.status.ip, port.containerPort});
    });
    want.status.state = want.spec.upstreams.empty() ? State::kProvision : State::kReady;
    want.status.message = want.spec.upstreams.empty() ? "no ready pods" : "";
    std::string epKey = *keys::endpointKey(svc.meta.namespace_, svc.meta.name);
    if (existing == endpoints_.end() || want.spec != ep.spec || want.status != ep.status) {
      want.meta.updated = now();
      stagePut(epKey, want);
      setEndpoint(sl, want);
    }
    Endpoint current = endpoints_[sl];
    current.meta.revision = 0;
    auto cm = clusterManifests_.find(sl);
    auto from = manifestFrom_.find(sl);
    if (cm != clusterManifests_.end() && from != manifestFrom_.end() && from->second == current)
      return "";
    std::string manifest = encode(current);
    if (cm == clusterManifests_.end() || cm->second != manifest) {
      std::string key = *keys::clusterEndpointManifestKey(sl);
      auto rev = revOf(key);
      stage(key, manifest, rev ? (*rev == kPending ? std::optional<int64_t>() : rev) : 0);
      clusterManifests_[sl] = manifest;
    }
    manifestFrom_[sl] = std::move(current);
    return "";
  }

  // ---- nodes -------------------------------------------------------------------------------

  bool heartbeatStale(const types::NodeStatus& s) const {
    auto hb = parseRfc3339(s.heartbeat);
    if (!hb) return true;
    return clock_.now() - *hb > opt_.nodeOfflineTimeout;
  }

  void checkHealth() {
    for (const auto& [name, s] : nodeStatus_) {
      if (s.online && heartbeatStale(s)) enqueue("n/" + name);
    }
  }

  void reconcileNode(const std::string& name) {
    auto status = nodeStatus_.find(name);
    if (status != nodeStatus_.end() && status->second.online && heartbeatStale(status->second)) {
      Node n;
      n.meta.name = name;
      n.status = status->second;
      n.status.online = false;
      spdlog::warn("controller: node '{}' missed its heartbeat (last {}); marking it offline", name,
                   n.status.heartbeat.empty() ? "never" : n.status.heartbeat);
      stagePut(*keys::nodeKey(name, keys::Part::kStatus), n);
      setNodeStatus(name, n.status);
    }
    // What the node should hold: nothing unless it is registered and online.
    std::map<std::string, std::optional<std::string>> want;  // key -> value (nullopt: keep as is)
    if (nodeUsable(name)) {
      std::map<std::string, Refs> refs;  // namespace -> referenced objects
      auto pods = podsByNode_.find(name);
      if (pods != podsByNode_.end()) {
        for (const auto& sl : pods->second) {
          const Pod& p = pods_[sl];
          want[*keys::nodeManifestKey(name, keys::ManifestKind::kPod, sl)] = std::nullopt;
          collectRefs(p.spec.template_, &refs[p.meta.namespace_]);
        }
      }
      for (const auto& [ns, r] : refs) {
        for (const auto& s : r.secrets) {
          auto it = secrets_.find(ns + ":" + s);
          if (it != secrets_.end())
            want[*keys::nodeManifestKey(name, keys::ManifestKind::kSecret, it->first)] =
                encode(it->second);
        }
        for (const auto& c : r.configs) {
          auto it = configs_.find(ns + ":" + c);
          if (it != configs_.end())
            want[*keys::nodeManifestKey(name, keys::ManifestKind::kConfig, it->first)] =
                encode(it->second);
        }
        for (const auto& v : r.volumes) {
          auto it = volumes_.find(ns + ":" + v);
          if (it != volumes_.end())
            want[*keys::nodeManifestKey(name, keys::ManifestKind::kVolume, it->first)] =
                encode(it->second);
        }
        if (opt_.nodeEndpointManifests) {
          forPrefix(endpoints_, ns + ":", [&](const std::string& sl, Endpoint& e) {
            want[*keys::nodeManifestKey(name, keys::ManifestKind::kEndpoint, sl)] = encode(e);
          });
        }
      }
    }
    const std::string prefix = *keys::nodeManifestsPrefix(name);
    std::vector<std::string> stale;
    forPrefix(manifests_, prefix, [&](const std::string& key, std::string&) {
      if (!want.count(key)) stale.push_back(key);
    });
    for (const auto& key : stale) {
      stageDelete(key, false);
      manifests_.erase(key);
    }
    for (auto& [key, value] : want) {
      auto have = manifests_.find(key);
      if (!value) {
        if (have != manifests_.end()) continue;          // pod specs never change
        std::string sl = key.substr(prefix.size() + 4);  // after "pod/"
        auto cached = batchPodJson_.find(sl);
        if (cached != batchPodJson_.end()) {
          value = cached->second;
        } else {
          Pod p = pods_[sl];
          p.status = {};
          p.status.node = name;
          p.status.state = State::kProvision;
          value = podJson_.encode(p);
        }
      } else if (have != manifests_.end() && have->second == *value) {
        continue;
      }
      auto rev = revOf(key);
      stage(key, *value, rev ? (*rev == kPending ? std::optional<int64_t>() : rev) : 0);
      manifests_[key] = key.compare(prefix.size(), 4, "pod/") == 0 ? std::string() : *value;
    }
  }

  static bool isPodManifest(const detail::KeyInfo& ki) {
    // /manifest/node/<node>/pod/...
    return ki.id.compare(15 + ki.node.size(), 5, "/pod/") == 0;
  }

  // ---- routes, IPAM -----------------------------------------------------------------------

  void reconcileRoute(const std::string& sl) {
    auto it = routes_.find(sl);
    if (it == routes_.end()) return;
    const std::string ns = detail::selflinkPrefix(sl, 1);
    std::string state = "ready", message;
    if (it->second.spec.rules.empty()) {
      state = "provision";
      message = "no rules";
    }
    for (const auto& rule : it->second.spec.rules) {
      auto ep = endpoints_.find(ns + ":" + rule.service);
      if (ep == endpoints_.end() || ep->second.spec.upstreams.empty()) {
        state = "provision";
        message = "service '" + rule.service + "' has no ready endpoint";
        break;
      }
    }
    if (it->second.status.state == state && it->second.status.message == message) return;
    types::Route r = it->second;
    r.status.state = state;
    r.status.message = message;
    stagePut(*keys::objectKey(keys::Collection::kRoute, sl), r);
    routes_[sl] = r;
  }

  // Restart safety for IPAM: adopt addresses that endpoints hold, free those
  // whose service and endpoint are both gone.
  void reconcileIpam() {
    for (const auto& [sl, ep] : endpoints_) {
      if (ep.spec.ip.empty() || ipam_.addressOf(sl) == ep.spec.ip) continue;
      if (ipam_.adopt(sl, ep.spec.ip)) {
        ipamDirty_ = true;
      } else {
        enqueue("s/" + sl);  // outside the range or taken: the service gets a new one
      }
    }
    std::vector<std::string> gone;
    for (const auto& [owner, ip] : ipam_.owners()) {
      auto svc = services_.find(owner);
      bool wants = svc != services_.end() && !svc->second.spec.network.ports.empty();
      if (!wants && !endpoints_.count(owner)) gone.push_back(owner);
    }
    for (const auto& owner : gone) {
      ipam_.release(owner);
      ipamDirty_ = true;
    }
  }

  // ---- state ---------------------------------------------------------------------------------

  std::shared_ptr<storage::Storage> store_;
  Options opt_;
  const Clock& clock_;
  Elector elector_;

  std::mutex threadMu_;
  std::condition_variable wake_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread electionThread_, loopThread_;

  mutable std::mutex statsMu_;
  Stats stats_;

  // Cache (loop thread only).
  bool synced_ = false;
  bool loading_ = false;
  uint64_t syncedLeadership_ = 0;
  std::unique_ptr<storage::WatchStream> watch_;
  int64_t watchRev_ = 0;
  uint64_t pumps_ = 0;
  struct Rev {
    int64_t rev = 0;
    bool deleted = false;
  };
  std::unordered_map<std::string, Rev> revs_;  // every cached key, and recent deletions
  std::map<std::string, Service> services_;
  std::map<std::string, Deployment> deployments_;
  std::map<std::string, Pod> pods_;
  std::map<std::string, Endpoint> endpoints_;
  std::map<std::string, types::Secret> secrets_;
  std::map<std::string, types::Config> configs_;
  std::map<std::string, types::Volume> volumes_;
  std::map<std::string, types::Route> routes_;
  std::map<std::string, types::Namespace> namespaces_;
  std::map<std::string, Node> nodeInfo_;
  std::map<std::string, types::NodeStatus> nodeStatus_;
  std::map<std::string, std::string> manifests_;         // /manifest/node/... -> value
  std::map<std::string, std::string> clusterManifests_;  // selflink -> value
  std::unordered_map<std::string, std::set<std::string>> podsByNode_;
  std::unordered_map<std::string, std::map<std::string, int>> nsNodes_;  // ns -> node -> pods
  std::set<std::string> unscheduled_;
  std::unordered_set<std::string> usableNodes_;
  Scheduler sched_;
  const Ipam emptyIpam_;
  Ipam ipam_;
  int64_t ipamRev_ = 0;
  bool ipamDirty_ = false;

  // Queue.
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_;
  std::multimap<SteadyTime, std::string> delayed_;
  std::unordered_set<std::string> solo_;
  std::unordered_map<std::string, int> failures_;
  std::string current_;
  SteadyTime lastHealth_{}, lastResync_{}, lastPendingRetry_{};
  bool pendingRetry_ = false;

  // The batch being built.
  std::vector<std::optional<Op>> ops_;
  std::unordered_map<std::string, size_t> opIndex_;
  std::unordered_set<std::string> touched_;
  std::vector<std::string> workKeys_;
  size_t batchOps_ = 0;
  std::unordered_map<std::string, std::string> batchPodJson_;  // pods created in this batch
  PodJson podJson_;
  // selflink -> the endpoint (revision 0) its cluster manifest was last
  // encoded from by this loop; an unchanged endpoint is not encoded again.
  std::unordered_map<std::string, Endpoint> manifestFrom_;

  std::mt19937_64 rng_;
};

StatusOr<std::unique_ptr<Controller>> Controller::create(std::shared_ptr<storage::Storage> store,
                                                         Options options) {
  auto ipam = Ipam::create(options.servicesCidr);
  if (!ipam.isOk()) return ipam.status();
  if (options.id.empty()) options.id = hostName();
  if (!keys::validateSegment(options.id, "controller id").isOk() || options.id == "lead")
    return invalidArgument("controller id '" + options.id + "' is not a valid key segment", "id");
  if (options.leaseTtl < std::chrono::milliseconds(30))
    return invalidArgument("lease TTL must be at least 30 ms", "leaseTtl");
  auto impl = std::make_unique<Impl>(std::move(store), std::move(options), std::move(*ipam));
  return std::unique_ptr<Controller>(new Controller(std::move(impl)));
}

Controller::Controller(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Controller::~Controller() { impl_->stop(true); }
void Controller::start() { impl_->start(); }
void Controller::stop(bool release) { impl_->stop(release); }
bool Controller::electionTick() { return impl_->electionTick(); }
Status Controller::runOnce(std::chrono::milliseconds wait, size_t maxKeys) {
  return impl_->runOnce(wait, maxKeys);
}
bool Controller::isLeader() const { return impl_->isLeader(); }
void Controller::resyncNow() { impl_->resyncNow(); }
Stats Controller::stats() const { return impl_->stats(); }

}  // namespace lb::controller
