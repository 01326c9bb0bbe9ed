// lb_bench_storage: write throughput and watch latency of the storage
// drivers. Prints "name: value unit" lines; bounded to well under a minute.
//
//   lb_bench_storage [--drivers mock,sqlite] [--seconds 2] [--dir /tmp]

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lastbackend/storage/storage.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using lb::storage::Storage;

std::unique_ptr<Storage> openStore(const std::string& driver, const std::string& path) {
  lb::storage::Options o;
  o.driver = driver;
  o.sqlitePath = path;
  auto s = lb::storage::open(o);
  if (!s) {
    std::fprintf(stderr, "open %s: %s\n", driver.c_str(), s.status().toString().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// Durable set() calls per second from `writers` threads over 1000 keys.
double writeRate(Storage& s, int writers, std::chrono::duration<double> length) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::string value(256, 'x');
  std::vector<std::thread> ts;
  auto start = Clock::now();
  for (int t = 0; t < writers; ++t) {
    ts.emplace_back([&, t] {
      long n = 0;
      for (long i = 0; !stop.load(std::memory_order_relaxed); ++i, ++n) {
        auto r = s.set("/bench/" + std::to_string((t * 7919 + i) % 1000), value);
        if (!r) {
          std::fprintf(stderr, "set: %s\n", r.status().toString().c_str());
          std::exit(1);
        }
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(length);
  stop = true;
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(done.load()) / secs;
}

struct Latency {
  double p50 = 0, p99 = 0, max = 0;
  size_t samples = 0;
};

// `watchers` streams on `reader`; `writer` writes `writes` values, each
// carrying the steady-clock time taken just before its set(). Latency is
// that time to delivery at each watcher.
Latency watchLatency(Storage& writer, Storage& reader, int watchers, int writes) {
  auto from = reader.info();
  if (!from) std::exit(1);
  std::vector<std::unique_ptr<lb::storage::WatchStream>> streams;
  for (int i = 0; i < watchers; ++i) {
    auto w = reader.watch("/lat/", from->revision);
    if (!w) {
      std::fprintf(stderr, "watch: %s\n", w.status().toString().c_str());
      std::exit(1);
    }
    streams.push_back(std::move(*w));
  }
  std::mutex mu;
  std::vector<double> samples;
  std::vector<std::thread> ts;
  for (auto& w : streams) {
    ts.emplace_back([&, ws = w.get()] {
      std::vector<double> mine;
      while (static_cast<int>(mine.size()) < writes) {
        auto got = ws->next(200ms);
        if (!got) break;
        auto now = Clock::now().time_since_epoch().count();
        for (auto& e : *got) mine.push_back((now - std::stoll(e.value)) / 1e6);
      }
      std::lock_guard lock(mu);
      samples.insert(samples.end(), mine.begin(), mine.end());
    });
  }
  for (int i = 0; i < writes; ++i) {
    auto t0 = Clock::now().time_since_epoch().count();
    if (!writer.set("/lat/k" + std::to_string(i % 10), std::to_string(t0))) std::exit(1);
    std::this_thread::sleep_for(1ms);
  }
  for (auto& t : ts) t.join();
  std::sort(samples.begin(), samples.end());
  Latency l;
  l.samples = samples.size();
  if (!samples.empty()) {
    l.p50 = samples[samples.size() / 2];
    l.p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
    l.max = samples.back();
  }
  return l;
}

void printLatency(const std::string& name, const Latency& l, size_t expected) {
  std::printf("%s.p50: %.3f ms\n%s.p99: %.3f ms\n%s.max: %.3f ms\n", name.c_str(), l.p50,
              name.c_str(), l.p99, name.c_str(), l.max);
  if (l.samples != expected) {
    std::printf("%s.delivered: %zu of %zu events\n", name.c_str(), l.samples, expected);
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> drivers = {"mock", "sqlite"};
  double seconds = 2;
  std::string base = fs::temp_directory_path().string();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--seconds") {
      seconds = std::stod(argv[i + 1]);
    } else if (a == "--dir") {
      base = argv[i + 1];
    } else if (a == "--drivers") {
      drivers.clear();
      std::string v = argv[i + 1];
      for (size_t p = 0; p <= v.size();) {
        size_t c = v.find(',', p);
        if (c == std::string::npos) c = v.size();
        drivers.push_back(v.substr(p, c - p));
        p = c + 1;
      }
    }
  }
  std::string dir = base + "/lb-bench-storage-" + std::to_string(::getpid());
  fs::create_directories(dir);
  constexpr int kWatchers = 100, kWrites = 500;
  for (const auto& d : drivers) {
    std::string path = dir + "/" + d + ".db";
    auto s = openStore(d, path);
    std::string n = "storage." + d;
    std::printf("%s.write.1_writer: %.0f writes/s\n", n.c_str(),
                writeRate(*s, 1, std::chrono::duration<double>(seconds)));
    std::fflush(stdout);
    std::printf("%s.write.64_writers: %.0f writes/s\n", n.c_str(),
                writeRate(*s, 64, std::chrono::duration<double>(seconds)));
    std::fflush(stdout);
    printLatency(n + ".watch.100_watchers", watchLatency(*s, *s, kWatchers, kWrites),
                 size_t{kWatchers} * kWrites);
    if (d == "sqlite") {
      // Watchers on a second instance of the same file: what another process
      // (controller beside api) sees, delivered by the change-table poller.
      auto other = openStore(d, path);
      printLatency(n + ".watch.100_watchers_other_instance",
                   watchLatency(*s, *other, kWatchers, kWrites), size_t{kWatchers} * kWrites);
      std::printf("%s.file_bytes: %llu bytes\n", n.c_str(),
                  static_cast<unsigned long long>(s->info()->bytes));
    }
  }
  fs::remove_all(dir);
}
