#include "hollow_nodes.h"

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"

namespace lb::controller::testing {

namespace keys = storage::keys;
using storage::Op;

types::PodStatus hollowPodStatus(const types::Pod& pod, const std::string& node, uint32_t ipIndex,
                                 const std::set<std::string>& failImages) {
  bool fail = false;
  for (const auto& c : pod.spec.template_.containers) fail = fail || failImages.count(c.image.name);
  types::PodStatus s;
  s.node = node;
  for (const auto& c : pod.spec.template_.containers) {
    types::ContainerStatus cs;
    cs.name = c.name;
    cs.image = c.image.name;
    cs.id = pod.meta.selflink + "/" + c.name;
    cs.state = fail ? "error" : "started";
    cs.ready = !fail;
    s.containers.push_back(cs);
  }
  if (fail) {
    s.state = types::State::kError;
    s.message = "image pull failed: hollow node refuses the image";
  } else {
    s.state = types::State::kReady;
    s.ready = true;
    s.ip = "10." + std::to_string(128 + ((ipIndex >> 16) & 63)) + "." +
           std::to_string((ipIndex >> 8) & 255) + "." + std::to_string(ipIndex & 255);
  }
  return s;
}

HollowCluster::HollowCluster(std::shared_ptr<storage::Storage> store, const Clock& clock,
                             HollowOptions options)
    : store_(std::move(store)), clock_(clock), opt_(std::move(options)) {}

HollowCluster::~HollowCluster() { stop(); }

std::string HollowCluster::nodeName(int i) const { return opt_.prefix + std::to_string(i); }

std::string HollowCluster::statusValue(const std::string& node) const {
  types::Node n;
  n.meta.name = node;
  n.status.online = true;
  n.status.capacity = {opt_.cpu, opt_.ram, 0, opt_.pods};
  n.status.heartbeat = formatRfc3339(clock_.now());
  return types::toJson(n);
}

Status HollowCluster::registerAll() {
  auto listed =
      store_->list(std::string(keys::collectionPrefix(keys::Collection::kManifest)) + "node/");
  if (!listed.isOk()) return listed.status();
  std::vector<Op> ops;
  const auto now = clock_.steadyNow();
  for (int i = 0; i < opt_.nodes; ++i) {
    std::string name = nodeName(i);
    types::Node n;
    n.meta.name = name;
    n.meta.selflink = types::nodeSelflink(name);
    n.meta.created = formatRfc3339(clock_.now());
    n.info.hostname = name;
    n.info.os = "linux";
    n.info.architecture = "amd64";
    if (opt_.labels) n.info.labels = opt_.labels(i);
    ops.push_back(
        {Op::Type::kPut, *keys::nodeKey(name, keys::Part::kInfo), types::toJson(n), std::nullopt});
    ops.push_back({Op::Type::kPut, *keys::nodeKey(name, keys::Part::kStatus), statusValue(name),
                   std::nullopt});
    {
      std::lock_guard lock(mu_);
      nodes_[name].lastBeat = now;
    }
    if (ops.size() >= 2 * opt_.nodesPerTxn) {
      auto r = store_->txn(ops);
      if (!r.isOk()) return r.status();
      ops.clear();
    }
  }
  if (!ops.empty()) {
    auto r = store_->txn(ops);
    if (!r.isOk()) return r.status();
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& o : listed->items) {
      // Existing manifests (a restart): follow them too.
      std::string rest = o.key.substr(std::string("/manifest/node/").size());
      size_t slash = rest.find('/');
      if (slash == std::string::npos || rest.compare(slash + 1, 4, "pod/") != 0) continue;
      auto it = nodes_.find(rest.substr(0, slash));
      if (it != nodes_.end()) it->second.pods[rest.substr(slash + 5)].due = now + opt_.readyDelay;
    }
  }
  auto w = store_->watch("/manifest/node/", listed->revision);
  if (!w.isOk()) return w.status();
  watch_ = std::move(*w);
  return Status::ok();
}

Status HollowCluster::follow(std::chrono::milliseconds wait) {
  if (!watch_) return Status::ok();
  for (int round = 0; round < 100; ++round) {
    auto events = watch_->next(round == 0 ? wait : std::chrono::milliseconds(0));
    if (!events.isOk()) return events.status();
    if (events->empty()) break;
    std::lock_guard lock(mu_);
    const auto now = clock_.steadyNow();
    for (const auto& e : *events) {
      std::string rest = e.key.substr(std::string("/manifest/node/").size());
      size_t slash = rest.find('/');
      if (slash == std::string::npos || rest.compare(slash + 1, 4, "pod/") != 0) continue;
      auto node = nodes_.find(rest.substr(0, slash));
      if (node == nodes_.end()) continue;
      std::string sl = rest.substr(slash + 5);
      if (e.type == storage::Event::Type::kDelete) {
        node->second.pods.erase(sl);
      } else if (!node->second.pods.count(sl)) {
        node->second.pods[sl].due = now + opt_.readyDelay;
      }
    }
  }
  return Status::ok();
}

