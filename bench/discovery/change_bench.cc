// lb_bench_dns_change: a service created in the store -> its name answers
// from discovery, and deleted -> NXDOMAIN. Discovery runs in-process on the
// SQLite store in a temp dir (as in `lastbackend server`), on 127.0.0.1,
// with `--services` endpoints already in the zone; `--changes` times an
// endpoint is written (then deleted) and the name is asked over UDP every
// 200 µs until the answer changes. Prints "name: value unit" lines.
//
//   lb_bench_dns_change [--services 10000] [--changes 300] [--dir /tmp]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "discovery/discovery.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "records.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Flags {
  int services = 10000;
  int changes = 300;
  std::string dir = fs::temp_directory_path().string();
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--services") f.services = std::atoi(argv[i + 1]);
    else if (k == "--changes") f.changes = std::atoi(argv[i + 1]);
    else if (k == "--dir") f.dir = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: lb_bench_dns_change [--services N] [--changes N] [--dir D]\n");
      std::exit(2);
    }
  }
  return f;
}

std::vector<uint8_t> query(const std::string& svc, const std::string& ns, uint16_t id) {
  std::vector<uint8_t> q = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const std::string& l : {svc, ns, std::string("lb"), std::string("local")}) {
    q.push_back(static_cast<uint8_t>(l.size()));
    q.insert(q.end(), l.begin(), l.end());
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

// The rcode of the answer to `q` (0xff: none within 50 ms); answers to
// earlier queries that come late are skipped.
int ask(int fd, const std::vector<uint8_t>& q) {
  ::send(fd, q.data(), q.size(), 0);
  const auto deadline = Clock::now() + 50ms;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) break;
    uint8_t buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n >= 12 && buf[0] == q[0] && buf[1] == q[1]) return buf[3] & 0x0f;
  }
  return 0xff;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  lb::log::setVerbosity(0);
  std::string tmpl = f.dir + "/lb-dns-change-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return 1;
  const fs::path dir = tmpl;
  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = (dir / "lb.db").string();
  auto opened = lb::storage::open(so);
  if (!opened.isOk()) {
    std::fprintf(stderr, "store: %s\n", opened.status().toString().c_str());
    return 1;
  }
  std::shared_ptr<lb::storage::Storage> store(std::move(*opened));
  for (int i = 0; i < f.services;) {
    std::vector<lb::storage::Op> ops;
    for (int k = 0; k < 500 && i < f.services; ++k, ++i) {
      const std::string ns = lb::bench::benchNamespace(i), svc = lb::bench::benchService(i);
      ops.push_back({lb::storage::Op::Type::kPut, *lb::storage::keys::endpointKey(ns, svc),
                     lb::bench::benchEndpointJson(ns, svc, lb::bench::benchVip(i)), std::nullopt});
    }
    if (!store->txn(ops).isOk()) return 1;
  }

  lb::config::DiscoveryConfig c;
  c.dns.host = "127.0.0.1";
  c.dns.port = 0;
  c.domain = "lb.local";
  c.resolvers = {"none"};
  c.ttl = 24h;
  auto d = lb::discovery::DiscoveryProcess::start(c, store);
  if (!d.isOk()) {
    std::fprintf(stderr, "discovery: %s\n", d.status().toString().c_str());
    return 1;
  }
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons((*d)->port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  // The zone holds the preloaded services first.
  const auto last =
      query(lb::bench::benchService(f.services - 1), lb::bench::benchNamespace(f.services - 1), 1);
  const auto loadStart = Clock::now();
  while (ask(fd, last) != 0)
    if (Clock::now() - loadStart > 30s) return 1;

  std::vector<double> created, deleted;
  uint16_t id = 2;
  auto waitFor = [&](const std::string& svc, int rcode, Clock::time_point from) {
    while (Clock::now() - from < 5s) {
      if (ask(fd, query(svc, "bench", id++)) == rcode)
        return std::chrono::duration<double, std::milli>(Clock::now() - from).count();
      std::this_thread::sleep_for(200us);
    }
    return 5000.0;
  };
  for (int i = 0; i < f.changes; ++i) {
    const std::string svc = "new" + std::to_string(i);
    const std::string key = *lb::storage::keys::endpointKey("bench", svc);
    const auto t0 = Clock::now();
    if (!store->set(key, lb::bench::benchEndpointJson("bench", svc, lb::bench::benchVip(60000 + i))).isOk())
      return 1;
    created.push_back(waitFor(svc, 0, t0));
    const auto t1 = Clock::now();
    if (!store->del(key).isOk()) return 1;
    deleted.push_back(waitFor(svc, 3, t1));
  }
  (*d)->stop();
  ::close(fd);
  std::error_code ec;
  fs::remove_all(dir, ec);
  std::printf("dns_change_services: %d services\n", f.services);
  std::printf("dns_create_to_answer_p50: %.2f ms\n", pct(created, 0.50));
  std::printf("dns_create_to_answer_p99: %.2f ms\n", pct(created, 0.99));
  std::printf("dns_create_to_answer_max: %.2f ms\n", pct(created, 1.0));
  std::printf("dns_delete_to_nxdomain_p50: %.2f ms\n", pct(deleted, 0.50));
  std::printf("dns_delete_to_nxdomain_p99: %.2f ms\n", pct(deleted, 0.99));
  std::printf("dns_delete_to_nxdomain_max: %.2f ms\n", pct(deleted, 1.0));
  return 0;
}
