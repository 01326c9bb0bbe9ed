#include "controller/core.h"

#include <algorithm>

#include "lastbackend/common/logging.h"

namespace lb::controller {

Core::Core(std::shared_ptr<storage::Storage> store, const Options& options, const Elector& elector,
           Ipam emptyIpam, const LoopFactory& makeLoops)
    : store_(std::move(store)),
      opt_(options),
      clock_(*options.clock),
      elector_(elector),
      cache_(options, std::move(emptyIpam)),
      batch_(*store_, clock_, cache_, queue_, counters_),
      rng_(std::random_device{}()),
      ctx_{opt_, clock_, cache_, queue_, batch_, podJson_, rng_},
      loops_(makeLoops(ctx_)) {
  for (const auto& loop : loops_) {
    for (auto kind : loop->kinds()) cache_.subscribe(kind, loop.get());
    const char p = loop->prefix();
    if (p == 0) continue;
    // Two loops on one prefix is a programming error.
    const auto slot = static_cast<unsigned char>(p);
    if (slot >= std::size(byPrefix_) || byPrefix_[slot]) std::abort();
    byPrefix_[slot] = loop.get();
  }
}

Core::~Core() = default;

Stats Core::stats() const {
  std::lock_guard lock(counters_.mu);
  return counters_.stats;
}

Status Core::runOnce(std::chrono::milliseconds wait, size_t maxKeys) {
  if (!elector_.isLeader()) {
    if (synced_) dropCache();
    return Status::ok();
  }
  if (synced_ && syncedLeadership_ != elector_.leadership()) dropCache();
  if (!synced_) LB_RETURN_IF_ERROR(sync());
  LB_RETURN_IF_ERROR(pump(wait));
  tick();
  size_t processed = 0;
  while (!queue_.empty() && processed < maxKeys) {
    if (!elector_.isLeader()) break;  // stepped down: write nothing more
    std::string key = queue_.pop();
    processed++;
    bool solo = queue_.takeSolo(key);
    if (solo) flush();
    reconcile(key);
    if (solo || batch_.size() >= opt_.maxBatchOps) flush();
    if (processed % 512 == 0) {
      flush();
      LB_RETURN_IF_ERROR(pump(std::chrono::milliseconds(0)));
    }
  }
  flush();
  {
    std::lock_guard lock(counters_.mu);
    counters_.stats.queue = queue_.size();
  }
  if (!synced_ && elector_.isLeader()) return unavailable("cache lost its store; re-listing");
  return Status::ok();
}

std::chrono::milliseconds Core::idleWait(std::chrono::milliseconds cap) const {
  using std::chrono::milliseconds;
  if (!synced_ || !queue_.empty()) return milliseconds(0);
  auto due = std::min(queue_.nextDue(), lastResync_ + opt_.resyncInterval);
  for (const auto& loop : loops_) due = std::min(due, loop->nextTick());
  const auto now = clock_.steadyNow();
  if (due <= now) return milliseconds(0);
  if (due - now >= cap) return cap;
  // Rounded up: waking a moment early would only find nothing due yet.
  return std::chrono::ceil<milliseconds>(due - now);
}

void Core::tick() {
  const auto now = clock_.steadyNow();
  for (const auto& loop : loops_) loop->tick(now);
  if (now - lastResync_ >= opt_.resyncInterval) {
    lastResync_ = now;
    resyncNow();
  }
  queue_.promoteDue(now);
}

void Core::resyncNow() {
  for (const auto& loop : loops_) loop->resync();
}

void Core::flush() {
  if (!batch_.flush(elector_.isLeader())) synced_ = false;
}

void Core::reconcile(const std::string& key) {
  queue_.setCurrent(key);
  batch_.beginKey(key);
  {
    std::lock_guard lock(counters_.mu);
    counters_.stats.reconciles++;
  }
  loops::Loop* loop =
      key.size() >= 2 && key[1] == '/' && static_cast<unsigned char>(key[0]) < std::size(byPrefix_)
          ? byPrefix_[static_cast<unsigned char>(key[0])]
          : nullptr;
  if (loop) loop->reconcile(key.substr(2));
  queue_.clearCurrent();
}

void Core::dropCache() {
  watch_.reset();
  cache_.clear();
  for (const auto& loop : loops_) loop->clear();
  queue_.clear();
  batch_.reset();
  synced_ = false;
}

Status Core::sync() {
  dropCache();
  auto list = store_->list("/");
  if (!list.isOk()) return list.status().withContext("listing the store");
  queue_.setLoading(true);
  for (const auto& o : list->items) cache_.applyRemote(o.key, o.value, o.revision, false, true);
  queue_.setLoading(false);
  watchRev_ = list->revision;
  auto w = store_->watch("/", watchRev_);
  if (!w.isOk()) return w.status().withContext("watching the store");
  watch_ = std::move(*w);
  synced_ = true;
  syncedLeadership_ = elector_.leadership();
  lastResync_ = clock_.steadyNow();
  {
    std::lock_guard lock(counters_.mu);
    counters_.stats.relists++;
  }
  spdlog::info("controller: cache loaded at revision {} ({} services, {} pods, {} nodes)",
               watchRev_, cache_.services().size(), cache_.pods().size(), cache_.nodeInfo().size());
  resyncNow();
  return Status::ok();
}

Status Core::pump(std::chrono::milliseconds wait) {
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
      cache_.applyRemote(e.key, e.value, e.revision, e.type == storage::Event::Type::kDelete,
                         false);
      watchRev_ = std::max(watchRev_, e.revision);
    }
  }
  if (++pumps_ % 64 == 0) cache_.pruneTombstones(watchRev_);
  return Status::ok();
}

}  // namespace lb::controller
