// lb_bench_dns_populate: the data of bench/discovery/discovery_bench.sh.
// Writes `--services` endpoints into a SQLite store (as the controller
// stores them), the same records as Knot DNS zone files (lb.local, the
// reverse zone of the VIPs, and example.test for the outside names), and a
// dnsperf query file: 60% A hits, 15% SRV hits, 15% NXDOMAIN in lb.local,
// 10% outside names (300 distinct, so discovery answers them from cache),
// in a fixed pseudo-random order.
//
//   lb_bench_dns_populate --db FILE --out DIR [--services 10000] [--queries 200000]

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "lastbackend/storage/keys.h"
#include "lastbackend/storage/storage.h"
#include "records.h"

int main(int argc, char** argv) {
  std::string db, out;
  int services = 10000, queries = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--db") db = argv[i + 1];
    else if (k == "--out") out = argv[i + 1];
    else if (k == "--services") services = std::atoi(argv[i + 1]);
    else if (k == "--queries") queries = std::atoi(argv[i + 1]);
  }
  if (db.empty() || out.empty() || services <= 0 || services > 65536) {
    std::fprintf(stderr,
                 "usage: lb_bench_dns_populate --db FILE --out DIR [--services 1..65536] [--queries N]\n");
    return 2;
  }
  lb::storage::Options so;
  so.driver = "sqlite";
  so.sqlitePath = db;
  auto store = lb::storage::open(so);
  if (!store.isOk()) {
    std::fprintf(stderr, "store: %s\n", store.status().toString().c_str());
    return 1;
  }
  std::ofstream zone(out + "/lb.local.zone"), reverse(out + "/96.10.in-addr.arpa.zone"),
      outside(out + "/example.test.zone"), q(out + "/queries");
  const char* soa = "@ 5 SOA ns hostmaster 1 7200 1800 86400 5\n@ 5 NS ns\n";
  zone << "$ORIGIN lb.local.\n" << soa << "ns 5 A 127.0.0.1\n";
  reverse << "$ORIGIN 96.10.in-addr.arpa.\n" << soa << "ns 5 A 127.0.0.1\n";
  outside << "$ORIGIN example.test.\n$TTL 300\n@ SOA ns hostmaster 1 7200 1800 86400 60\n@ NS ns\n"
             "ns A 127.0.0.1\n";
  for (int i = 0; i < 300; ++i) outside << "host-" << i << " A 192.0.2." << (i % 250 + 1) << "\n";

  for (int i = 0; i < services;) {
    std::vector<lb::storage::Op> ops;
    for (int k = 0; k < 500 && i < services; ++k, ++i) {
      const std::string ns = lb::bench::benchNamespace(i), svc = lb::bench::benchService(i);
      const std::string vip = lb::bench::benchVip(i);
      ops.push_back({lb::storage::Op::Type::kPut, *lb::storage::keys::endpointKey(ns, svc),
                     lb::bench::benchEndpointJson(ns, svc, vip), std::nullopt});
      const std::string name = svc + "." + ns;
      zone << name << " 5 A " << vip << "\n_80._tcp." << name << " 5 SRV 0 100 80 " << name
           << ".lb.local.\n";
      reverse << (i % 256) << "." << ((i / 256) % 256) << " 5 PTR " << name << ".lb.local.\n";
    }
    auto rev = (*store)->txn(ops);
    if (!rev.isOk()) {
      std::fprintf(stderr, "store: %s\n", rev.status().toString().c_str());
      return 1;
    }
  }
  std::mt19937 rng(20261203);
  for (int n = 0; n < queries; ++n) {
    const int pick = static_cast<int>(rng() % 100);
    const int i = static_cast<int>(rng() % static_cast<unsigned>(services));
    const std::string name = lb::bench::benchService(i) + "." + lb::bench::benchNamespace(i) + ".lb.local";
    if (pick < 60) q << name << " A\n";
    else if (pick < 75) q << "_80._tcp." << name << " SRV\n";
    else if (pick < 90) q << "missing" << i << "." << lb::bench::benchNamespace(i) << ".lb.local A\n";
    else q << "host-" << (i % 300) << ".example.test A\n";
  }
  std::printf("populate: %d services, %d queries in %s\n", services, queries, out.c_str());
  return 0;
}
