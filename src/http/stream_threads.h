#pragma once

// The threads of long-lived responses (chunked streams, WebSockets): at most
// `limit` at once, each joinable, so the server's stop() can wait for them
// with a deadline instead of leaving detached threads behind.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace lb::http {

class StreamThreads {
 public:
  explicit StreamThreads(size_t limit) : limit_(limit) {}
  // Joins what is left: callers first wait with waitAll().
  ~StreamThreads();
  StreamThreads(const StreamThreads&) = delete;
  StreamThreads& operator=(const StreamThreads&) = delete;

  // Takes a slot for a thread that run() starts later; false when `limit`
  // slots are taken (the caller answers 503).
  bool reserve();
  // Gives back a slot reserve() took when the thread is not started after all.
  void release();
  // Runs `fn` on a new thread in a slot reserve() took.
  void run(std::function<void()> fn);

  // Slots taken (reserved or running).
  size_t active() const;
  // Waits until every thread has returned, or `deadline`; joins the ones
  // that returned. True when none is left.
  bool waitAll(std::chrono::steady_clock::time_point deadline);

 private:
  void joinFinished();

  const size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t active_ = 0;
  uint64_t nextId_ = 0;
  std::map<uint64_t, std::thread> running_;
  std::vector<std::thread> finished_;  // returned, not yet joined
};

}  // namespace lb::http
