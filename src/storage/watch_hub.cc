#include "storage/watch_hub.h"

#include <algorithm>

namespace lb::storage {

Status validateKey(std::string_view key) {
  if (key.empty() || key.front() != '/') {
    return invalidArgument("key '" + std::string(key) + "' must start with '/'");
  }
  if (key.size() > kMaxKeyBytes) {
    return {Code::kTooLarge, "key longer than " + std::to_string(kMaxKeyBytes) + " bytes"};
  }
  for (char ch : key) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f) return invalidArgument("key contains a control character");
  }
  return Status::ok();
}

Status validateOps(const std::vector<Op>& ops) {
  if (ops.empty()) return invalidArgument("transaction has no operations");
  for (const auto& op : ops) {
    LB_RETURN_IF_ERROR(validateKey(op.key));
    if (op.value.size() > kMaxValueBytes) {
      return {Code::kTooLarge, "value of '" + op.key + "' is " + std::to_string(op.value.size()) +
                                   " bytes, over the " + std::to_string(kMaxValueBytes) +
                                   " byte limit"};
    }
    if (op.expect && *op.expect < 0) {
      return invalidArgument("negative expected revision for '" + op.key + "'");
    }
  }
  return Status::ok();
}

StatusOr<std::vector<Event>> applyTxn(const std::vector<Op>& ops, int64_t revision,
                                      TxnTarget& target) {
  std::vector<Event> events;
  events.reserve(ops.size());
  for (const auto& op : ops) {
    auto cur = target.load(op.key);
    if (!cur) return cur.status();
    const std::optional<Object>& existing = *cur;
    if (op.expect) {
      if (*op.expect == 0 && existing) {
        return alreadyExists("key '" + op.key + "' already exists");
      }
      if (*op.expect > 0) {
        if (!existing) return notFound("key '" + op.key + "' not found");
        if (existing->revision != *op.expect) {
          return conflict("key '" + op.key + "' is at revision " +
                          std::to_string(existing->revision) + ", expected " +
                          std::to_string(*op.expect));
        }
      }
    }
    Event ev;
    ev.key = op.key;
    ev.revision = revision;
    if (op.type == Op::Type::kPut) {
      Object obj{op.key, op.value, revision, existing ? existing->createRevision : revision};
      LB_RETURN_IF_ERROR(target.store(obj));
      ev.type = Event::Type::kPut;
      ev.value = op.value;
    } else {
      if (!existing) return notFound("key '" + op.key + "' not found");
      LB_RETURN_IF_ERROR(target.erase(op.key));
      ev.type = Event::Type::kDelete;
    }
    events.push_back(std::move(ev));
  }
  return events;
}

WatchQueue::WatchQueue(std::string prefix, int64_t afterRevision, size_t maxPending,
                       size_t maxPendingBytes)
    : prefix_(std::move(prefix)),
      after_(afterRevision),
      maxPending_(maxPending),
      maxPendingBytes_(maxPendingBytes) {}

bool WatchQueue::push(const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  if (error_) return false;
  bool added = false;
  for (const auto& ev : events) {
    if (ev.revision <= after_ || ev.key.compare(0, prefix_.size(), prefix_) != 0) continue;
    pending_.push_back(ev);
    pendingBytes_ += ev.key.size() + ev.value.size();
    added = true;
  }
  if (pending_.size() > maxPending_ || pendingBytes_ > maxPendingBytes_) {
    // A reader this far behind would be handed history it can no longer
    // resume from; make it re-list instead of growing without bound.
    std::string behind = pending_.size() > maxPending_ ? std::to_string(maxPending_) + " events"
                                                       : std::to_string(maxPendingBytes_) + " bytes";
    pending_.clear();
    pendingBytes_ = 0;
    error_ = Status(Code::kOutOfRange, "watch fell behind by more than " + behind + "; re-list");
    cv_.notify_all();
    return false;
  }
  if (added) cv_.notify_all();
  return true;
}

void WatchQueue::fail(const Status& status) {
  std::lock_guard lock(mu_);
  if (error_) return;
  if (status.code() == Code::kOutOfRange) {
    pending_.clear();
    pendingBytes_ = 0;
  }
  error_ = status;
  cv_.notify_all();
}

void WatchQueue::cancel() { fail(Status(Code::kUnavailable, "watch cancelled")); }

bool WatchQueue::finished() {
  std::lock_guard lock(mu_);
  return error_.has_value();
}

StatusOr<std::vector<Event>> WatchQueue::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || error_; });
  if (!pending_.empty()) {
    std::vector<Event> out;
    out.swap(pending_);
    pendingBytes_ = 0;
    return out;
  }
  if (error_) return *error_;
  return std::vector<Event>{};
}

namespace {

// The caller's handle; the hub only keeps a weak reference, so dropping the
// handle is all it takes to unregister.
class HubStream : public WatchStream {
 public:
  explicit HubStream(std::shared_ptr<WatchQueue> q) : q_(std::move(q)) {}
  ~HubStream() override { q_->cancel(); }
  StatusOr<std::vector<Event>> next(std::chrono::milliseconds timeout) override {
    return q_->next(timeout);
  }
  void cancel() override { q_->cancel(); }

 private:
  std::shared_ptr<WatchQueue> q_;
};

}  // namespace

std::unique_ptr<WatchStream> WatchHub::add(std::string prefix, int64_t afterRevision,
                                           const std::vector<Event>& replay) {
  auto q = std::make_shared<WatchQueue>(std::move(prefix), afterRevision, maxPending_, maxPendingBytes_);
  q->push(replay);
  std::lock_guard lock(mu_);
  queues_.push_back(q);
  return std::make_unique<HubStream>(std::move(q));
}

void WatchHub::publish(const std::vector<Event>& events) {
  if (events.empty()) return;
  std::lock_guard lock(mu_);
  std::erase_if(queues_, [&](const std::weak_ptr<WatchQueue>& w) {
    auto q = w.lock();
    return !q || !q->push(events);
  });
}

void WatchHub::failAll(const Status& status) {
  std::lock_guard lock(mu_);
  for (auto& w : queues_) {
    if (auto q = w.lock()) q->fail(status);
  }
  queues_.clear();
}

size_t WatchHub::size() {
  std::lock_guard lock(mu_);
  std::erase_if(queues_, [](const std::weak_ptr<WatchQueue>& w) {
    auto q = w.lock();
    return !q || q->finished();
  });
  return queues_.size();
}

}  // namespace lb::storage
