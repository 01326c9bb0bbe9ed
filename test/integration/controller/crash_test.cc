// kill -9 of the `lastbackend controller` binary during a 200-pod rollout on
// a SQLite file, restarted each time: the end state has exactly the asked
// pods, one deployment per service, no orphaned manifest and no leaked IP.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "fixture.h"
#include "hollow_nodes.h"

namespace lb::controller::testing {
namespace {

using namespace std::chrono_literals;

pid_t spawnController(const std::string& db) {
  pid_t pid = fork();
  if (pid == 0) {
    setenv("LB_CONTROLLER_ID", "crashy", 1);  // same id after a restart: no lease wait
    setenv("LB_CONTROLLER_LEASE_TTL", "3000", 1);
    std::string path = "--sqlite-path=" + db;
    execl(LB_LASTBACKEND_BINARY, "lastbackend", "controller", "--storage=sqlite", path.c_str(),
          "--node-offline-timeout=60s", "-v", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(ControllerCrashTest, KillNineDuringRolloutConverges) {
  auto dir = std::filesystem::temp_directory_path() / ("lb-ctl-crash-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "store.db").string();
  storage::Options o;
  o.driver = "sqlite";
  o.sqlitePath = db;
  auto store = std::shared_ptr<storage::Storage>(std::move(storage::open(o).value()));
  HollowOptions h;
  h.nodes = 10;
  h.readyDelay = 150ms;
  h.heartbeatInterval = 10s;  // keep the revision for the controller's writes
  HollowCluster hollow(store, realClock(), h);
  ASSERT_TRUE(hollow.registerAll().isOk());
  putNamespace(*store, "demo");
  hollow.start();

  pid_t pid = spawnController(db);
  for (int i = 0; i < 4; ++i)
    applyService(*store, makeService("demo", "s" + std::to_string(i), 50));
  std::mt19937 rng(42);
  int midRollout = 0;
  for (int kill = 0; kill < 8; ++kill) {
    // Kill once the new process has written something (its lease, then
    // pods, manifests, endpoints...), a few milliseconds into its work.
    int64_t before = store->info()->revision;
    auto until = std::chrono::steady_clock::now() + 5s;
    while (store->info()->revision <= before + 1 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 15));
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    auto n = store->list("/pod/")->items.size();
    int ready = 0;
    for (int i = 0; i < 4; ++i) ready += readyPods(*store, "demo", "s" + std::to_string(i));
    if (n != 200 || ready != 200) midRollout++;
    std::printf("kill %d: %zu pods, %d ready\n", kill, n, ready);
    if (kill == 5 || kill == 6) {  // scale down, then up again, under crashes
      for (int i = 0; i < 4; ++i)
        applyService(*store,
                     makeService("demo", "s" + std::to_string(i), kill == 5 ? 20 : 50, "web:2"));
    }
    if (kill == 3) {  // a template change mid-way: blue/green under crashes
      for (int i = 0; i < 4; ++i)
        applyService(*store, makeService("demo", "s" + std::to_string(i), 50, "web:2"));
    }
    pid = spawnController(db);
  }
  auto done = [&] {
    if (store->list("/pod/")->items.size() != 200) return false;
    for (int i = 0; i < 4; ++i) {
      auto deps = deploymentsOf(*store, "demo", "s" + std::to_string(i));
      if (deps.size() != 1 || deps.begin()->second.status.state != types::State::kReady)
        return false;
      if (deps.begin()->second.spec.template_.containers[0].image.name != "web:2") return false;
      if (readyPods(*store, "demo", "s" + std::to_string(i)) != 50) return false;
    }
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(100ms);
  ::kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  hollow.stop();
  ASSERT_TRUE(done());
  EXPECT_GE(midRollout, 2);  // the kills did land mid-rollout

  // Exactly the asked pods, all of the new template, each with its one manifest.
  std::set<std::string> podManifests;
  auto manifests = store->list("/manifest/node/");
  ASSERT_TRUE(manifests.isOk());
  for (const auto& obj : manifests->items) {
    auto pos = obj.key.find("/pod/");
    if (pos != std::string::npos) EXPECT_TRUE(podManifests.insert(obj.key.substr(pos + 5)).second);
  }
  std::set<std::string> pods;
  for (const auto& [k, p] : listOf<types::Pod>(*store, "/pod/")) {
    pods.insert(p.meta.selflink);
    EXPECT_EQ(p.spec.template_.containers[0].image.name, "web:2");
  }
  EXPECT_EQ(pods, podManifests);
  // IPAM: one address per endpoint, nothing else.
  auto endpoints = listOf<types::Endpoint>(*store, "/endpoint/");
  EXPECT_EQ(endpoints.size(), 4u);
  auto ipam = store->get("/system/ipam");
  ASSERT_TRUE(ipam.isOk());
  for (const auto& [k, e] : endpoints) EXPECT_NE(ipam->value.find(e.spec.ip), std::string::npos);
  size_t owners = 0;
  for (size_t p = ipam->value.find("demo:"); p != std::string::npos;
       p = ipam->value.find("demo:", p + 1))
    owners++;
  EXPECT_EQ(owners, 4u) << ipam->value;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lb::controller::testing
