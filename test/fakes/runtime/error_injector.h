#pragma once

// Error injection shared by the runtime fakes: a test arms a Status for one
// operation, for the next N calls or until cleared, and the fake returns it
// instead of doing the work. Thread-safe.

#include <map>
#include <mutex>
#include <string>

#include "lastbackend/common/status.h"

namespace lb::fakes {

class ErrorInjector {
 public:
  static constexpr int kForever = -1;

  // The next `times` calls of `op` ("create", "pull", "writeFiles"...) fail with `status`.
  void fail(const std::string& op, Status status, int times = 1) {
    std::lock_guard lock(mu_);
    armed_[op] = {std::move(status), times};
  }
  void clear(const std::string& op) {
    std::lock_guard lock(mu_);
    armed_.erase(op);
  }
  void clearAll() {
    std::lock_guard lock(mu_);
    armed_.clear();
  }
  // Counts the call and returns the armed error, or OK.
  Status check(const std::string& op) {
    std::lock_guard lock(mu_);
    ++calls_[op];
    auto it = armed_.find(op);
    if (it == armed_.end()) return Status::ok();
    Status s = it->second.status;
    if (it->second.times != kForever && --it->second.times <= 0) armed_.erase(it);
    return s;
  }
  int calls(const std::string& op) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }

 private:
  struct Armed {
    Status status;
    int times = 1;
  };
  mutable std::mutex mu_;
  std::map<std::string, Armed> armed_;
  std::map<std::string, int> calls_;
};

}  // namespace lb::fakes
