#include "discovery/feed.h"

#include <malloc.h>

#include <chrono>

#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/codec.h"

namespace lb::discovery {

namespace {

using namespace std::chrono_literals;
constexpr auto kRetry = 1s;

const std::string& prefix() {
  static const std::string p =
      storage::keys::collectionPrefix(storage::keys::Collection::kEndpoint);
  return p;
}

}  // namespace

Feed::Feed(std::shared_ptr<storage::Storage> store, Zone& zone)
    : store_(std::move(store)), zone_(zone) {}

Feed::~Feed() { stop(); }

void Feed::start() {
  thread_ = std::thread([this] { loop(); });
}

void Feed::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mu_);
    if (watch_) watch_->cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool Feed::list() {
  auto l = store_->list(prefix());
  if (!l.isOk()) {
    spdlog::warn("discovery: listing endpoints: {}", l.status().message());
    return false;
  }
  // One endpoint at a time, each raw record freed once read: the listing
  // and the new zone are never both held whole.
  Zone::Snapshot fresh;
  for (auto& o : l->items) {
    types::Endpoint ep;
    Status s = types::fromJson(o.value, &ep);
    o.value = std::string();
    if (!s.isOk()) {
      spdlog::warn("discovery: endpoint '{}' is unreadable, skipped: {}", o.key, s.message());
      continue;
    }
    ep.meta.selflink = o.key.substr(prefix().size());
    zone_.add(fresh, ep);
  }
  const size_t services = fresh.services();
  l->items = {};
  zone_.replace(std::move(fresh));
  zone_.setSerial(l->revision);
  malloc_trim(0);  // the listing's pages go back to the system
  revision_ = l->revision;
  if (!ready_.exchange(true))
    spdlog::info("discovery: {} services in the zone (store revision {})", services, l->revision);
  return true;
}

void Feed::loop() {
  while (!stopping_) {
    if (!list()) {
      std::this_thread::sleep_for(kRetry);
      continue;
    }
    auto w = store_->watch(prefix(), revision_);
    if (!w.isOk()) {
      spdlog::warn("discovery: watching endpoints: {}", w.status().message());
      std::this_thread::sleep_for(kRetry);
      continue;
    }
    {
      std::lock_guard lock(mu_);
      watch_ = std::move(*w);
      if (stopping_) break;
    }
    while (!stopping_) {
      auto events = watch_->next(1s);
      if (!events.isOk()) {
        if (!stopping_)
          spdlog::info("discovery: endpoint watch ended ({}); listing again",
                       events.status().message());
        break;
      }
      for (const auto& e : *events) {
        const std::string selflink = e.key.substr(prefix().size());
        if (e.type == storage::Event::Type::kDelete) {
          zone_.remove(selflink);
        } else {
          types::Endpoint ep;
          if (Status s = types::fromJson(e.value, &ep); !s.isOk()) {
            spdlog::warn("discovery: endpoint '{}' is unreadable, skipped: {}", e.key, s.message());
            continue;
          }
          ep.meta.selflink = selflink;
          zone_.put(ep);
        }
        revision_ = e.revision;
      }
      if (!events->empty()) zone_.setSerial(revision_);
    }
    std::lock_guard lock(mu_);
    watch_.reset();
  }
}

}  // namespace lb::discovery
