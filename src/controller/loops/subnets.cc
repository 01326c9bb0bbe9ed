#include "controller/loops/subnets.h"

#include <vector>

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller::loops {

namespace keys = storage::keys;
using detail::Kind;

namespace {

// The overlay the node agents build from the subnets (the one CNI driver).
constexpr char kOverlay[] = "vxlan";
// Owner prefix of a node's second subnet; ':' is never in a node name.
constexpr char kStray[] = "stray:";
// The work key of subnets without a node and manifests without a subnet.
constexpr std::string_view kOrphans = "";

std::optional<Ipam> makePool(const Options& o) {
  auto pool = Ipam::createBlocks(o.podsCidr, o.nodeSubnetSize);
  if (pool.isOk()) return std::move(*pool);
  spdlog::error("controller: no pod subnets: {}", pool.status().message());
  return std::nullopt;
}

}  // namespace

SubnetsLoop::SubnetsLoop(Context& ctx) : ctx_(ctx), pool_(makePool(ctx.options)) {}

std::vector<Kind> SubnetsLoop::kinds() const {
  return {Kind::kNodeInfo, Kind::kSubnet, Kind::kSubnetManifest};
}

void SubnetsLoop::clear() {
  pool_ = makePool(ctx_.options);
  waiting_.clear();
}

// Keeps the pool equal to the cached subnets: what the store holds is
// taken, whoever wrote it.
void SubnetsLoop::track(const Change& c) {
  const std::string cidr(c.id);
  auto holder = pool_->ownerOf(cidr);
  if (!c.present) {
    if (holder) pool_->release(*holder);
    return;
  }
  const std::string node(c.newNode);
  if (holder && *holder == node) return;
  if (holder) pool_->release(*holder);  // now another node's: the old holder is queued
  auto mine = pool_->addressOf(node);
  // False for a subnet outside the range (the pods CIDR changed): its node
  // key drops it and leases a new one.
  (void)pool_->adopt(mine && *mine != cidr ? kStray + cidr : node, cidr);
}

void SubnetsLoop::onChange(const Change& c) {
  if (!pool_) return;
  switch (c.kind) {
    case Kind::kNodeInfo:
      ctx_.queue.enqueue('b', c.id);
      return;
    case Kind::kSubnet:
      track(c);
      if (c.existed) ctx_.queue.enqueue('b', c.node);
      if (c.present) ctx_.queue.enqueue('b', c.newNode);
      if (!c.present) {
        // A subnet freed: the nodes that found none try again.
        for (const auto& n : waiting_) ctx_.queue.enqueue('b', n);
        if (ctx_.cache.subnetManifests().count(std::string(c.id)))
          ctx_.queue.enqueue('b', kOrphans);
      }
      return;
    case Kind::kSubnetManifest: {
      auto s = ctx_.cache.subnets().find(std::string(c.id));
      ctx_.queue.enqueue('b', s == ctx_.cache.subnets().end() ? kOrphans : s->second.spec.node);
      return;
    }
    default:
      return;
  }
}

void SubnetsLoop::resync() {
  if (!pool_) return;
  for (const auto& [name, n] : ctx_.cache.nodeInfo()) ctx_.queue.enqueue('b', name);
  for (const auto& [node, cidrs] : ctx_.cache.subnetsByNode()) ctx_.queue.enqueue('b', node);
  for (const auto& [cidr, m] : ctx_.cache.subnetManifests()) {
    if (!ctx_.cache.subnets().count(cidr)) {
      ctx_.queue.enqueue('b', kOrphans);
      break;
    }
  }
}

// The manifest first: without its subnet it would be an orphan meanwhile.
void SubnetsLoop::removeSubnet(const std::string& cidr) {
  ctx_.batch.remove(*keys::clusterSubnetManifestKey(cidr), false);
  ctx_.batch.remove(*keys::subnetKey(cidr), true);
}

void SubnetsLoop::releaseAll(const std::string& node) {
  waiting_.erase(node);
  auto held = ctx_.cache.subnetsByNode().find(node);
  if (held == ctx_.cache.subnetsByNode().end()) return;
  const std::vector<std::string> cidrs(held->second.begin(), held->second.end());
  for (const auto& cidr : cidrs) {
    spdlog::info("controller: node '{}' is gone; its pod subnet {} is released", node, cidr);
    removeSubnet(cidr);
  }
}

void SubnetsLoop::dropOrphanManifests() {
  std::vector<std::string> orphans;
  for (const auto& [cidr, m] : ctx_.cache.subnetManifests())
    if (!ctx_.cache.subnets().count(cidr)) orphans.push_back(cidr);
  for (const auto& cidr : orphans) ctx_.batch.remove(*keys::clusterSubnetManifestKey(cidr), false);
}

// The one subnet `node` keeps: the one it holds (any other it holds goes),
// else a new one; empty with `problem` set when the range has none left.
std::string SubnetsLoop::lease(const std::string& node, std::string* problem) {
  std::vector<std::string> held;
  if (auto it = ctx_.cache.subnetsByNode().find(node); it != ctx_.cache.subnetsByNode().end())
    held.assign(it->second.begin(), it->second.end());
  std::string keep;
  auto mine = pool_->addressOf(node);
  for (const auto& cidr : held) {
    if (mine && cidr == *mine) keep = cidr;
  }
  // Its own lost (removed by hand): a second one it holds becomes its own.
  for (const auto& cidr : held) {
    if (!keep.empty()) break;
    if (pool_->ownerOf(cidr) == kStray + cidr && pool_->release(kStray + cidr) &&
        pool_->adopt(node, cidr))
      keep = cidr;
  }
  for (const auto& cidr : held) {
    if (cidr == keep) continue;
    spdlog::warn("controller: node '{}' holds a second pod subnet {}; releasing it", node, cidr);
    removeSubnet(cidr);
  }
  if (!keep.empty()) return keep;
  auto got = pool_->allocate(node);
  if (!got.isOk()) {
    *problem = got.status().message();
    return "";
  }
  if (ctx_.cache.subnets().count(*got)) {  // the pool holds every cached subnet: a bug
    pool_->release(node);
    *problem = "pod subnet " + *got + " is taken although the allocator offered it";
    spdlog::error("controller: node '{}': {}", node, *problem);
    return "";
  }
  spdlog::info("controller: node '{}' leases pod subnet {}", node, *got);
  return *got;
}

void SubnetsLoop::writeSubnet(const std::string& node, const std::string& cidr,
                              const types::NodeInfo& info) {
  auto& subnets = ctx_.cache.subnets();
  auto found = subnets.find(cidr);
  types::Subnet want;
  if (found != subnets.end()) {
    want = found->second;
  } else {
    want.meta.name = cidr;
    want.meta.selflink = cidr;
    want.meta.created = ctx_.now();
  }
  want.spec.cidr = cidr;
  want.spec.node = node;
  want.spec.type = kOverlay;
  want.spec.addr = info.internalIp;
  want.spec.iface = info.internalIface;
  want.status.state = info.internalIp.empty() ? types::State::kProvision : types::State::kReady;
  want.status.message = info.internalIp.empty() ? "the node reports no internal IP" : "";
  if (found == subnets.end() ||
      !(found->second.spec == want.spec && found->second.status == want.status)) {
    want.meta.updated = ctx_.now();
    ctx_.batch.putObject(*keys::subnetKey(cidr), want);  // new: on the condition it is absent
    ctx_.cache.setSubnet(cidr, want);
  }
  std::string manifest = encodeObject(subnets.at(cidr));
  auto& manifests = ctx_.cache.subnetManifests();
  auto have = manifests.find(cidr);
  if (have != manifests.end() && have->second == manifest) return;
  manifests[cidr] = manifest;
  ctx_.batch.put(*keys::clusterSubnetManifestKey(cidr), std::move(manifest));
}

// The node's spec.network, in its info key (compare-and-swap against a
// registration that comes meanwhile).
void SubnetsLoop::writeNodeNetwork(const std::string& node, types::NodeNetwork want) {
  const types::Node& current = ctx_.cache.nodeInfo().at(node);
  if (current.spec.network == want) return;
  if (!want.message.empty())
    spdlog::warn("controller: node '{}' is not ready for pods: {}", node, want.message);
  types::Node next = current;
  next.spec.network = std::move(want);
  next.meta.updated = ctx_.now();
  ctx_.batch.putObject(*keys::nodeKey(node, keys::Part::kInfo), next);
  ctx_.cache.setNodeInfo(node, std::move(next));
}

void SubnetsLoop::reconcile(const std::string& node) {
  if (!pool_) return;
  auto info = ctx_.cache.nodeInfo().find(node);
  if (node == kOrphans || info == ctx_.cache.nodeInfo().end()) {
    releaseAll(node);  // removed, or (no node) subnets naming nobody
    if (node == kOrphans) dropOrphanManifests();
    return;
  }
  std::string problem;
  const std::string cidr = lease(node, &problem);
  types::NodeNetwork want;
  if (cidr.empty()) {
    waiting_.insert(node);
    want.message = "no pod subnet: " + problem;
  } else {
    waiting_.erase(node);
    want.cidr = cidr;
    writeSubnet(node, cidr, info->second.info);
  }
  writeNodeNetwork(node, std::move(want));
}

}  // namespace lb::controller::loops
