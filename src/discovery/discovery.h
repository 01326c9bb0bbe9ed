#pragma once

// `lastbackend discovery`: the cluster's DNS server. It serves the zone of
// the internal domain from the endpoints in the store (Zone, kept current
// by Feed), forwards other names to upstream resolvers, and, given
// --api-uri, registers at /discovery/<name> and reports its status (ready,
// records, queries) every few seconds. Several may run; `lastbackend server`
// runs one inside. See docs/discovery.md.

#include <memory>
#include <string>

#include "lastbackend/common/status.h"
#include "lastbackend/config/config.h"
#include "lastbackend/storage/storage.h"

namespace lb::discovery {

class DiscoveryProcess {
 public:
  // Binds the DNS listener and starts the feed (and the heartbeat when the
  // config names an API). kUnavailable: the address cannot be bound;
  // kInvalidArgument: a bad domain or resolver.
  static StatusOr<std::unique_ptr<DiscoveryProcess>> start(
      const config::DiscoveryConfig& config, std::shared_ptr<storage::Storage> store);
  ~DiscoveryProcess();
  void stop();

  uint16_t port() const;
  const std::string& name() const;

  class Impl;

 private:
  explicit DiscoveryProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The address discovery advertises: the bind address unless it is a
// wildcard, else the first IPv4 of an interface that is up and neither
// loopback nor a container or overlay device; "" when there is none.
std::string advertisedAddress(const std::string& bindHost);

// Blocks until SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 runtime failure,
// 2 configuration error.
int run(const config::DiscoveryConfig& config);

}  // namespace lb::discovery
