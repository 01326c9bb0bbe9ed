// lb_bench_controller: the real `lastbackend controller` binary as a
// separate process on a SQLite file, hollow nodes, and services to roll out.
// Measures the time until every pod is scheduled (its manifest reached its
// node), reported Ready by its node, and every deployment marked Ready by the
// controller; placements/s; peak RSS of each process.
//
// --mode api (default): the `lastbackend api` binary serves the same file on
// 127.0.0.1; services are applied with PUT /namespace/<ns>/apply (one
// namespace, i.e. 10 services, per request, --clients in parallel) and the
// hollow nodes register, poll their spec and report through the REST API
// (bench/controller/api_hollow_nodes.h).
// --mode store: services and node reports are written to the store directly
// (test/integration/controller/hollow_nodes.h), for comparison.
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

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "api_hollow_nodes.h"
#include "client/client.h"
#include "hollow_nodes.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"

using namespace std::chrono_literals;
namespace keys = lb::storage::keys;

namespace {

struct Flags {
  std::string mode = "api";
  int clients = 8;         // concurrent apply requests (api mode)
  int specPollMs = 0;  // api mode: 0 = hollow nodes hold the spec long-poll, else poll period
  int apiThreads = 16;     // hollow node worker threads (api mode)
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

// A free TCP port on 127.0.0.1 for the api binary (its table refuses 0).
int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// The manifest file of one namespace: the Namespace and its services.
std::string namespaceManifests(const Flags& f, int nsIndex) {
  using Json = nlohmann::json;
  std::string ns = "ns" + std::to_string(nsIndex);
  Json docs = Json::array();
  docs.push_back({{"kind", "Namespace"}, {"version", "v1"}, {"meta", {{"name", ns}}}});
  for (int i = nsIndex * f.servicesPerNamespace;
       i < std::min(f.services, (nsIndex + 1) * f.servicesPerNamespace); ++i) {
    Json container = {{"name", "main"},
                      {"image", {{"name", "bench:1"}}},
                      {"resources", {{"request", {{"ram", "64MB"}, {"cpu", "100m"}}}}}};
    Json spec = {{"replicas", f.replicas},
                 {"template", {{"containers", Json::array({container})}}}};
    if (f.ports) spec["network"] = {{"ports", Json::array({"80:8080/tcp"})}};
    docs.push_back({{"kind", "Service"},
                    {"version", "v1"},
                    {"meta", {{"name", "svc" + std::to_string(i)}}},
                    {"spec", spec}});
  }
  return docs.dump();
}

// Services whose status is Ready, read through the API (one list per namespace).
int readyServices(lb::client::Client& c, int namespaces) {
  int ready = 0;
  for (int n = 0; n < namespaces; ++n) {
    auto body = c.get("/namespace/ns" + std::to_string(n) + "/service");
    if (!body.isOk()) continue;
    auto list = nlohmann::json::parse(*body, nullptr, false);
    if (!list.is_array()) continue;
    for (const auto& s : list)
      if (s.contains("status") && s["status"].value("state", "") == "ready") ready++;
  }
  return ready;
}


pid_t spawn(const std::string& binary, const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>("lastbackend")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

pid_t spawnController(const Flags& f) {
  return spawn(f.binary, {"controller", "--storage=sqlite", "--sqlite-path=" + f.db,
                          "--controller-id=bench",
                          std::string("--node-endpoints=") + (f.nodeEndpoints ? "true" : "false"),
                          "--node-offline-timeout=120s", "--services-cidr=10.96.0.0/12", "-v",
                          "0"});
}

// Waits until the controller holds the lease (read from the file directly:
// setup, before the clock starts).
void waitForLeader(const Flags& f) {
  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = f.db;
  auto store = lb::storage::open(so);
  if (!store.isOk()) return;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!(*store)->get("/system/controller/lead").isOk() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
}

double selfCpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double loadAverage() {
  double l[1] = {0};
  getloadavg(l, 1);
  return l[0];
}

using TimePoint = std::optional<std::chrono::steady_clock::time_point>;

void printTime(const char* name, const TimePoint& t, std::chrono::steady_clock::time_point t0,
               int total, int timeoutSeconds) {
  if (t) {
    std::printf("%s: %.3f s (%.0f pods/s)\n", name, seconds(*t - t0), total / seconds(*t - t0));
  } else {
    std::printf("%s: not reached within %d s\n", name, timeoutSeconds);
  }
}

// --mode api: api binary + controller binary on one SQLite file; services
// and hollow nodes through the REST API.
int runApiMode(const Flags& f) {
  const int total = f.services * f.replicas;
  const int namespaces = (f.services + f.servicesPerNamespace - 1) / f.servicesPerNamespace;
  std::filesystem::remove(f.db);
  const std::string token = "bench-token";
  const int port = freePort();
  pid_t api = spawn(f.binary, {"api", "--storage=sqlite", "--sqlite-path=" + f.db,
                               "--access-token=" + token, "--bind-address=127.0.0.1",
                               "--bind-port=" + std::to_string(port), "-v", "0"});
  lb::client::ClientOptions co;
  co.endpoint = "http://127.0.0.1:" + std::to_string(port);
  co.token = token;
  co.requestTimeout = std::chrono::milliseconds(120'000);
  co.maxIdleConnections = static_cast<size_t>(f.apiThreads + f.clients + 4);
  auto created = lb::client::Client::create(co);
  if (!created.isOk()) {
    std::fprintf(stderr, "client: %s\n", created.status().message().c_str());
    return 1;
  }
  std::shared_ptr<lb::client::Client> client(std::move(*created));
  auto up = std::chrono::steady_clock::now() + 30s;
  while (!client->get("/health").isOk() && std::chrono::steady_clock::now() < up)
    std::this_thread::sleep_for(20ms);
  pid_t ctl = spawnController(f);

  lb::controller::testing::ApiHollowOptions h;
  h.nodes = f.nodes;
  h.prefix = "h-node-";
  h.cpu = 16'000;
  h.ram = 64LL << 30;
  h.heartbeatInterval = 5s;
  h.specPoll = std::chrono::milliseconds(f.specPollMs);
  h.longPoll = f.specPollMs == 0;
  h.port = port;
  h.token = token;
  h.threads = f.apiThreads;
  lb::controller::testing::ApiHollowCluster hollow(client, h);
  const auto tRegister = std::chrono::steady_clock::now();
  if (auto s = hollow.registerAll(); !s.isOk()) {
    std::fprintf(stderr, "register: %s\n", s.message().c_str());
    kill(api, SIGTERM);
    kill(ctl, SIGTERM);
    return 1;
  }
  const double registerSeconds = seconds(std::chrono::steady_clock::now() - tRegister);
  waitForLeader(f);
  hollow.start();

  // Apply: one namespace (its services) per request, f.clients in flight.
  const auto t0 = std::chrono::steady_clock::now();
  std::atomic<int> nextNs{0}, applyErrors{0};
  std::vector<std::thread> appliers;
  for (int c = 0; c < f.clients; ++c) {
    appliers.emplace_back([&] {
      for (int n; (n = nextNs++) < namespaces;) {
        auto r = client->call("PUT", "/namespace/ns" + std::to_string(n) + "/apply", {},
                              namespaceManifests(f, n));
        if (!r.isOk()) {
          if (applyErrors++ == 0) std::fprintf(stderr, "apply: %s\n", r.status().message().c_str());
        }
      }
    });
  }
  for (auto& t : appliers) t.join();
  const auto tApplied = std::chrono::steady_clock::now();

  TimePoint tScheduled, tReady, tDeployments;
  long ctlPeak = 0, apiPeak = 0;
  const auto limit = t0 + std::chrono::seconds(f.timeoutSeconds);
  while (std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(100ms);
    ctlPeak = std::max(ctlPeak, rssKb(ctl, "VmHWM:"));
    apiPeak = std::max(apiPeak, rssKb(api, "VmHWM:"));
    auto now = std::chrono::steady_clock::now();
    if (!tScheduled && hollow.podsKnown() >= static_cast<size_t>(total)) tScheduled = now;
    if (!tReady && hollow.podsReported() >= total) tReady = now;
    if (tReady && !tDeployments && readyServices(*client, namespaces) >= f.services)
      tDeployments = std::chrono::steady_clock::now();
    if (tDeployments) break;
  }
  ctlPeak = std::max(ctlPeak, rssKb(ctl, "VmHWM:"));
  apiPeak = std::max(apiPeak, rssKb(api, "VmHWM:"));
  const double ctlCpu = cpuSeconds(ctl), apiCpu = cpuSeconds(api);
  const double load = loadAverage();
  hollow.stop();
  kill(ctl, SIGTERM);
  waitpid(ctl, nullptr, 0);
  kill(api, SIGTERM);
  waitpid(api, nullptr, 0);
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);

  std::printf("nodes: %d\nservices: %d\nreplicas: %d\npods: %d\n", f.nodes, f.services,
              f.replicas, total);
  std::printf(
      "path: REST API (lastbackend api process: apply, node meta/spec/status), controller = "
      "separate process, same SQLite file\n");
  std::printf("register_%d_nodes_seconds (before the clock): %.3f\n", f.nodes, registerSeconds);
  std::printf("apply_seconds (%d namespaces, %d clients): %.3f%s\n", namespaces, f.clients,
              seconds(tApplied - t0), applyErrors ? " (WITH ERRORS)" : "");
  printTime("all_scheduled", tScheduled, t0, total, f.timeoutSeconds);
  printTime("all_pods_ready", tReady, t0, total, f.timeoutSeconds);
  printTime("all_deployments_ready", tDeployments, t0, total, f.timeoutSeconds);
  std::printf("hollow_node_requests: %llu (%llu failed)\n",
              static_cast<unsigned long long>(hollow.requests()),
              static_cast<unsigned long long>(hollow.failures()));
  std::printf("controller_cpu: %.2f s\napi_cpu: %.2f s\n", ctlCpu, apiCpu);
  std::printf("bench_process_cpu (hollow nodes + apply clients): %.2f s\n", selfCpuSeconds());
  std::printf("load_average_1m: %.2f\n", load);
  std::printf("controller_peak_rss: %.1f MiB\napi_peak_rss: %.1f MiB\n", ctlPeak / 1024.0,
              apiPeak / 1024.0);
  std::printf("bench_process_peak_rss (hollow nodes + clients): %.1f MiB\n", ru.ru_maxrss / 1024.0);
  std::printf("total_peak_rss: %.1f MiB\n", (ctlPeak + apiPeak + ru.ru_maxrss) / 1024.0);
  std::error_code ec;
  std::printf("store_file: %.1f MB\n", std::filesystem::file_size(f.db, ec) / 1e6);
  std::filesystem::remove(f.db);
  std::filesystem::remove(f.db + "-wal");
  std::filesystem::remove(f.db + "-shm");
  return tDeployments ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  f.db = "/tmp/lb-bench-controller-" + std::to_string(getpid()) + ".db";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--mode")
      f.mode = next();
    else if (a == "--clients")
      f.clients = std::stoi(next());
    else if (a == "--spec-poll-ms")
      f.specPollMs = std::stoi(next());
    else if (a == "--api-threads")
      f.apiThreads = std::stoi(next());
    else if (a == "--nodes")
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
                   "usage: lb_bench_controller [--mode api|store] [--nodes N] [--services N]\n"
                   "  [--replicas N] [--clients N] [--spec-poll-ms MS] [--api-threads N]\n"
                   "  [--services-per-namespace N] [--hollow-threads N] [--timeout S]\n"
                   "  [--no-ports] [--node-endpoints] [--db PATH] [--binary PATH]\n");
      return 2;
    }
  }
  if (f.mode != "api" && f.mode != "store") {
    std::fprintf(stderr, "unknown --mode '%s' (valid: api, store)\n", f.mode.c_str());
    return 2;
  }
  if (f.mode == "api") return runApiMode(f);
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

  pid_t pid = spawnController(f);
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
