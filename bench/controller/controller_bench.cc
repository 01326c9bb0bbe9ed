// lb_bench_controller: hollow nodes + services written straight into a
// SQLite store, the real `lastbackend controller` binary as a separate
// process on the same file. Measures the time until every pod is scheduled
// (its manifest reached its node), reported Ready by its node, and every
// deployment marked Ready by the controller; placements/s; peak RSS of the
// controller process and of this process (hollow nodes + writer).
//
// Services and node reports go to the store directly, not through the REST
// API (see docs/benchmarks.md).
//
//   lb_bench_controller                       # 500 nodes, 100 x 50 pods
//   lb_bench_controller --nodes 5000 --services 1000 --replicas 50

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hollow_nodes.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"

using namespace std::chrono_literals;
namespace keys = lb::storage::keys;

namespace {

struct Flags {
  int nodes = 500;
  int services = 100;
  int replicas = 50;
  int servicesPerNamespace = 10;
  int hollowThreads = 2;
  int timeoutSeconds = 280;
  bool ports = true;
  bool nodeEndpoints = false;
  std::string db;
  std::string binary = LB_LASTBACKEND_BINARY;
};

long rssKb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  }
  return -1;
}

// utime + stime of a process, seconds.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / sysconf(_SC_CLK_TCK);
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  f.db = "/tmp/lb-bench-controller-" + std::to_string(getpid()) + ".db";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--nodes")
      f.nodes = std::stoi(next());
    else if (a == "--services")
      f.services = std::stoi(next());
    else if (a == "--replicas")
      f.replicas = std::stoi(next());
    else if (a == "--services-per-namespace")
      f.servicesPerNamespace = std::stoi(next());
    else if (a == "--hollow-threads")
      f.hollowThreads = std::stoi(next());
    else if (a == "--timeout")
      f.timeoutSeconds = std::stoi(next());
    else if (a == "--no-ports")
      f.ports = false;
    else if (a == "--node-endpoints")
      f.nodeEndpoints = true;
    else if (a == "--db")
      f.db = next();
    else if (a == "--binary")
      f.binary = next();
    else {
      std::fprintf(stderr,
                   "usage: lb_bench_controller [--nodes N] [--services N] [--replicas N]\n"
                   "  [--services-per-namespace N] [--hollow-threads N] [--timeout S]\n"
                   "  [--no-ports] [--node-endpoints] [--db PATH] [--binary PATH]\n");
      return 2;
    }
  }
  const int total = f.services * f.replicas;
  std::filesystem::remove(f.db);
  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = f.db;
  so.historySize = 2'000'000;
  auto opened = lb::storage::open(so);
  if (!opened.isOk()) {
    std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
    return 1;
  }
  std::shared_ptr<lb::storage::Storage> store(std::move(opened.value()));

  // Hollow nodes, split over a few clusters (one thread each).
  std::vector<std::unique_ptr<lb::controller::testing::HollowCluster>> hollow;
  const int per = (f.nodes + f.hollowThreads - 1) / f.hollowThreads;
  for (int t = 0; t < f.hollowThreads; ++t) {
    lb::controller::testing::HollowOptions h;
    h.nodes = std::min(per, f.nodes - t * per);
    h.prefix = "h" + std::to_string(t) + "-node-";
    h.cpu = 16'000;
    h.ram = 64LL << 30;
    h.heartbeatInterval = 5s;
    h.readyDelay = 0ms;
    h.nodesPerTxn = 256;
    hollow.push_back(
        std::make_unique<lb::controller::testing::HollowCluster>(store, lb::realClock(), h));
    if (auto s = hollow.back()->registerAll(); !s.isOk()) {
      std::fprintf(stderr, "register: %s\n", s.message().c_str());
      return 1;
    }
  }

  pid_t pid = fork();
  if (pid == 0) {
    setenv("LB_CONTROLLER_ID", "bench", 1);
    setenv("LB_CONTROLLER_NODE_ENDPOINTS", f.nodeEndpoints ? "1" : "0", 1);
    std::string path = "--sqlite-path=" + f.db;
    execl(f.binary.c_str(), "lastbackend", "controller", "--storage=sqlite", path.c_str(),
          "--node-offline-timeout=120s", "--services-cidr=10.96.0.0/12", "-v", "0",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait for the controller to lead (its lease record).
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!store->get("/system/controller/lead").isOk() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  for (auto& h : hollow) h->start();

  // Apply: namespaces and services, 100 per transaction.
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<lb::storage::Op> ops;
  auto commit = [&] {
    if (ops.empty()) return;
    auto r = store->txn(ops);
    if (!r.isOk()) std::fprintf(stderr, "apply: %s\n", r.status().message().c_str());
    ops.clear();
  };
  for (int i = 0; i < f.services; ++i) {
    std::string ns = "ns" + std::to_string(i / f.servicesPerNamespace);
    if (i % f.servicesPerNamespace == 0) {
      lb::types::Namespace n;
      n.meta.name = n.meta.selflink = ns;
      ops.push_back(
          {lb::storage::Op::Type::kPut, *keys::namespaceKey(ns), lb::types::toJson(n), 0});
    }
    lb::types::Service s;
    s.meta.name = "svc" + std::to_string(i);
    s.meta.namespace_ = ns;
    s.meta.selflink = ns + ":" + s.meta.name;
    s.spec.replicas = f.replicas;
    lb::types::ContainerSpec c;
    c.name = "main";
    c.image.name = "bench:1";
    c.resources.request = {64 << 20, 100};
    s.spec.template_.containers.push_back(c);
    if (f.ports) s.spec.network.ports.push_back({80, 8080, "tcp"});
    ops.push_back(
        {lb::storage::Op::Type::kPut, *keys::serviceKey(ns, s.meta.name), lb::types::toJson(s), 0});
    if (ops.size() >= 100) commit();
  }
  commit();
  const auto tApplied = std::chrono::steady_clock::now();

  std::optional<std::chrono::steady_clock::time_point> tScheduled, tReady, tDeployments;
  long ctlPeak = 0;
  const auto limit = t0 + std::chrono::seconds(f.timeoutSeconds);
  while (std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(100ms);
    ctlPeak = std::max(ctlPeak, rssKb(pid, "VmHWM:"));
    size_t known = 0;
    int reported = 0;
    for (auto& h : hollow) {
      known += h->podsKnown();
      reported += h->podsReported();
    }
    auto now = std::chrono::steady_clock::now();
    if (!tScheduled && known >= static_cast<size_t>(total)) tScheduled = now;
    if (!tReady && reported >= total) tReady = now;
    if (tReady && !tDeployments) {
      auto deps = store->list("/deployment/");
      int ready = 0;
      if (deps.isOk()) {
        for (const auto& o : deps->items) {
          lb::types::Deployment d;
          if (lb::types::fromJson(o.value, &d).isOk() && d.status.state == lb::types::State::kReady)
            ready++;
        }
      }
      if (ready >= f.services) tDeployments = now;
    }
    if (tDeployments) break;
  }
  ctlPeak = std::max(ctlPeak, rssKb(pid, "VmHWM:"));
  const double ctlCpu = cpuSeconds(pid);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  for (auto& h : hollow) h->stop();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  auto pods = store->list("/pod/");
  auto info = store->info();

  std::printf("nodes: %d\nservices: %d\nreplicas: %d\npods: %d\n", f.nodes, f.services, f.replicas,
              total);
  std::printf(
      "path: direct store writes (services and node reports), controller = separate process\n");
  std::printf("apply_seconds: %.3f\n", seconds(tApplied - t0));
  auto report = [&](const char* name,
                    const std::optional<std::chrono::steady_clock::time_point>& t) {
    if (t) {
      std::printf("%s: %.3f s (%.0f pods/s)\n", name, seconds(*t - t0), total / seconds(*t - t0));
    } else {
      std::printf("%s: not reached within %d s\n", name, f.timeoutSeconds);
    }
  };
  report("all_scheduled", tScheduled);
  report("all_pods_ready", tReady);
  report("all_deployments_ready", tDeployments);
  std::printf("pods_in_store: %zu\n", pods.isOk() ? pods->items.size() : 0);
  std::printf("controller_cpu: %.2f s\n", ctlCpu);
  std::printf(
      "bench_process_cpu (hollow nodes + writer): %.2f s\n",
      ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  std::printf("load_average_1m: %.2f\n", [] {
    double l[1] = {0};
    getloadavg(l, 1);
    return l[0];
  }());
  std::printf("controller_peak_rss: %.1f MiB\n", ctlPeak / 1024.0);
  std::printf("bench_process_peak_rss (hollow nodes + writer): %.1f MiB\n", ru.ru_maxrss / 1024.0);
  if (info.isOk())
    std::printf("store: revision %lld, %.1f MB\n", static_cast<long long>(info->revision),
                info->bytes / 1e6);
  std::filesystem::remove(f.db);
  std::filesystem::remove(f.db + "-wal");
  std::filesystem::remove(f.db + "-shm");
  return tDeployments ? 0 : 1;
}
