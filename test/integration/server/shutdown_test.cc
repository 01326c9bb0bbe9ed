// `lastbackend server` (api + controller + node) on the rig's dockerd: three
// `lb service logs -f` streams on a container that prints nothing, then
// SIGTERM: the server exits 0 within 5 s (the proxied streams are cancelled,
// not waited out).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "support/docker_rig.h"
#include "support/process.h"
#include "unit/http/test_server.h"

namespace lb {
namespace {

using namespace std::chrono_literals;
constexpr char kToken[] = "server-shutdown-token";

class ServerShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LB_REQUIRE_DOCKER_RIG();
    std::string tmpl = (std::filesystem::temp_directory_path() / "lb-server-sd-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    port_ = testing::freeLoopbackPort();
    nodePort_ = testing::freeLoopbackPort();
    std::filesystem::create_directories(dir_ / "manifests");
    std::ofstream(dir_ / "server.yml") << "token: " << kToken << "\n"
                                        << "storage: {driver: sqlite, sqlite: {path: " << (dir_ / "lb.db").string()
                                        << "}}\nserver: {host: 127.0.0.1, port: " << port_ << "}\n"
                                        << "node: {server: {host: 127.0.0.1, port: " << nodePort_ << "}}\n"
                                        << "workdir: " << dir_.string() << "\n"
                                        << "manifest: {dir: " << (dir_ / "manifests").string() << "}\n"
                                        << "container: {csi: {dir: {root: " << (dir_ / "csi").string() << "}}}\n";
    pid_ = testing::spawnProcess(
        {LB_LASTBACKEND_BINARY, "server", "-c", (dir_ / "server.yml").string()},
        {"HOME=" + dir_.string(), "LB_SERVER_NO_CLI_CONFIG=1", "LB_NODE_STOP_GRACE=1", "LB_DNS_PORT=0",
         "LB_NODE_NAME=lb-sd-node", std::string("DOCKER_HOST=") + std::getenv("DOCKER_HOST")},
        dir_ / "server.log", dir_ / "server.log");
    ASSERT_GT(pid_, 0);
    client::ClientOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    o.token = kToken;
    o.maxRetries = 0;
    auto c = client::Client::create(o);
    ASSERT_TRUE(c.isOk());
    client_ = std::move(*c);
  }
  void TearDown() override {
    if (pid_ > 0 && !testing::exited(pid_)) {
      ::kill(pid_, SIGKILL);
      testing::waitExit(pid_, 10s);
    }
    // A killed server leaves its HAProxy running (by design): ours, by its pid file.
    std::ifstream pidFile(dir_ / "ingress" / "haproxy" / "haproxy.pid");
    if (int hp = 0; pidFile >> hp && hp > 1 &&
                    testing::readFile("/proc/" + std::to_string(hp) + "/comm").rfind("haproxy", 0) == 0)
      ::kill(hp, SIGTERM);
    // The node leaves its containers behind on stop (adoption on restart).
    std::string rm = "docker ps -aq --filter label=io.lastbackend.namespace=quiet | xargs -r docker rm -f >/dev/null 2>&1";
    if (std::system(rm.c_str()) != 0) ADD_FAILURE() << "could not remove the test's containers";
    if (HasFailure() && !dir_.empty()) std::cerr << "--- server log\n" << testing::readFile(dir_ / "server.log");
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  // Bounded retries of `ok` (the server's start and the pod's scheduling).
  template <class F>
  bool eventually(std::chrono::seconds limit, F ok) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ok()) return true;
      std::this_thread::sleep_for(200ms);
    }
    return ok();
  }

  std::filesystem::path dir_;
  uint16_t port_ = 0, nodePort_ = 0;
  pid_t pid_ = -1;
  std::unique_ptr<client::Client> client_;
};

TEST_F(ServerShutdownTest, SigtermWithThreeQuietLogFollowsExitsZeroWithinFiveSeconds) {
  ASSERT_TRUE(eventually(30s, [&] { return client_->get("/health").isOk(); })) << "the server did not start";
  ASSERT_TRUE(client_->post("/namespace", R"({"name":"quiet"})").isOk());
  auto applied = client_->send("PUT", "/namespace/quiet/apply", {},
                               "kind: Service\nversion: v1\nmeta: {name: sleeper}\nspec:\n  template:\n"
                               "    containers:\n      - name: sleeper\n        image: {name: lb/busybox:local}\n"
                               "        command: sleep 100000\n",
                               "application/yaml");
  ASSERT_TRUE(applied.isOk() && applied->status < 300) << (applied.isOk() ? applied->body : applied.status().toString());
  // The pod runs on the node once its logs answer without an error line.
  ASSERT_TRUE(eventually(90s, [&] {
    auto r = client_->send("GET", "/namespace/quiet/service/sleeper/logs", {{"follow", "false"}});
    return r.isOk() && r->status == 200 && r->body.find("error:") == std::string::npos;
  })) << "the pod did not start";

  std::vector<std::unique_ptr<http::testing::RawConn>> follows;
  for (int i = 0; i < 3; ++i) {
    auto c = std::make_unique<http::testing::RawConn>(port_);
    c->send(std::string("GET /namespace/quiet/service/sleeper/logs?follow=true HTTP/1.1\r\nHost: t\r\n"
                        "Authorization: Bearer ") + kToken + "\r\n\r\n");
    ASSERT_EQ(http::testing::statusOf(c->readResponse()), 200);
    follows.push_back(std::move(c));
  }
  std::this_thread::sleep_for(1s);  // the api's proxies reach the node's port
  ASSERT_FALSE(testing::exited(pid_));

  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int code = testing::waitExit(pid_, 20s);
  auto took = std::chrono::steady_clock::now() - started;
  pid_ = -1;
  EXPECT_EQ(code, 0) << "-1: still running after 20 s, killed";
  EXPECT_LT(took, 5s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

}  // namespace
}  // namespace lb
