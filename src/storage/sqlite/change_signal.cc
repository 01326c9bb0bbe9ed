#include "storage/sqlite/change_signal.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstdint>

namespace lb::storage::sqlite {

ChangeSignal::~ChangeSignal() {
  if (inotify_ >= 0) ::close(inotify_);
  if (event_ >= 0) ::close(event_);
}

bool ChangeSignal::watch(const std::string& walPath) {
  path_ = walPath;
  if (event_ < 0) event_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (inotify_ < 0) inotify_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  return rearm();
}

bool ChangeSignal::rearm() {
  if (inotify_ < 0) return false;
  // IN_DELETE_SELF/IN_MOVE_SELF: the WAL was replaced (every connection
  // closed and a new one made it again); the watch is re-made on the next wait.
  watch_ = ::inotify_add_watch(inotify_, path_.c_str(), IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF);
  return watch_ >= 0;
}

void ChangeSignal::wake() {
  if (event_ < 0) return;
  uint64_t one = 1;
  ssize_t n = ::write(event_, &one, sizeof one);
  (void)n;  // a full counter already means "wake"
}

ChangeSignal::Wake ChangeSignal::wait(std::chrono::milliseconds timeout, bool file) {
  // Without a watch, the timeout is the poll interval of the fallback.
  if (file && watch_ < 0 && !path_.empty()) rearm();
  pollfd fds[2] = {{event_, POLLIN, 0}, {file && watch_ >= 0 ? inotify_ : -1, POLLIN, 0}};
  int rc = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (rc <= 0) return Wake::kTimeout;
  if (fds[0].revents & POLLIN) {
    uint64_t v;
    ssize_t n = ::read(event_, &v, sizeof v);
    (void)n;
    return Wake::kSignal;
  }
  alignas(inotify_event) char buf[4096];
  ssize_t n;
  while ((n = ::read(inotify_, buf, sizeof buf)) > 0) {
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) watch_ = -1;
      p += sizeof(inotify_event) + ev->len;
    }
  }
  return Wake::kFile;
}

}  // namespace lb::storage::sqlite
