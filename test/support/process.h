#pragma once

// Child processes for tests that drive the real binaries: start one with a
// clean environment and its output in files, wait for it with a deadline,
// run one to its end, pick a free loopback port, read a log back.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lb::testing {

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `argv` (argv[0] a path) with only `env` plus PATH in its environment,
// stdout into `outFile` and stderr into `errFile` (the same file: both go
// there). `append` keeps what the files held. The child's pid, or -1.
inline pid_t spawnProcess(const std::vector<std::string>& argv, std::vector<std::string> env,
                          const std::filesystem::path& outFile,
                          const std::filesystem::path& errFile, bool append = false) {
  env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (auto& e : env) envp.push_back(e.data());
  args.push_back(nullptr);
  envp.push_back(nullptr);
  int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, outFile.c_str(), flags, 0600);
  if (errFile == outFile)
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  else
    posix_spawn_file_actions_addopen(&fa, 2, errFile.c_str(), flags, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// True once `pid` (a child of ours) has exited; reaps it.
inline bool exited(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

// The exit code, 128+signal, or -1 after killing a child that outlived `timeout`.
inline int waitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A loopback TCP port nobody listened on a moment ago.
inline uint16_t freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A new directory <tmp>/<prefix>XXXXXX of this test's own; "" when none
// could be made.
inline std::string makeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  return ::mkdtemp(tmpl.data()) ? tmpl : "";
}

// `envVar` when set and not empty (another build of a binary, e.g. a
// release one), else the one this build made.
inline std::string binaryPath(const char* envVar, const char* builtIn) {
  const char* v = std::getenv(envVar);
  return v && *v ? v : builtIn;
}

struct Outcome {
  int code = -1;  // as waitExit
  std::string out;
  std::string err;
};

// Runs `argv` to its end (killed after `timeout`) as spawnProcess does, its
// stdout and stderr through `<dir>/<name>.out` and `.err`.
inline Outcome runProcess(const std::vector<std::string>& argv, std::vector<std::string> env,
                          const std::filesystem::path& dir, const std::string& name,
                          std::chrono::milliseconds timeout) {
  const auto out = dir / (name + ".out"), err = dir / (name + ".err");
  Outcome r;
  pid_t pid = spawnProcess(argv, std::move(env), out, err);
  if (pid <= 0) return r;
  r.code = waitExit(pid, timeout);
  r.out = readFile(out);
  r.err = readFile(err);
  return r;
}

}  // namespace lb::testing
