#pragma once

// A cancellation token for the blocking streams of the runtimes (container
// logs with follow, events, image pulls). The caller keeps it; another thread
// calls cancel() to end the stream, and the blocked call returns OK promptly.
// A driver registers what unblocks it (closing its socket, waking a condition
// variable) with onCancel(); the action runs at once if already cancelled.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace lb::runtime {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Idempotent and thread-safe; runs every registered action once.
  void cancel() {
    std::map<uint64_t, std::function<void()>> actions;
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      running_ = true;
      actions.swap(actions_);
    }
    for (auto& [id, fn] : actions) fn();
    std::lock_guard lock(mu_);
    running_ = false;
    done_.notify_all();
  }

  bool cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

  // Registers an action; returns an id for remove(). When already cancelled
  // the action runs now (on this thread) and 0 is returned.
  uint64_t onCancel(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      if (!cancelled_) {
        uint64_t id = ++next_;
        actions_.emplace(id, std::move(fn));
        return id;
      }
    }
    fn();
    return 0;
  }

  // Unregisters an action (no-op for 0 or an unknown id). When it returns
  // the action is neither running nor will it run, so it may capture
  // references to the caller's stack. Must not be called from an action.
  void remove(uint64_t id) {
    std::unique_lock lock(mu_);
    actions_.erase(id);
    done_.wait(lock, [&] { return !running_; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable done_;
  bool cancelled_ = false;
  bool running_ = false;  // cancel() is running the actions
  uint64_t next_ = 0;
  std::map<uint64_t, std::function<void()>> actions_;
};

// RAII registration: removes the action when the scope ends.
class CancelRegistration {
 public:
  CancelRegistration(CancelToken* token, std::function<void()> fn) : token_(token) {
    if (token_) id_ = token_->onCancel(std::move(fn));
  }
  ~CancelRegistration() {
    if (token_) token_->remove(id_);
  }
  CancelRegistration(const CancelRegistration&) = delete;
  CancelRegistration& operator=(const CancelRegistration&) = delete;

 private:
  CancelToken* token_ = nullptr;
  uint64_t id_ = 0;
};

}  // namespace lb::runtime
