#pragma once

// Private to the controller: the deduplicated queue of work keys
// ("<prefix>/<id>", the prefix naming the loop), with delayed re-queues
// for keys whose batch failed alone (exponential back-off) and the "solo"
// marks for keys that must be committed in a batch of their own.
//
// Loop thread only.

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace lb::controller {

class WorkQueue {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Ignored while loading (a re-list queues everything at its end) and for
  // the key being reconciled (its own writes echo into the cache).
  void enqueue(const std::string& key) {
    if (loading_ || key == current_) return;
    if (queued_.insert(key).second) queue_.push_back(key);
  }
  void enqueue(char prefix, std::string_view id) {
    std::string key;
    key.reserve(id.size() + 2);
    key += prefix;
    key += '/';
    key += id;
    enqueue(key);
  }

  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }
  std::string pop() {
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    queued_.erase(key);
    return key;
  }

  void setLoading(bool loading) { loading_ = loading; }
  void setCurrent(const std::string& key) { current_ = key; }
  void clearCurrent() { current_.clear(); }

  // A key of a failed batch of several: retried alone, at once.
  void retrySolo(const std::string& key) {
    solo_.insert(key);
    enqueue(key);
  }
  bool takeSolo(const std::string& key) { return solo_.erase(key) > 0; }
  // A key that failed alone: retried after 50 ms, doubling up to 6.4 s.
  void retryLater(const std::string& key, SteadyTime now) {
    int& n = failures_[key];
    n = std::min(n + 1, 8);
    delayed_.emplace(now + std::chrono::milliseconds(50) * (1 << (n - 1)), key);
  }
  void succeeded(const std::string& key) { failures_.erase(key); }
  // When the first delayed key is due (max() when none is).
  SteadyTime nextDue() const {
    return delayed_.empty() ? SteadyTime::max() : delayed_.begin()->first;
  }
  // Queues the delayed keys that are due.
  void promoteDue(SteadyTime now) {
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      enqueue(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
    }
  }

  void clear() {
    queue_.clear();
    queued_.clear();
    delayed_.clear();
    solo_.clear();
  }

 private:
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_;
  std::multimap<SteadyTime, std::string> delayed_;
  std::unordered_set<std::string> solo_;
  std::unordered_map<std::string, int> failures_;
  std::string current_;
  bool loading_ = false;
};

}  // namespace lb::controller
