#include "ingress/haproxy.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "lastbackend/common/file.h"
#include "lastbackend/common/logging.h"

extern char** environ;

namespace lb::ingress {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int runCommand(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  // Nothing of ours (listeners, store files) leaks into a daemon.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // A daemonizing child may leave our pipe open in its grandchild: read
  // until the child itself is gone, not until EOF; one that hangs past the
  // deadline is killed.
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) ::kill(pid, SIGKILL);
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) {
      n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      if (out.size() < 65536) out.append(buf, static_cast<size_t>(n));
      continue;
    }
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) == pid) {
      ::close(fds[0]);
      if (output) *output = out;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
  }
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (output) *output = out;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Haproxy::Haproxy(HaproxyOptions o) : o_(std::move(o)) {
  dir_ = fs::path(o_.configPath).parent_path().string();
  if (dir_.empty()) dir_ = ".";
}

int Haproxy::masterPid() const {
  std::ifstream in(o_.pidPath);
  int pid = 0;
  if (!(in >> pid) || pid <= 1) return 0;
  if (::kill(pid, 0) != 0) return 0;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  comm >> name;
  return name.rfind("haproxy", 0) == 0 ? pid : 0;
}

StatusOr<std::string> Haproxy::socketCall(const std::string& line) {
  const std::string path = dir_ + "/haproxy.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return invalidArgument("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unavailable("socket: " + std::string(std::strerror(errno)));
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return unavailable("HAProxy runtime socket " + path + ": " + err);
  }
  std::string req = line + "\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return unavailable("HAProxy runtime socket: short write");
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 && out.size() < (1u << 20))
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

Status Haproxy::runtime(const std::vector<std::string>& commands) {
  if (commands.empty()) return Status::ok();
  std::string line;
  for (const auto& c : commands) line += (line.empty() ? "" : ";") + c;
  auto out = socketCall(line);
  if (!out.isOk()) return out.status();
  // Successful "set server" commands answer nothing (or a note about the
  // address change); anything else is a refusal.
  std::string problems;
  std::istringstream lines(*out);
  for (std::string l; std::getline(lines, l);) {
    if (l.empty() || l.find("changed from") != std::string::npos ||
        l.find("no need to change") != std::string::npos)
      continue;
    problems += (problems.empty() ? "" : "; ") + l;
  }
  if (!problems.empty()) return internalError("HAProxy runtime API: " + problems);
  return Status::ok();
}

StatusOr<std::string> Haproxy::info(const std::string& name) {
  auto out = socketCall("show info");
  if (!out.isOk()) return out.status();
  std::istringstream lines(*out);
  for (std::string l; std::getline(lines, l);)
    if (l.rfind(name + ": ", 0) == 0) return l.substr(name.size() + 2);
  return notFound("no '" + name + "' in HAProxy's info");
}

Status Haproxy::waitForWorker(const std::string& oldPid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto pid = info("Pid");
    if (pid.isOk() && *pid != oldPid) return Status::ok();
    if (std::chrono::steady_clock::now() > deadline)
      return unavailable("HAProxy's new worker did not answer within " +
                         std::to_string(timeout.count()) + " ms");
    std::this_thread::sleep_for(10ms);
  }
}

Status Haproxy::apply(const std::string& config, const std::vector<Certificate>& certs) {
  std::error_code ec;
  fs::create_directories(dir_ + "/certs", ec);
  if (ec) return unavailable("creating " + dir_ + "/certs: " + ec.message());
  // The next config is checked beside the running one, then moved in place.
  std::string list;
  for (const auto& c : certs) {
    const std::string file = dir_ + "/certs/" + c.file;
    LB_RETURN_IF_ERROR(writeFileAtomic(file, c.pem, 0600));
    list += file + " " + c.host + "\n";
  }
  LB_RETURN_IF_ERROR(writeFileAtomic(dir_ + "/certs.list", list, 0600));
  const std::string next = o_.configPath + ".next";
  LB_RETURN_IF_ERROR(writeFileAtomic(next, config, 0600));
  std::string out;
  int rc = runCommand({o_.exec, "-c", "-q", "-f", next}, &out);
  if (rc < 0) return unavailable("cannot run " + o_.exec + " (is haproxy installed?)");
  if (rc != 0) {
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return invalidArgument("HAProxy refused the config: " + out.substr(0, 2000));
  }
  fs::rename(next, o_.configPath, ec);
  if (ec) return unavailable("moving the config in place: " + ec.message());
  if (int pid = masterPid()) {
    auto old = info("Pid");
    ::kill(pid, SIGUSR2);
    return waitForWorker(old.isOk() ? *old : "", 10s);
  }
  fs::create_directories(fs::path(o_.pidPath).parent_path(), ec);
  rc = runCommand({o_.exec, "-W", "-D", "-f", o_.configPath, "-p", o_.pidPath}, &out);
  if (rc != 0) return unavailable("starting HAProxy: " + out.substr(0, 2000));
  spdlog::info("ingress: HAProxy started (master pid {})", masterPid());
  return waitForWorker("", 10s);
}

void Haproxy::stop(std::chrono::milliseconds grace) {
  int pid = masterPid();
  if (!pid) return;
  ::kill(pid, SIGUSR1);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (masterPid() == pid && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (masterPid() == pid) ::kill(pid, SIGTERM);
  spdlog::info("ingress: HAProxy stopped");
}

}  // namespace lb::ingress
