#pragma once

// The messages a WebSocket peer sent that wait to be read, shared by the
// server's duplex handlers and the client: bounded, so a peer that sends
// faster than they are taken makes the reader pause (no more reads off the
// socket) rather than grow memory; taking one makes room again.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace lb::http {

class Inbox {
 public:
  explicit Inbox(size_t capacity) : capacity_(capacity) {}

  // Adds one (the reading side). False when the inbox is now full: the
  // reader stops reading until take() tells it to resume.
  bool put(std::string message) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(message));
    cv_.notify_all();
    paused_ = queue_.size() >= capacity_;
    return !paused_;
  }

  // The next message, blocking; nullopt once ended and empty. `*resume` is
  // set when the reader had paused and must read again.
  std::optional<std::string> take(bool* resume) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || ended_; });
    *resume = false;
    if (queue_.empty()) return std::nullopt;
    std::string m = std::move(queue_.front());
    queue_.pop_front();
    if (paused_) {
      paused_ = false;
      *resume = true;
    }
    return m;
  }

  // No more messages will come (the connection closed).
  void end() {
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool paused_ = false;
  bool ended_ = false;
};

}  // namespace lb::http
