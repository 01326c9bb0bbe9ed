#include "node/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lb::node {

void ProbeTracker::reset(SteadyTime started) {
  next_ = started + std::chrono::seconds(std::max(0, probe_.initialDelay));
  started_ = started;
  succeeded_ = false;
  successes_ = failures_ = 0;
  ready_ = false;
  message_.clear();
}

void ProbeTracker::record(bool success, SteadyTime now, std::string message) {
  const std::chrono::milliseconds period = std::chrono::seconds(std::max(1, probe_.period));
  next_ = now + period;
  if (readiness_ && !success && !succeeded_ && now - started_ < kFastWindow) {
    auto retry = probe_.exec ? kFastRetryExec
                             : (now - started_ < kFastBurst ? kFastRetryTcp : kRetryTcp);
    next_ = now + std::min(period, retry);
  }
  message_ = std::move(message);
  if (success) {
    succeeded_ = true;
    failures_ = 0;
    if (++successes_ >= std::max(1, probe_.successThreshold)) ready_ = true;
  } else {
    successes_ = 0;
    if (++failures_ >= std::max(1, probe_.failureThreshold)) ready_ = false;
  }
}

Status tcpCheck(const std::string& ip, int port, std::chrono::milliseconds timeout) {
  const std::string what = "tcp " + ip + ":" + std::to_string(port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1)
    return invalidArgument(what + ": bad address");
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable(what + ": socket: " + std::strerror(errno));
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return unavailable(what + ": " + std::strerror(e));
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc <= 0) {
      close(fd);
      return unavailable(what + ": timed out after " + std::to_string(timeout.count()) + "ms");
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      close(fd);
      return unavailable(what + ": " + std::strerror(err));
    }
  }
  close(fd);
  return Status::ok();
}

Status execCheck(runtime::cri::ContainerRuntime& cri, const std::string& id,
                 const std::vector<std::string>& command, std::chrono::milliseconds timeout) {
  std::string what = "exec";
  for (const auto& a : command) what += " " + a;
  if (what.size() > 80) what = what.substr(0, 77) + "...";
  runtime::cri::ExecOptions eo;
  eo.command = command;
  eo.timeout = timeout;
  eo.maxOutput = 512;
  auto r = cri.exec(id, eo);
  if (!r.isOk()) return r.status().withContext(what);
  if (r->exitCode == 0) return Status::ok();
  std::string out = r->output.substr(0, r->output.find('\n'));
  while (!out.empty() && (out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return unavailable(what + ": exit code " + std::to_string(r->exitCode) +
                     (out.empty() ? "" : ": " + out));
}

}  // namespace lb::node
