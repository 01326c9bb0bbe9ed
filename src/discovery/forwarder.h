#pragma once

// Names outside the zone go to upstream resolvers over UDP, one at a time
// in order (the next after a timeout), answers are cached (AnswerCache), and
// identical questions in flight share one upstream query. An answer is taken
// only from the upstream asked, with the id sent and the question asked;
// anything else is ignored. Runs on the serving thread's io_context: not
// thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "discovery/responder.h"
#include "lastbackend/common/status.h"

namespace boost::asio {
class io_context;
}

namespace lb::discovery {

struct Upstream {
  std::string address;  // IPv4 or IPv6 literal
  uint16_t port = 53;
  std::string toString() const;
};

// "10.0.0.2", "10.0.0.2:5353", "[fd00::1]:53"; kInvalidArgument names the bad one.
StatusOr<Upstream> parseUpstream(const std::string& text);
// The nameservers of a resolv.conf file ("" for a file that cannot be read).
std::vector<std::string> resolvConfServers(const std::string& path);

struct ForwarderOptions {
  std::vector<Upstream> upstreams;
  size_t cacheEntries = 10000;
  std::chrono::seconds maxTtl{86400};  // --dns-ttl
  std::chrono::milliseconds timeout{1500};  // per upstream try
  size_t maxPending = 4096;                 // distinct questions in flight
  size_t maxWaiters = 64;                   // clients waiting on one question
};

struct ForwarderStats {
  uint64_t forwarded = 0, cacheHits = 0, failed = 0;
  size_t cached = 0;
};

class Forwarder {
 public:
  // The answer bytes for the client (valid during the call only).
  using Reply = std::function<void(const uint8_t* wire, size_t size)>;

  // Opens one UDP socket per upstream; kUnavailable when none can be opened.
  static StatusOr<std::unique_ptr<Forwarder>> create(boost::asio::io_context& io,
                                                     ForwarderOptions options);
  ~Forwarder();

  // Answers `request` from the cache at once, or later from an upstream
  // (SERVFAIL when none answers in time or too much is in flight).
  void resolve(const ForwardRequest& request, Reply reply);
  ForwarderStats stats() const;

 private:
  class Impl;
  explicit Forwarder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lb::discovery
