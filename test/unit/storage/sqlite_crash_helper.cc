// Writes to a sqlite store from several threads until killed, printing one
// line "<thread> <i> <revision>" per acknowledged write. The crash test
// SIGKILLs it mid-stream and checks every acknowledged write survived.

#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lastbackend/storage/storage.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <db path> <threads>\n", argv[0]);
    return 2;
  }
  lb::storage::Options o;
  o.driver = "sqlite";
  o.sqlitePath = argv[1];
  o.historySize = 500;  // trimming runs during the crash too
  auto store = lb::storage::open(o);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.status().toString().c_str());
    return 1;
  }
  int threads = std::stoi(argv[2]);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (long i = 0;; ++i) {
        std::string key = "/crash/" + std::to_string(t) + "/" + std::to_string(i % 200);
        auto r = (*store)->set(key, std::to_string(t) + ":" + std::to_string(i));
        if (!r) {
          std::fprintf(stderr, "%s\n", r.status().toString().c_str());
          _exit(1);
        }
        // One write(2) per line: lines from threads never interleave.
        std::string line =
            std::to_string(t) + " " + std::to_string(i) + " " + std::to_string(*r) + "\n";
        if (::write(1, line.data(), line.size()) < 0) _exit(1);
      }
    });
  }
  for (auto& t : ts) t.join();
}
