#pragma once

// The DNS listener: UDP and TCP on one address and port, served by one
// thread (reads in batches with recvmmsg, answers with sendmmsg). TCP takes
// several queries per connection, answered as they are ready (pipelining,
// RFC 7766); connections, queued answers and idle time are bounded.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "discovery/forwarder.h"
#include "discovery/responder.h"
#include "discovery/zone.h"
#include "lastbackend/common/status.h"

namespace lb::discovery {

struct DnsServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 53;            // 0: any free port (tests)
  ResponderOptions responder;
  ForwarderOptions forwarder;    // no upstreams: outside names are REFUSED
  size_t maxTcpConnections = 256;
  std::chrono::seconds tcpIdle{10};
};

class DnsServer {
 public:
  // Binds UDP and TCP and starts serving; kUnavailable (naming the address)
  // when the address cannot be bound.
  static StatusOr<std::unique_ptr<DnsServer>> start(const Zone& zone, DnsServerOptions options);
  ~DnsServer();  // stops

  void stop();
  uint16_t port() const;
  uint64_t queries() const;  // answered or forwarded since start
  ForwarderStats forwarding() const;

 private:
  class Impl;
  explicit DnsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lb::discovery
