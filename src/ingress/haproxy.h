#pragma once

// The HAProxy the ingress runs: Debian's haproxy in master-worker mode,
// daemonized (`-W -D -p <pid file>`), so it keeps serving when the ingress
// process dies; a restarted ingress finds it by the pid file and adopts it.
// Config changes are hitless reloads (SIGUSR2 to the master; the new worker
// takes the listeners over the stats socket's `expose-fd listeners`), each
// checked with `haproxy -c` first. Server changes go through the Runtime
// API on <dir>/haproxy.sock, without a reload.

#include <chrono>
#include <string>
#include <vector>

#include "ingress/haproxy_config.h"
#include "lastbackend/common/status.h"

namespace lb::ingress {

struct HaproxyOptions {
  std::string exec = "/usr/sbin/haproxy";
  std::string configPath;  // haproxy.cfg; its folder holds the sockets and certificates
  std::string pidPath;
};

class Haproxy {
 public:
  explicit Haproxy(HaproxyOptions o);

  // The folder of the config.
  const std::string& dir() const { return dir_; }

  // The pid of a running master (from the pid file), or 0.
  int masterPid() const;

  // Writes `certs` and `config`, checks them with `haproxy -c`, then starts
  // HAProxy or, when it runs, reloads it, and waits (up to 10 s) for the new
  // worker to answer. A config HAProxy refuses is kInvalidArgument with its
  // words, and the running HAProxy keeps the previous config (the files too).
  Status apply(const std::string& config, const std::vector<Certificate>& certs);

  // Runs Runtime API commands (one connection, ';'-separated). kInternal
  // with HAProxy's answer when a command was refused.
  Status runtime(const std::vector<std::string>& commands);

  // "show info" field `name` of the current worker ("Pid", "CurrConns"...).
  StatusOr<std::string> info(const std::string& name);

  // Soft stop: the master lets its workers finish their requests (up to
  // `grace`, then it is terminated).
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  StatusOr<std::string> socketCall(const std::string& line);
  Status waitForWorker(const std::string& oldPid, std::chrono::milliseconds timeout);

  HaproxyOptions o_;
  std::string dir_;
};

// Runs `argv` (no shell), its stdout and stderr together in `output`
// (at most 64 KiB kept); returns the exit code (128 + signal; killed after
// 30 s), or -1 when it did not start.
int runCommand(const std::vector<std::string>& argv, std::string* output);

}  // namespace lb::ingress
