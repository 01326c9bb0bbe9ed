#pragma once

// Wakes the sqlite driver's poller when the database file may have changed,
// so an idle store sleeps instead of polling.
//
// Every commit in WAL mode writes to "<db>-wal", whichever process makes it;
// an inotify watch on that file (IN_MODIFY) is the signal. wake() is the
// in-process signal (own commits published out of order, stop). When the
// watch cannot be set up (no inotify, file missing) wait() falls back to the
// fixed `fallback` interval, as a poll would.
//
// Threads: wait() from one thread; wake() from any.

#include <chrono>
#include <string>

namespace lb::storage::sqlite {

class ChangeSignal {
 public:
  enum class Wake { kFile, kSignal, kTimeout };

  ChangeSignal() = default;
  ~ChangeSignal();
  ChangeSignal(const ChangeSignal&) = delete;
  ChangeSignal& operator=(const ChangeSignal&) = delete;

  // Watches `walPath`. Returns false (and keeps the fallback) when it cannot.
  bool watch(const std::string& walPath);
  bool watching() const { return watch_ >= 0; }

  // Blocks until the file changed (only with `file`), wake() was called, or
  // `timeout` passed. Consumes the pending file events or signals it reports;
  // file events not waited for stay pending.
  Wake wait(std::chrono::milliseconds timeout, bool file);

  // Makes the current or next wait() return kSignal.
  void wake();

 private:
  bool rearm();

  std::string path_;
  int inotify_ = -1;
  int watch_ = -1;
  int event_ = -1;  // eventfd for wake()
};

}  // namespace lb::storage::sqlite
