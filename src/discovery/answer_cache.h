#pragma once

// Upstream answers for names outside the zone, kept for their TTL (the
// smallest TTL in the answer and authority sections; a negative answer for
// its SOA's, RFC 2308), capped by --dns-ttl, bounded by entry count (least
// recently used goes first). An answer handed out again carries the
// client's id and question case, and TTLs lowered by the time it was held.

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "discovery/responder.h"
#include "lastbackend/common/status.h"

namespace lb::discovery {

// An upstream answer, read once: where its TTLs and its OPT record are.
struct UpstreamAnswer {
  std::vector<uint8_t> wire;
  std::vector<std::pair<uint16_t, uint32_t>> ttls;  // offset of each TTL, its value
  uint16_t optPos = 0, optLen = 0;                   // 0: no OPT
  uint32_t minTtl = 0;                               // how long it may be kept
  bool cacheable = false;                            // NOERROR/NXDOMAIN with a TTL
};

// Reads an upstream answer (kInvalidArgument when it is not a well-formed
// response with one question).
StatusOr<UpstreamAnswer> readUpstreamAnswer(const uint8_t* wire, size_t size);

// Writes `answer` for `request` into `out` (kMaxMessage bytes): its id and
// question case, TTLs lowered by `elapsed` seconds, no OPT for a client that
// sent none, and a bare TC answer when it exceeds the client's limit.
size_t adaptAnswer(const UpstreamAnswer& answer, const ForwardRequest& request, uint32_t elapsed,
                   uint8_t* out);

// The cache key of a question: lower-case name, type, class.
std::string questionKey(const ForwardRequest& request);

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  AnswerCache(size_t maxEntries, std::chrono::seconds maxTtl)
      : maxEntries_(maxEntries), maxTtl_(maxTtl) {}

  // Keeps `answer` (if cacheable) under the key of `request`.
  void store(const ForwardRequest& request, UpstreamAnswer answer, Clock::time_point now);
  // The cached answer for `request` written to `out`; 0 on a miss.
  size_t fetch(const ForwardRequest& request, Clock::time_point now, uint8_t* out);

  size_t size() const { return entries_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string key;
    UpstreamAnswer answer;
    Clock::time_point stored, expires;
  };
  const size_t maxEntries_;
  const std::chrono::seconds maxTtl_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> entries_;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace lb::discovery
