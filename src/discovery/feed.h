#pragma once

// Keeps the zone equal to the endpoints in the store: lists them, then
// watches from the listing's revision, so no change falls in between; when
// the watch falls behind the store's history (or fails) it lists again.

#include <atomic>
#include <memory>
#include <thread>

#include "discovery/zone.h"
#include "lastbackend/storage/storage.h"

namespace lb::discovery {

class Feed {
 public:
  Feed(std::shared_ptr<storage::Storage> store, Zone& zone);
  ~Feed();  // stops

  void start();
  void stop();
  // The first listing is in the zone.
  bool ready() const { return ready_.load(); }
  // Store revision the zone reflects.
  int64_t revision() const { return revision_.load(); }

 private:
  void loop();
  bool list();  // false on a store error (logged)

  std::shared_ptr<storage::Storage> store_;
  Zone& zone_;
  std::atomic<bool> stopping_{false}, ready_{false};
  std::atomic<int64_t> revision_{0};
  std::mutex mu_;
  std::unique_ptr<storage::WatchStream> watch_;  // under mu_, for stop()
  std::thread thread_;
};

}  // namespace lb::discovery
