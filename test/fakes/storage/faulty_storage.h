#pragma once

// A Storage that forwards to a real one (usually the mock) and fails chosen
// calls on demand — for testing how callers handle store errors:
//
//   FaultyStorage store(std::move(mock));
//   store.failNext(FaultyStorage::Method::kTxn, lb::unavailable("injected"), 2);

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

#include "lastbackend/storage/storage.h"

namespace lb::storage::testing {

class FaultyStorage : public Storage {
 public:
  enum class Method { kInfo, kGet, kList, kTxn, kWatch, kCount };

  explicit FaultyStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}

  // The next `times` calls of `method` return `status` without reaching the store.
  void failNext(Method method, Status status, int times = 1) {
    std::lock_guard lock(mu_);
    faults_[static_cast<size_t>(method)] = {std::move(status), times};
  }
  // Calls of `method` that reached this wrapper (failed ones included).
  int calls(Method method) const { return calls_[static_cast<size_t>(method)].load(); }
  Storage& inner() { return *inner_; }

  StatusOr<Info> info() override {
    if (auto s = fault(Method::kInfo)) return *s;
    return inner_->info();
  }
  StatusOr<Object> get(std::string_view key) override {
    if (auto s = fault(Method::kGet)) return *s;
    return inner_->get(key);
  }
  StatusOr<ListResult> list(std::string_view prefix) override {
    if (auto s = fault(Method::kList)) return *s;
    return inner_->list(prefix);
  }
  StatusOr<int64_t> txn(const std::vector<Op>& ops) override {
    if (auto s = fault(Method::kTxn)) return *s;
    return inner_->txn(ops);
  }
  StatusOr<std::unique_ptr<WatchStream>> watch(std::string_view prefix,
                                               int64_t afterRevision) override {
    if (auto s = fault(Method::kWatch)) return *s;
    return inner_->watch(prefix, afterRevision);
  }

 private:
  struct Fault {
    Status status;
    int remaining = 0;
  };

  std::optional<Status> fault(Method m) {
    auto i = static_cast<size_t>(m);
    calls_[i]++;
    std::lock_guard lock(mu_);
    if (faults_[i].remaining <= 0) return std::nullopt;
    faults_[i].remaining--;
    return faults_[i].status;
  }

  std::unique_ptr<Storage> inner_;
  std::mutex mu_;
  std::array<Fault, static_cast<size_t>(Method::kCount)> faults_{};
  std::array<std::atomic<int>, static_cast<size_t>(Method::kCount)> calls_{};
};

}  // namespace lb::storage::testing
