#pragma once

// A network namespace of the test's own (`ip netns add`, only `lo` and what
// the test makes, no route out), deleted again when the object goes. Code
// under test runs inside it on a thread that entered it (setns); the test
// looks at it with iproute2 (`ip -n NAME`, or any command under nsenter).
// Needs root: problem() says why it is unusable otherwise.

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

#include "support/process.h"

namespace lb::testing {

class TestNetns {
 public:
  // The namespace is named "<prefix>-<pid>-<n>" (unique per process and object).
  explicit TestNetns(const std::string& prefix) {
    static std::atomic<int> seq{0};
    name_ = prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
    if (::geteuid() != 0) {
      problem_ =
          "needs root for network namespaces (running as uid " + std::to_string(::geteuid()) + ")";
      return;
    }
    dir_ = makeTempDir("lb-netns-");
    if (dir_.empty()) {
      problem_ = "cannot make a temporary directory";
      return;
    }
    auto r = run({kIp, "netns", "add", name_});
    if (r.code != 0) {
      problem_ = "ip netns add " + name_ + ": " + r.err;
      return;
    }
    made_ = true;
    r = ip({"link", "set", "lo", "up"});
    if (r.code != 0) problem_ = "ip link set lo up: " + r.err;
  }

  ~TestNetns() {
    if (made_) (void)run({kIp, "netns", "delete", name_});
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  // Why the namespace is unusable, or "".
  const std::string& problem() const { return problem_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }

  // Runs `fn` on a new thread that entered the namespace; false (and `fn`
  // not run) when it could not enter. Sockets made there stay in it.
  bool enter(const std::function<void()>& fn) const {
    bool entered = false;
    std::thread t([&] {
      int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      entered = ::setns(fd, CLONE_NEWNET) == 0;
      ::close(fd);
      if (entered) fn();
    });
    t.join();
    return entered;
  }

  // `ip -n NAME args...`.
  Outcome ip(std::vector<std::string> args) const {
    args.insert(args.begin(), {kIp, "-n", name_});
    return run(args);
  }

  // `argv` inside the namespace (nsenter --net=PATH argv...).
  Outcome exec(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {"/usr/bin/nsenter", "--net=" + path()});
    return run(argv);
  }

 private:
  static constexpr const char* kIp = "/usr/sbin/ip";

  Outcome run(const std::vector<std::string>& argv) const {
    return runProcess(argv, {}, dir_, "cmd", std::chrono::seconds(30));
  }

  std::string name_;
  std::string dir_;
  std::string problem_;
  bool made_ = false;
};

}  // namespace lb::testing
