#pragma once

// The real `lastbackend api` binary as tests run it: on the SQLite store in
// a test's dir, bound to 127.0.0.1 on a free port (its config refuses port
// 0, so the port is picked here a moment before the start), with a token,
// its stdout and stderr appended to <dir>/api.log. For a server in the test
// process on port 0, see api_fixture.h.

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace lb::testing {

struct ApiProcessOptions {
  std::string binary;             // the `lastbackend` to run
  std::filesystem::path dir;      // lastbackend.db and api.log
  std::string token;              // --access-token; "" gives none
  std::vector<std::string> args;  // more flags (e.g. --tls-cert-file ...)
  std::vector<std::string> env;   // its environment besides PATH
};

class ApiProcess {
 public:
  ApiProcess() = default;
  ApiProcess(const ApiProcess&) = delete;
  ApiProcess& operator=(const ApiProcess&) = delete;
  ~ApiProcess() { stop(std::chrono::seconds(10)); }

  // Starts it; false when it could not be spawned.
  bool start(const ApiProcessOptions& o) {
    log_ = o.dir / "api.log";
    port_ = freeLoopbackPort();
    std::vector<std::string> argv{o.binary,         "api",
                                  "--storage",      "sqlite",
                                  "--sqlite-path",  (o.dir / "lastbackend.db").string(),
                                  "--bind-address", "127.0.0.1",
                                  "--bind-port",    std::to_string(port_)};
    if (!o.token.empty()) argv.insert(argv.end(), {"--access-token", o.token});
    argv.insert(argv.end(), o.args.begin(), o.args.end());
    pid_ = spawnProcess(argv, o.env, log_, log_, /*append=*/true);
    return pid_ > 0;
  }

  // Polls `ready` every 50 ms: "" once it holds, else why not (the process
  // exited, or `timeout` passed), with the log.
  std::string waitReady(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      if (exited(pid_)) {
        pid_ = -1;
        return "lastbackend api exited:\n" + log();
      }
      if (ready()) return "";
      if (std::chrono::steady_clock::now() > deadline)
        return "lastbackend api did not answer within " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
               " s:\n" + log();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "lastbackend api is not running";
  }

  // SIGTERM, then its exit code (as waitExit: -1 when it had to be killed
  // after `timeout`); 0 when it was not running.
  int stop(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int code = waitExit(pid_, timeout);
    pid_ = -1;
    return code;
  }

  // Waits for it to exit on its own: its exit code, -1 when it had to be
  // killed after `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    int code = waitExit(pid_, timeout);
    pid_ = -1;
    return code;
  }

  // Running (started and not seen exiting).
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string url(const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }
  std::string log() const { return readFile(log_); }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::filesystem::path log_;
};

}  // namespace lb::testing
