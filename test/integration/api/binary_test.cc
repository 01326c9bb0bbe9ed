// The `lastbackend api` binary: starts with the SQLite store, answers
// /health, stops on SIGTERM, and refuses to start without a token.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "api_fixture.h"

namespace lb::api::testing {
namespace {

// A port that was free a moment ago (the config refuses port 0).
int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

struct Child {
  pid_t pid = -1;
  std::string stderrPath;
};

Child spawn(std::vector<std::string> args, const std::string& dir, bool withToken) {
  Child c;
  c.stderrPath = dir + "/stderr.txt";
  pid_t pid = fork();
  if (pid == 0) {
    FILE* err = fopen(c.stderrPath.c_str(), "w");
    if (err) dup2(fileno(err), 2);
    unsetenv("LB_ACCESS_TOKEN");
    if (withToken) setenv("LB_ACCESS_TOKEN", kToken, 1);
    std::vector<char*> argv;
    std::string bin = LB_LASTBACKEND_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  c.pid = pid;
  return c;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lb-api-bin-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(BinaryTest, ServesHealthAndStopsOnSigterm) {
  int port = freePort();
  Child c = spawn({"api", "--storage", "sqlite", "--sqlite-path", dir_ + "/db.sqlite",
                   "--bind-address", "127.0.0.1", "--bind-port", std::to_string(port)},
                  dir_, /*withToken=*/true);
  client::ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.token = kToken;
  o.maxRetries = 0;
  auto client = client::Client::create(o);
  ASSERT_TRUE(client.isOk());
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    auto r = (*client)->send("GET", "/health");
    if (r.isOk())
      status = r->status;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200) << slurp(c.stderrPath);
  auto created = (*client)->send("POST", "/namespace", {}, R"({"name":"demo"})");
  ASSERT_TRUE(created.isOk());
  EXPECT_EQ(created->status, 201) << created->body;

  kill(c.pid, SIGTERM);
  int ws = 0;
  ASSERT_EQ(waitpid(c.pid, &ws, 0), c.pid);
  EXPECT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 0) << slurp(c.stderrPath);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/db.sqlite"));
}

TEST_F(BinaryTest, RefusesToStartWithoutAToken) {
  Child c = spawn({"api", "--storage", "sqlite", "--sqlite-path", dir_ + "/db.sqlite",
                   "--bind-address", "127.0.0.1", "--bind-port", std::to_string(freePort())},
                  dir_, /*withToken=*/false);
  int ws = 0;
  ASSERT_EQ(waitpid(c.pid, &ws, 0), c.pid);
  ASSERT_TRUE(WIFEXITED(ws));
  EXPECT_EQ(WEXITSTATUS(ws), 2);
  std::string err = slurp(c.stderrPath);
  EXPECT_NE(err.find("access token is required"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/db.sqlite")) << "nothing opened before the check";
}

}  // namespace
}  // namespace lb::api::testing
