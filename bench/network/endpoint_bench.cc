// lb_bench_endpoints: an endpoint change in the store -> its rules
// programmed on a node. An in-process REST API on the SQLite store in a
// temp dir (127.0.0.1, port 0) and a node agent with the real docker CRI
// ($DOCKER_HOST) and the real nftables CPI, in the network namespace the
// binary runs in (bench/network/network_bench.sh runs it inside a rig host).
// The endpoints are written to the store as the controller writes them
// (the cluster endpoint manifests), `--services` of them with `--backends`
// upstreams each; once all are programmed, `--changes` times one endpoint
// gets a new upstream and the time from the store write to the agent's
// update() returning is taken. Prints "name: value unit" lines.
//
//   lb_bench_endpoints [--services 1000] [--backends 10] [--changes 200]
//                      [--dir /tmp]

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/api.h"
#include "client/client.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/runtime/factory.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "lastbackend/types/codec.h"
#include "node/agent.h"
#include "node/cluster_link.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kToken[] = "bench-token";

struct Flags {
  int services = 1000;
  int backends = 10;
  int changes = 200;
  std::string dir = fs::temp_directory_path().string();
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--services") {
      f.services = std::max(1, std::atoi(v));
    } else if (k == "--backends") {
      f.backends = std::clamp(std::atoi(v), 1, 200);
    } else if (k == "--changes") {
      f.changes = std::max(1, std::atoi(v));
    } else if (k == "--dir") {
      f.dir = v;
    } else {
      std::fprintf(stderr, "lb_bench_endpoints: unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  return f;
}

std::string ip(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

// Service i: VIP 10.96.x.y, port 80 -> 8080, upstreams from 10.244.0.0/16.
lb::types::Endpoint endpoint(int i, int backends, uint32_t firstBackend) {
  lb::types::Endpoint e;
  e.meta.name = "svc" + std::to_string(i);
  e.meta.namespace_ = "bench";
  e.meta.selflink = "bench:" + e.meta.name;
  e.spec.ip = ip((10u << 24 | 96u << 16) + 10 + static_cast<uint32_t>(i));
  e.spec.ports.push_back({80, 8080, "tcp"});
  for (int b = 0; b < backends; ++b)
    e.spec.upstreams.push_back({ip(firstBackend + static_cast<uint32_t>(b)), 8080});
  e.spec.domain = e.meta.name + ".bench.lb.local";
  return e;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// What the agent has programmed lately, by endpoint.
class Programmed {
 public:
  void done(const std::string& name) {
    std::lock_guard lock(mu_);
    ++counts_[name];
    ++total_;
    at_[name] = Clock::now();
    cv_.notify_all();
  }
  int total() {
    std::lock_guard lock(mu_);
    return total_;
  }
  int count(const std::string& name) {
    std::lock_guard lock(mu_);
    return counts_[name];
  }
  // Waits until `name` was programmed more than `before` times.
  std::optional<Clock::time_point> waitFor(const std::string& name, int before,
                                           std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, limit, [&] { return counts_[name] > before; })) return std::nullopt;
    return at_[name];
  }
  bool waitTotal(int n, std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return total_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> counts_;
  std::map<std::string, Clock::time_point> at_;
  int total_ = 0;
};

int run(const Flags& f) {
  lb::log::setVerbosity(0);
  const fs::path dir = fs::path(f.dir) / ("lb-bench-ep-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = (dir / "lastbackend.db").string();
  auto opened = lb::storage::open(so);
  if (!opened.isOk()) {
    std::fprintf(stderr, "store: %s\n", opened.status().toString().c_str());
    return 1;
  }
  std::shared_ptr<lb::storage::Storage> store(std::move(*opened));
  lb::config::ApiConfig cfg;
  cfg.token = kToken;
  cfg.name = "bench";
  cfg.domainInternal = "lb.local";
  cfg.server.host = "127.0.0.1";
  cfg.server.port = 0;
  auto api = lb::api::Api::create(cfg, store, {});
  if (!api.isOk() || !(*api)->start().isOk()) {
    std::fprintf(stderr, "api: %s\n", api.isOk() ? "start failed" : api.status().toString().c_str());
    return 1;
  }
  lb::client::ClientOptions co;
  co.endpoint = "http://127.0.0.1:" + std::to_string((*api)->port());
  co.token = kToken;
  co.requestTimeout = 30s;
  auto client = lb::client::Client::create(co);
  if (!client.isOk()) return 1;

  auto cri = lb::runtime::cri::open({});
  auto cii = lb::runtime::cii::open({});
  lb::runtime::csi::Options vo;
  vo.root = (dir / "csi").string();
  auto csi = lb::runtime::csi::open(vo);
  auto cpi = lb::runtime::cpi::open({});
  if (!cri.isOk() || !cii.isOk() || !csi.isOk() || !cpi.isOk()) {
    std::fprintf(stderr, "runtimes: %s\n",
                 (!cri.isOk() ? cri.status() : !cpi.isOk() ? cpi.status() : csi.status())
                     .toString()
                     .c_str());
    return 1;
  }

  // The endpoints first (as a controller that ran before the node).
  const auto t0 = Clock::now();
  for (int i = 0; i < f.services; ++i) {
    auto e = endpoint(i, f.backends, (10u << 24 | 244u << 16) + 2 + static_cast<uint32_t>(i * 16));
    auto key = lb::storage::keys::clusterEndpointManifestKey(e.meta.selflink);
    if (!store->set(*key, lb::types::toJson(e)).isOk()) return 1;
  }
  const double writeMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

  Programmed programmed;
  lb::node::AgentOptions ao;
  ao.node = "bench-node";
  ao.host.info.hostname = ao.node;
  ao.host.info.internalIp = "127.0.0.1";
  ao.stateFile = (dir / "agent.json").string();
  ao.cpi = cpi->get();
  ao.networkResync = 3600s;  // no full pass during the measurement
  ao.onEndpointProgrammed = [&](const std::string& name) { programmed.done(name); };
  auto link = lb::node::makeApiLink(client->get(), ao.node);
  lb::node::Agent agent(ao, link.get(), cri->get(), cii->get(), csi->get());
  const auto started = Clock::now();
  if (!agent.start().isOk()) return 1;
  if (!programmed.waitTotal(f.services, 300s)) {
    std::fprintf(stderr, "only %d of %d endpoints programmed in 300 s\n", programmed.total(),
                 f.services);
    return 1;
  }
  const double initialMs = std::chrono::duration<double, std::milli>(Clock::now() - started).count();

  std::vector<double> lat;
  for (int c = 0; c < f.changes; ++c) {
    const int i = (c * 7919) % f.services;
    auto e = endpoint(i, f.backends, (10u << 24 | 244u << 16) + 2 + static_cast<uint32_t>(i * 16));
    e.spec.upstreams.back().ip = ip((10u << 24 | 245u << 16) + static_cast<uint32_t>(c));
    auto key = lb::storage::keys::clusterEndpointManifestKey(e.meta.selflink);
    const int before = programmed.count(e.meta.selflink);
    const auto w = Clock::now();
    if (!store->set(*key, lb::types::toJson(e)).isOk()) return 1;
    auto at = programmed.waitFor(e.meta.selflink, before, 30s);
    if (!at) {
      std::fprintf(stderr, "change %d of '%s' not programmed in 30 s\n", c, e.meta.selflink.c_str());
      return 1;
    }
    lat.push_back(std::chrono::duration<double, std::milli>(*at - w).count());
    std::this_thread::sleep_for(20ms);  // changes apart, as a rollout's come
  }
  agent.stop();

  // The data plane as a restarted agent reads it back (its resync).
  auto c0 = Clock::now();
  auto info = (*cpi)->info();
  const double infoMs = std::chrono::duration<double, std::milli>(Clock::now() - c0).count();
  const size_t listed = info.isOk() ? info->size() : 0;
  if (info.isOk())
    for (const auto& [k, s] : *info) (void)(*cpi)->destroy(s);
  (*api)->stop();
  std::error_code ec;
  fs::remove_all(dir, ec);

  const std::string tag = std::to_string(f.services) + "x" + std::to_string(f.backends);
  std::printf("endpoints_store_write_%s: %.0f ms\n", tag.c_str(), writeMs);
  std::printf("endpoints_initial_program_%s: %.0f ms\n", tag.c_str(), initialMs);
  std::printf("endpoint_change_to_programmed_p50_%s: %.1f ms\n", tag.c_str(), percentile(lat, 0.50));
  std::printf("endpoint_change_to_programmed_p99_%s: %.1f ms\n", tag.c_str(), percentile(lat, 0.99));
  std::printf("endpoint_change_to_programmed_max_%s: %.1f ms\n", tag.c_str(),
              *std::max_element(lat.begin(), lat.end()));
  std::printf("cpi_info_listing_%s: %.0f ms (%zu endpoints)\n", tag.c_str(), infoMs, listed);
  return listed == static_cast<size_t>(f.services) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) { return run(parse(argc, argv)); }
