#include "controller/batch.h"

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"

namespace lb::controller {

using storage::Op;

void Batch::addOp(Op op) {
  auto it = opIndex_.find(op.key);
  if (it == opIndex_.end()) {
    opIndex_[op.key] = ops_.size();
    ops_.emplace_back(std::move(op));
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

void Batch::stage(const std::string& key, std::optional<std::string> value,
                  std::optional<int64_t> expect) {
  Op op;
  op.key = key;
  op.expect = expect;
  if (value) {
    op.type = Op::Type::kPut;
    op.value = std::move(*value);
  } else {
    op.type = Op::Type::kDelete;
  }
  const bool deleted = !value.has_value();
  addOp(std::move(op));
  touched_.insert(key);
  cache_.setRev(key, kPendingRev, deleted);
}

void Batch::put(const std::string& key, std::string value) {
  auto rev = cache_.revOf(key);
  stage(key, std::move(value), rev ? (*rev == kPendingRev ? std::optional<int64_t>() : rev) : 0);
}

void Batch::remove(const std::string& key, bool conditional) {
  auto rev = cache_.revOf(key);
  if (!rev) return;  // not in the cache: nothing to delete
  stage(key, std::nullopt, conditional && *rev != kPendingRev ? rev : std::nullopt);
  cache_.apply(detail::classify(key), key, std::nullopt);
}

void Batch::reset() {
  podJson_.clear();
  ops_.clear();
  opIndex_.clear();
  touched_.clear();
  workKeys_.clear();
  batchOps_ = 0;
}

void Batch::count(const std::vector<Op>& ops) {
  std::lock_guard lock(counters_.mu);
  counters_.stats.txns++;
  counters_.stats.ops += ops.size();
  for (const auto& op : ops) {
    if (op.key.compare(0, 5, "/pod/") != 0) continue;
    if (op.type == Op::Type::kDelete) counters_.stats.podsDeleted++;
    if (op.type == Op::Type::kPut && op.expect == 0) counters_.stats.podsCreated++;
  }
}

bool Batch::flush(bool leader) {
  IpamState& ipam = cache_.ipam();
  if (!leader) {
    // Stepped down with writes staged: drop them and the cache they were
    // applied to; the next leadership re-lists.
    if (!ops_.empty() || ipam.dirty)
      spdlog::warn("controller: lost the lease; dropping {} staged writes", batchOps_);
    reset();
    ipam.dirty = false;
    return false;
  }
  std::vector<Op> ops;
  ops.reserve(ops_.size() + 1);
  for (auto& op : ops_) {
    if (op) ops.push_back(std::move(*op));
  }
  const std::string ipamKey = storage::keys::ipamKey();
  if (ipam.dirty) {
    ops.push_back({Op::Type::kPut, ipamKey, ipam.ipam.toJson(), ipam.rev});
    touched_.insert(ipamKey);
  }
  if (ops.empty()) {
    reset();
    return true;
  }
  auto rev = store_.txn(ops);
  if (rev.isOk()) {
    for (const auto& op : ops) cache_.setRev(op.key, *rev, op.type == Op::Type::kDelete);
    if (ipam.dirty) ipam.rev = *rev;
    ipam.dirty = false;
    count(ops);
    for (const auto& k : workKeys_) queue_.succeeded(k);
    reset();
    return true;
  }
  {
    std::lock_guard lock(counters_.mu);
    counters_.stats.conflicts++;
  }
  spdlog::debug("controller: batch of {} ops for {} keys failed: {}", ops.size(), workKeys_.size(),
                rev.status().message());
  std::vector<std::string> work = std::move(workKeys_);
  std::vector<std::string> touched(touched_.begin(), touched_.end());
  ipam.dirty = false;
  reset();
  const bool fresh = refresh(touched);
  for (const auto& k : work) {
    if (work.size() > 1) {
      queue_.retrySolo(k);
    } else {
      queue_.retryLater(k, clock_.steadyNow());
    }
  }
  return fresh;
}

// Re-reads keys whose staged writes did not land.
bool Batch::refresh(const std::vector<std::string>& touched) {
  auto info = store_.info();
  if (!info.isOk()) return false;
  for (const auto& key : touched) {
    auto o = store_.get(key);
    if (o.isOk()) {
      cache_.applyRemote(key, o->value, o->revision, false, true);
    } else if (o.status().code() == Code::kNotFound) {
      cache_.applyRemote(key, "", info->revision, true, true);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace lb::controller
