// lb_bench_api: throughput and latency of the REST API. An in-process
// lb::api::Api (default io/worker threads, the same as `lastbackend api`) on
// the SQLite store in a temp dir, 127.0.0.1 port 0, driven by concurrent
// keep-alive lb_client connections over loopback. Prints "name: value unit"
// lines; every phase is bounded in time.
//
//   lb_bench_api [--seconds 5] [--clients 64] [--list10k-clients 8]
//                [--phases get,list1k,list10k,create,update] [--dir /tmp]
//
// GET, LIST of 1,000, create and update run with --clients; LIST of 10,000
// once with one client (latency unloaded) and with --list10k-clients: each
// such list costs the server about half a CPU-second today, so 64 of them
// at once are a queue of tens of seconds, not a latency measurement.
//
// Client and server threads run in the same process and share the CPUs: on
// a 2-core machine the figures are what the pair achieves, not the server.

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/api.h"
#include "client/client.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr char kToken[] = "bench-token";

struct Flags {
  double seconds = 5;
  int clients = 64;
  int list10kClients = 8;
  std::string phases = "get,list1k,list10k,create,update";
  std::string dir = fs::temp_directory_path().string();
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "lb_bench_api: %s\n", what.c_str());
  std::exit(1);
}

// "VmRSS" / "VmHWM" of this process, in MiB.
double procStatusMiB(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::atof(line.c_str() + std::strlen(field) + 1) / 1024;
  }
  return 0;
}

std::unique_ptr<lb::client::Client> makeClient(uint16_t port) {
  lb::client::ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.token = kToken;
  o.maxRetries = 0;  // a failure is a failure, not a hidden retry
  o.requestTimeout = std::chrono::seconds(60);
  auto c = lb::client::Client::create(o);
  if (!c.isOk()) die("client: " + c.status().toString());
  return std::move(*c);
}

Json serviceManifest(const std::string& name) {
  return Json{
      {"kind", "Service"},
      {"version", "v1"},
      {"meta", {{"name", name}, {"labels", {{"app", "bench"}, {"tier", "web"}}}}},
      {"spec",
       {{"replicas", 2},
        {"network", {{"ports", Json::array({"80:8080/tcp"})}}},
        {"template",
         {{"containers",
           Json::array({{{"name", "main"},
                         {"image", {{"name", "nginx:1.25"}}},
                         {"env", Json::array({{{"name", "MODE"}, {"value", "prod"}}})}}})}}}}}};
}

Json secretManifest(const std::string& name, const std::string& value, int64_t revision) {
  Json j{{"kind", "Secret"},
         {"version", "v1"},
         {"meta", {{"name", name}}},
         {"spec", {{"type", "text"}, {"data", Json::array({{{"key", "v"}, {"value", value}}})}}}};
  if (revision) j["meta"]["revision"] = revision;
  return j;
}

void mustCall(lb::client::Client& c, const std::string& method, const std::string& path,
              const std::string& body = "") {
  auto r = c.call(method, path, {}, body);
  if (!r.isOk()) die(method + " " + path + ": " + r.status().toString());
}

// `count` copies of the stored service `templ`, named <prefix>-<i>, written
// straight to the store in batches (what the API would have stored, minus
// the API's own time: seeding is not measured).
void seedServices(lb::storage::Storage& store, const std::string& ns, const std::string& templ,
                  int count) {
  auto key = lb::storage::keys::serviceKey(ns, templ);
  auto stored = store.get(*key);
  if (!stored.isOk()) die("seed: " + stored.status().toString());
  auto svc = lb::types::parseJson<lb::types::Service>(stored->value);
  if (!svc.isOk()) die("seed: " + svc.status().toString());
  std::vector<lb::storage::Op> batch;
  for (int i = 0; i < count; ++i) {
    lb::types::Service s = *svc;
    s.meta.name = "svc-" + std::to_string(i);
    s.meta.selflink = ns + ":" + s.meta.name;
    s.meta.revision = 0;
    batch.push_back({lb::storage::Op::Type::kPut, *lb::storage::keys::serviceKey(ns, s.meta.name),
                     lb::types::toJson(s), 0});
    if (batch.size() == 500 || i + 1 == count) {
      auto r = store.txn(batch);
      if (!r.isOk()) die("seed txn: " + r.status().toString());
      batch.clear();
    }
  }
}

