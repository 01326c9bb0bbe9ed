#include "http/stream_threads.h"

namespace lb::http {

StreamThreads::~StreamThreads() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return running_.empty(); });
  auto done = std::move(finished_);
  lock.unlock();
  for (auto& t : done) t.join();
}

bool StreamThreads::reserve() {
  std::lock_guard lock(mu_);
  if (active_ >= limit_) return false;
  ++active_;
  return true;
}

void StreamThreads::release() {
  std::lock_guard lock(mu_);
  --active_;
  cv_.notify_all();
}

void StreamThreads::run(std::function<void()> fn) {
  joinFinished();
  std::lock_guard lock(mu_);
  uint64_t id = ++nextId_;
  // Started under the lock: the thread's epilogue (which takes it) always
  // finds itself in running_.
  running_.emplace(id, std::thread([this, id, fn = std::move(fn)]() mutable {
    {
      auto f = std::move(fn);
      f();
    }  // what `fn` captured is released before stop() sees the slot free
    std::lock_guard l(mu_);
    auto it = running_.find(id);
    finished_.push_back(std::move(it->second));
    running_.erase(it);
    --active_;
    cv_.notify_all();
  }));
}

size_t StreamThreads::active() const {
  std::lock_guard lock(mu_);
  return active_;
}

bool StreamThreads::waitAll(std::chrono::steady_clock::time_point deadline) {
  bool none;
  {
    std::unique_lock lock(mu_);
    none = cv_.wait_until(lock, deadline, [this] { return running_.empty(); });
  }
  joinFinished();
  return none;
}

void StreamThreads::joinFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    done.swap(finished_);
  }
  for (auto& t : done) t.join();
}

}  // namespace lb::http
