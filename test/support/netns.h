#pragma once

// Network namespaces a test makes for itself (`ip netns add`, only `lo` up,
// no route), so that whatever it programs (links, routes, nftables) and
// whatever traffic it sends stays inside. The namespace is deleted with the
// object. Code runs inside one on a thread of its own (run()): sockets and
// netlink handles made there keep acting there when used from any thread.

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/docker_rig.h"
#include "support/process.h"

namespace lb::testing {

// Why test namespaces cannot be made here, or "".
inline std::string netnsProblem() {
  if (::geteuid() != 0) return "making network namespaces needs root";
  for (const char* tool : {"/usr/bin/nsenter", "/usr/sbin/ip", "/usr/sbin/nft"}) {
    if (::access(tool, X_OK) != 0) return std::string(tool) + " is missing";
  }
  return "";
}

// The same rule as the docker rig's: skipping only off CI and without root.
inline bool netnsMaySkip() { return dockerRigMaySkip(); }

class Netns {
 public:
  // "lbt-<tag>-<pid>-<n>" (unique per process and object); error() says
  // why it could not be made.
  explicit Netns(const std::string& tag)
      : name_("lbt-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq()++)),
        dir_(makeTempDir("lbt-netns-")) {
    if (error_ = netnsProblem(); !error_.empty()) return;
    if (dir_.empty()) {
      error_ = "cannot make a temporary directory";
      return;
    }
    auto r = command({"/usr/sbin/ip", "netns", "add", name_});
    if (r.code != 0) {
      error_ = "ip netns add " + name_ + ": " + r.err;
      return;
    }
    made_ = true;
    r = exec({"/usr/sbin/ip", "link", "set", "lo", "up"});
    if (r.code != 0) error_ = "lo up in " + name_ + ": " + r.err;
  }
  ~Netns() {
    if (made_) (void)command({"/usr/sbin/ip", "netns", "delete", name_});
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  bool ok() const { return made_ && error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Runs argv inside the namespace (nsenter --net), to its end.
  Outcome exec(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + path()});
    return command(argv);
  }
  // "ip -n NAME args...".
  Outcome ip(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"/usr/sbin/ip", "-n", name_};
    argv.insert(argv.end(), args.begin(), args.end());
    return command(argv);
  }

  // fn() on a thread that entered the namespace first (results go out
  // through what fn captures). False, without running fn, when the thread
  // could not enter.
  bool run(const std::function<void()>& fn) const {
    bool in = false;
    std::thread t([&] {
      int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
      in = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
      if (fd >= 0) ::close(fd);
      if (in) fn();
    });
    t.join();
    return in;
  }

 private:
  static std::atomic<int>& seq() {
    static std::atomic<int> n{0};
    return n;
  }
  Outcome command(const std::vector<std::string>& argv) const {
    return runProcess(argv, {}, dir_, "cmd", std::chrono::seconds(30));
  }

  std::string name_;
  std::string dir_;
  bool made_ = false;
  std::string error_;
};

}  // namespace lb::testing