struct Result {
  long ok = 0, failed = 0;
  double seconds = 0;
  double clientCpu = 0, processCpu = 0;  // CPU seconds during the phase
  std::vector<double> latMs;             // sorted
  std::string firstError;
};

// One operation of client `idx`: true on success, false (with a message) on
// an unexpected answer.
using Op = std::function<bool(int idx, long iter, std::string* err)>;

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double processCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

Result runPhase(int clients, double seconds, const Op& op) {
  std::atomic<bool> stop{false};
  std::vector<double> cpu(clients, 0);
  std::vector<std::vector<double>> lat(clients);
  std::vector<long> failed(clients, 0);
  std::vector<std::string> errors(clients);
  std::vector<std::thread> ts;
  auto start = Clock::now();
  for (int t = 0; t < clients; ++t) {
    ts.emplace_back([&, t] {
      lat[t].reserve(1 << 16);
      for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto t0 = Clock::now();
        std::string err;
        bool ok = op(t, i, &err);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (ok) {
          lat[t].push_back(ms);
        } else {
          ++failed[t];
          if (errors[t].empty()) errors[t] = err;
        }
      }
      cpu[t] = threadCpuSeconds();
    });
  }
  double cpu0 = processCpuSeconds();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts) t.join();
  Result r;
  // Requests in flight when the phase ended are counted: divide by the time
  // the last one took to finish.
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.processCpu = processCpuSeconds() - cpu0;
  for (double c : cpu) r.clientCpu += c;
  for (int t = 0; t < clients; ++t) {
    r.latMs.insert(r.latMs.end(), lat[t].begin(), lat[t].end());
    r.failed += failed[t];
    if (r.firstError.empty()) r.firstError = errors[t];
  }
  r.ok = static_cast<long>(r.latMs.size());
  std::sort(r.latMs.begin(), r.latMs.end());
  return r;
}

