// `lastbackend api --access-token T --bind-port P` with nothing else: the
// default storage driver is one this build has (sqlite until the etcd
// driver lands), so the api starts and answers /health. The real binary,
// with HOME in a temp dir; the database goes to the temp dir through
// LB_SQLITE_PATH, or, as root, to its real default path
// (/var/lib/lastbackend/lastbackend.db) under a tmpfs that only the child's
// private mount namespace sees.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace lb::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kToken = "default-start-token";

// The status line of GET /health on 127.0.0.1:port, or "".
std::string health(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = std::string("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                      "Authorization: Bearer " + kToken + "\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size())) {
      char buf[512];
      ssize_t n;
      while (out.find("\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, size_t(n));
    }
  }
  ::close(fd);
  return out.substr(0, out.find("\r\n"));
}

class DefaultStart : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "lb-default-start-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (apiPid_ > 0 && apiPid_ != pid_) ::kill(apiPid_, SIGKILL);  // only when a check failed
    if (pid_ > 0 && !exited(pid_)) {
      ::kill(pid_, SIGKILL);
      waitExit(pid_, 5s);
    }
    fs::remove_all(dir_);
  }

  // Waits for /health to answer 200, then stops the api with SIGTERM
  // (`api` is its pid) and returns the exit code of pid_.
  int expectHealthyThenStop(int port, const std::function<pid_t()>& api) {
    std::string status;
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline && !exited(pid_);
         std::this_thread::sleep_for(50ms)) {
      status = health(port);
      if (status.find(" 200 ") != std::string::npos) break;
    }
    EXPECT_NE(status.find(" 200 "), std::string::npos) << "status '" << status << "', log:\n"
                                                       << readFile(dir_ / "log.txt");
    apiPid_ = api();
    if (apiPid_ > 0) ::kill(apiPid_, SIGTERM);
    int code = waitExit(pid_, 15s);
    pid_ = apiPid_ = -1;
    return code;
  }

  fs::path dir_;
  pid_t pid_ = -1;     // our child
  pid_t apiPid_ = -1;  // the api: pid_, or the child's child
};

TEST_F(DefaultStart, ApiStartsWithNoStorageFlag) {
  const int port = freeLoopbackPort();
  const fs::path db = dir_ / "not-yet" / "lastbackend.db";  // its directory is made
  pid_ = spawnProcess(
      {LB_LASTBACKEND_BINARY, "api", "--access-token", kToken, "--bind-port", std::to_string(port)},
      {"HOME=" + dir_.string(), "LB_SQLITE_PATH=" + db.string()}, dir_ / "log.txt",
      dir_ / "log.txt");
  ASSERT_GT(pid_, 0);
  pid_t api = pid_;
  EXPECT_EQ(expectHealthyThenStop(port, [api] { return api; }), 0) << readFile(dir_ / "log.txt");
  EXPECT_TRUE(fs::exists(db));
}

TEST_F(DefaultStart, ApiUsesTheDefaultDatabasePath) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  const int port = freeLoopbackPort();
  const fs::path pidFile = dir_ / "api.pid";
  const bool hostHadIt = fs::exists("/var/lib/lastbackend");
  // In a private mount namespace, a tmpfs over /var/lib: the default path
  // is used for real and vanishes with the namespace. The shell reports 99
  // when the database is not where the default says.
  const std::string script =
      "mount -t tmpfs lb-default-start /var/lib || exit 98; "
      "\"$0\" \"$@\" & echo $! > \"$PIDFILE\"; wait $!; rc=$?; "
      "[ -f /var/lib/lastbackend/lastbackend.db ] || exit 99; exit $rc";
  pid_ = spawnProcess(
      {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script,
       LB_LASTBACKEND_BINARY, "api", "--access-token", kToken, "--bind-port", std::to_string(port)},
      {"HOME=" + dir_.string(), "PIDFILE=" + pidFile.string()}, dir_ / "log.txt", dir_ / "log.txt");
  ASSERT_GT(pid_, 0);
  auto api = [&]() -> pid_t {
    std::string text = readFile(pidFile);
    return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
  };
  EXPECT_EQ(expectHealthyThenStop(port, api), 0) << readFile(dir_ / "log.txt");
  EXPECT_EQ(fs::exists("/var/lib/lastbackend"), hostHadIt) << "the host's /var/lib was written";
}

}  // namespace
}  // namespace lb::testing
