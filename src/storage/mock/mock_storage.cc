#include "storage/mock/mock_storage.h"

#include <deque>
#include <map>
#include <mutex>

#include "storage/watch_hub.h"

namespace lb::storage::mock {
namespace {

using ObjectMap = std::map<std::string, Object, std::less<>>;

// Stages a txn's writes over the map so a failed condition leaves it untouched.
class Overlay : public TxnTarget {
 public:
  explicit Overlay(const ObjectMap& base) : base_(base) {}
  StatusOr<std::optional<Object>> load(const std::string& key) override {
    if (auto it = staged_.find(key); it != staged_.end()) return it->second;
    if (auto it = base_.find(key); it != base_.end()) return std::optional<Object>(it->second);
    return std::optional<Object>();
  }
  Status store(const Object& object) override {
    staged_[object.key] = object;
    return Status::ok();
  }
  Status erase(const std::string& key) override {
    staged_[key] = std::nullopt;
    return Status::ok();
  }
  void commit(ObjectMap& target) {
    for (auto& [key, obj] : staged_) {
      if (obj) {
        target[key] = std::move(*obj);
      } else {
        target.erase(key);
      }
    }
  }

 private:
  const ObjectMap& base_;
  std::map<std::string, std::optional<Object>> staged_;
};

class MockStorage : public Storage {
 public:
  explicit MockStorage(const Options& options)
      : historySize_(std::max<int64_t>(1, options.historySize)),
        hub_(static_cast<size_t>(std::max<int64_t>(historySize_, 1024))) {}
  ~MockStorage() override { hub_.failAll(unavailable("storage closed")); }

  StatusOr<Info> info() override {
    std::lock_guard lock(mu_);
    Info i;
    i.driver = "mock";
    i.revision = revision_;
    i.oldestRevision = compacted_;
    i.keys = data_.size();
    return i;
  }

  StatusOr<Object> get(std::string_view key) override {
    LB_RETURN_IF_ERROR(validateKey(key));
    std::lock_guard lock(mu_);
    auto it = data_.find(key);
    if (it == data_.end()) return notFound("key '" + std::string(key) + "' not found");
    return it->second;
  }

  StatusOr<ListResult> list(std::string_view prefix) override {
    std::lock_guard lock(mu_);
    ListResult r;
    r.revision = revision_;
    for (auto it = data_.lower_bound(prefix);
         it != data_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      r.items.push_back(it->second);
    }
    return r;
  }

  StatusOr<int64_t> txn(const std::vector<Op>& ops) override {
    LB_RETURN_IF_ERROR(validateOps(ops));
    std::lock_guard lock(mu_);
    Overlay overlay(data_);
    auto events = applyTxn(ops, revision_ + 1, overlay);
    if (!events) return events.status();
    overlay.commit(data_);
    ++revision_;
    for (const auto& ev : *events) history_.push_back(ev);
    while (!history_.empty() && history_.front().revision <= revision_ - historySize_) {
      compacted_ = history_.front().revision;
      history_.pop_front();
    }
    hub_.publish(*events);
    return revision_;
  }

  StatusOr<std::unique_ptr<WatchStream>> watch(std::string_view prefix,
                                               int64_t afterRevision) override {
    std::lock_guard lock(mu_);
    if (afterRevision < compacted_) {
      return Status(Code::kOutOfRange, "revision " + std::to_string(afterRevision) +
                                           " was compacted (oldest is " +
                                           std::to_string(compacted_) + ")");
    }
    std::vector<Event> replay;
    for (const auto& ev : history_) {
      if (ev.revision > afterRevision) replay.push_back(ev);
    }
    return hub_.add(std::string(prefix), afterRevision, replay);
  }

 private:
  const int64_t historySize_;
  std::mutex mu_;
  ObjectMap data_;
  int64_t revision_ = 0;
  int64_t compacted_ = 0;  // events at or below this revision are gone
  std::deque<Event> history_;
  WatchHub hub_;
};

}  // namespace

StatusOr<std::unique_ptr<Storage>> open(const Options& options) {
  return std::unique_ptr<Storage>(std::make_unique<MockStorage>(options));
}

}  // namespace lb::storage::mock