double pct(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

void report(const std::string& name, int clients, const Result& r) {
  std::printf("%s_clients: %d\n", name.c_str(), clients);
  std::printf("%s_throughput: %.0f req/s\n", name.c_str(), static_cast<double>(r.ok) / r.seconds);
  std::printf("%s_p50: %.2f ms\n", name.c_str(), pct(r.latMs, 0.50));
  std::printf("%s_p99: %.2f ms\n", name.c_str(), pct(r.latMs, 0.99));
  std::printf("%s_max: %.2f ms\n", name.c_str(), r.latMs.empty() ? 0 : r.latMs.back());
  std::printf("%s_errors: %ld count\n", name.c_str(), r.failed);
  // CPU in cores (CPU seconds per second): the client threads' own, and the
  // rest of the process (server io/worker threads, store committer).
  std::printf("%s_cpu_clients: %.2f cores\n", name.c_str(), r.clientCpu / r.seconds);
  const double serverCpu = std::max(0.0, r.processCpu - r.clientCpu);
  std::printf("%s_cpu_server: %.2f cores\n", name.c_str(), serverCpu / r.seconds);
  // Per request: what decides the ceiling on a machine of N free cores
  // (N / (server + client CPU per request)), whatever else ran meanwhile.
  if (r.ok) {
    std::printf("%s_server_cpu_per_req: %.0f us\n", name.c_str(),
                serverCpu / static_cast<double>(r.ok) * 1e6);
    std::printf("%s_client_cpu_per_req: %.0f us\n", name.c_str(),
                r.clientCpu / static_cast<double>(r.ok) * 1e6);
  }
  if (r.failed) std::fprintf(stderr, "%s: first error: %s\n", name.c_str(), r.firstError.c_str());
  // The process's: server plus the client threads (their stacks and the
  // response bodies they hold; compare with rss_after_seed, the server alone).
  std::printf("%s_rss: %.1f MiB\n", name.c_str(), procStatusMiB("VmRSS:"));
  std::fflush(stdout);
}

bool has(const std::string& list, const std::string& name) {
  std::stringstream in(list);
  for (std::string p; std::getline(in, p, ',');)
    if (p == name) return true;
  return false;
}

Flags parseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seconds")
      f.seconds = std::atof(value().c_str());
    else if (a == "--clients")
      f.clients = std::atoi(value().c_str());
    else if (a == "--list10k-clients")
      f.list10kClients = std::atoi(value().c_str());
    else if (a == "--phases")
      f.phases = value();
    else if (a == "--dir")
      f.dir = value();
    else
      die("unknown flag " + a +
          " (valid: --seconds, --clients, --list10k-clients, --phases, --dir)");
  }
  if (f.seconds <= 0 || f.clients <= 0 || f.list10kClients <= 0) die("values must be positive");
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = parseFlags(argc, argv);
  lb::log::setVerbosity(0);

  std::string tmpl = (fs::path(flags.dir) / "lb-bench-api-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) die("mkdtemp in " + flags.dir + ": " + std::strerror(errno));
  const std::string dir = tmpl;

  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = dir + "/lastbackend.db";
  auto opened = lb::storage::open(so);
  if (!opened.isOk()) die("store: " + opened.status().toString());
  std::shared_ptr<lb::storage::Storage> store(std::move(*opened));

  lb::config::ApiConfig cfg;
  cfg.token = kToken;
  cfg.name = "bench";
  cfg.domainInternal = "lb.local";
  cfg.server.host = "127.0.0.1";
  cfg.server.port = 0;
  lb::api::ApiOptions ao;  // default io and worker threads, as `lastbackend api`
  auto api = lb::api::Api::create(cfg, store, ao);
  if (!api.isOk()) die("api: " + api.status().toString());
  if (auto s = (*api)->start(); !s.isOk()) die("start: " + s.toString());
  const uint16_t port = (*api)->port();
  std::printf("server_threads: io %d worker %d\n", ao.ioThreads, ao.workerThreads);
  std::printf("cpus: %u\n", std::thread::hardware_concurrency());

  // Seed through the API (namespaces, template objects), bulk copies through the store.
  auto admin = makeClient(port);
  auto seedStart = Clock::now();
  for (const char* ns : {"get", "l1k", "l10k", "create", "update"})
    mustCall(*admin, "POST", "/namespace", Json{{"name", ns}}.dump());
  for (const char* ns : {"get", "l1k", "l10k"})
    mustCall(*admin, "POST", std::string("/namespace/") + ns + "/service",
             serviceManifest("one").dump());
  seedServices(*store, "l1k", "one", 999);
  seedServices(*store, "l10k", "one", 9'999);
  std::vector<int64_t> secretRev(flags.clients, 0);
  for (int i = 0; i < flags.clients; ++i) {
    auto r = admin->post("/namespace/update/secret",
                         secretManifest("s" + std::to_string(i), "0", 0).dump());
    if (!r.isOk()) die("seed secret: " + r.status().toString());
    secretRev[i] = Json::parse(*r)["meta"]["revision"].get<int64_t>();
  }
  std::printf("seed_time: %.2f s\n",
              std::chrono::duration<double>(Clock::now() - seedStart).count());
  std::printf("rss_after_seed: %.1f MiB\n", procStatusMiB("VmRSS:"));

  // One keep-alive connection per client thread.
  const int maxClients = std::max(flags.clients, flags.list10kClients);
  std::vector<std::unique_ptr<lb::client::Client>> cs;
  for (int i = 0; i < maxClients; ++i) cs.push_back(makeClient(port));

  // A GET op; for a list, checked once beforehand to hold `expectItems`,
  // then every answer must have the same size (parsing 5 MB per request
  // would load the shared CPUs with client work).
  auto getOp = [&](const std::string& path, size_t expectItems) -> Op {
    size_t size = 0;
    if (expectItems) {
      auto body = admin->get(path);
      if (!body.isOk()) die("GET " + path + ": " + body.status().toString());
      auto j = Json::parse(*body, nullptr, false);
      if (!j.is_array() || j.size() != expectItems)
        die(path + " lists " + std::to_string(j.size()) + " items, expected " +
            std::to_string(expectItems));
      size = body->size();
      std::printf("%s_body: %.2f MiB\n", path.c_str(), static_cast<double>(size) / (1 << 20));
    }
    return [&cs, path, size](int idx, long, std::string* err) {
      auto r = cs[idx]->send("GET", path);
      if (!r.isOk()) return *err = r.status().toString(), false;
      if (r->status != 200) return *err = std::to_string(r->status) + " " + r->body, false;
      if (size && r->body.size() != size)
        return *err = "list of " + std::to_string(r->body.size()) + " bytes", false;
      return true;
    };
  };

  if (has(flags.phases, "get"))
    report("get", flags.clients,
           runPhase(flags.clients, flags.seconds, getOp("/namespace/get/service/one", 0)));
  if (has(flags.phases, "list1k"))
    report("list1k", flags.clients,
           runPhase(flags.clients, flags.seconds, getOp("/namespace/l1k/service", 1'000)));
  if (has(flags.phases, "list10k")) {
    // Unloaded latency first (one client), then under load.
    report("list10k_single", 1,
           runPhase(1, flags.seconds / 2, getOp("/namespace/l10k/service", 10'000)));
    report("list10k", flags.list10kClients,
           runPhase(flags.list10kClients, flags.seconds, getOp("/namespace/l10k/service", 10'000)));
  }
  if (has(flags.phases, "create")) {
    // POST of a new service: validation, one conditional insert, fsync.
    Op create = [&](int idx, long iter, std::string* err) {
      auto r = cs[idx]->send(
          "POST", "/namespace/create/service", {},
          serviceManifest("c" + std::to_string(idx) + "-" + std::to_string(iter)).dump());
      if (!r.isOk()) return *err = r.status().toString(), false;
      if (r->status != 201) return *err = std::to_string(r->status) + " " + r->body, false;
      return true;
    };
    report("create", flags.clients, runPhase(flags.clients, flags.seconds, create));
  }
  if (has(flags.phases, "update")) {
    // PUT of each client's own secret with meta.revision (compare-and-swap):
    // read-check-write in the API, one conditional update, fsync.
    Op update = [&](int idx, long iter, std::string* err) {
      auto r = cs[idx]->send(
          "PUT", "/namespace/update/secret/s" + std::to_string(idx), {},
          secretManifest("s" + std::to_string(idx), std::to_string(iter + 1), secretRev[idx])
              .dump());
      if (!r.isOk()) return *err = r.status().toString(), false;
      if (r->status != 200) return *err = std::to_string(r->status) + " " + r->body, false;
      auto j = Json::parse(r->body, nullptr, false);
      if (!j.is_object()) return *err = "not JSON: " + r->body, false;
      secretRev[idx] = j["meta"]["revision"].get<int64_t>();
      return true;
    };
    report("update_cas", flags.clients, runPhase(flags.clients, flags.seconds, update));
  }

  long opened_ = 0;
  for (auto& c : cs) opened_ += static_cast<long>(c->connectionsOpened());
  std::printf("connections_opened: %ld count\n", opened_);
  std::printf("rss_peak: %.1f MiB\n", procStatusMiB("VmHWM:"));
  cs.clear();
  admin.reset();
  (*api)->stop();
  api->reset();
  store.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