Status HollowCluster::step(std::chrono::milliseconds wait) {
  LB_RETURN_IF_ERROR(follow(wait));
  struct Report {
    std::string node;
    bool beat = false;
    std::vector<std::string> pods;
  };
  std::vector<Report> reports;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.steadyNow();
    for (auto& [name, n] : nodes_) {
      if (n.silent) continue;
      Report r{name, now - n.lastBeat >= opt_.heartbeatInterval, {}};
      for (auto& [sl, p] : n.pods) {
        if (!p.reported && p.due <= now) r.pods.push_back(sl);
      }
      if (r.beat || !r.pods.empty()) reports.push_back(std::move(r));
    }
  }
  // The ops of one node's report; pods that vanished are skipped.
  auto opsOf = [&](const Report& r, std::vector<Op>* ops,
                   std::vector<std::string>* done) -> Status {
    ops->push_back({Op::Type::kPut, *keys::nodeKey(r.node, keys::Part::kStatus),
                    statusValue(r.node), std::nullopt});
    for (const auto& sl : r.pods) {
      auto key = *keys::objectKey(keys::Collection::kPod, sl);
      auto o = store_->get(key);
      if (!o.isOk()) {
        if (o.status().code() == Code::kNotFound) continue;
        return o.status();
      }
      types::Pod pod;
      if (!types::fromJson(o->value, &pod).isOk() || pod.status.node != r.node) continue;
      uint32_t ip;
      {
        std::lock_guard lock(mu_);
        ip = nextIp_++;
      }
      pod.status = hollowPodStatus(pod, r.node, ip, opt_.failImages);
      pod.meta.revision = 0;
      ops->push_back({Op::Type::kPut, key, types::toJson(pod), o->revision});
      done->push_back(sl);
    }
    return Status::ok();
  };
  auto commit = [&](const std::vector<Report>& group) -> Status {
    std::vector<Op> ops;
    std::vector<std::pair<std::string, std::string>> done;  // node, pod
    for (const auto& r : group) {
      std::vector<std::string> pods;
      LB_RETURN_IF_ERROR(opsOf(r, &ops, &pods));
      for (auto& p : pods) done.push_back({r.node, std::move(p)});
    }
    auto rev = store_->txn(ops);
    if (!rev.isOk()) return rev.status();
    std::lock_guard lock(mu_);
    const auto now = clock_.steadyNow();
    for (const auto& r : group) nodes_[r.node].lastBeat = now;
    for (const auto& [node, sl] : done) {
      auto it = nodes_[node].pods.find(sl);
      if (it != nodes_[node].pods.end() && !it->second.reported) {
        it->second.reported = true;
        reported_++;
      }
    }
    return Status::ok();
  };
  for (size_t i = 0; i < reports.size(); i += opt_.nodesPerTxn) {
    std::vector<Report> group(reports.begin() + i,
                              reports.begin() + std::min(reports.size(), i + opt_.nodesPerTxn));
    if (commit(group).isOk()) continue;
    // A pod changed under us (or was deleted): node by node, next step retries.
    for (const auto& r : group) (void)commit({r});
  }
  return Status::ok();
}

void HollowCluster::start() {
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      Status s = step(std::chrono::milliseconds(20));
      if (!s.isOk()) {
        spdlog::warn("hollow nodes: {}", s.message());
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
}

void HollowCluster::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void HollowCluster::setSilent(const std::string& node, bool silent) {
  std::lock_guard lock(mu_);
  nodes_[node].silent = silent;
}

void HollowCluster::setFailImages(std::set<std::string> images) {
  std::lock_guard lock(mu_);
  opt_.failImages = std::move(images);
}

size_t HollowCluster::podsKnown() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [name, node] : nodes_) n += node.pods.size();
  return n;
}

std::map<std::string, std::set<std::string>> HollowCluster::podsByNode() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [name, n] : nodes_) {
    for (const auto& [sl, p] : n.pods) out[name].insert(sl);
  }
  return out;
}

}  // namespace lb::controller::testing
