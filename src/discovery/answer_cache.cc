#include "discovery/answer_cache.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace lb::discovery {

namespace {

constexpr size_t kHeader = KNOT_WIRE_HEADER_SIZE;

struct PktDeleter {
  void operator()(knot_pkt_t* p) const { knot_pkt_free(p); }
};

uint32_t readU32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void writeU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// The wire size of the name at `pos` (labels up to the root or a
// compression pointer); 0 when it runs past `size`.
size_t skipName(const uint8_t* w, size_t size, size_t pos) {
  const size_t start = pos;
  while (pos < size) {
    const uint8_t len = w[pos];
    if (len == 0) return pos + 1 - start;
    if ((len & 0xc0) == 0xc0) return pos + 2 <= size ? pos + 2 - start : 0;
    pos += len + 1u;
  }
  return 0;
}

}  // namespace

StatusOr<UpstreamAnswer> readUpstreamAnswer(const uint8_t* wire, size_t size) {
  if (size < kHeader || size > kMaxMessage || !knot_wire_get_qr(wire) ||
      knot_wire_get_qdcount(wire) != 1)
    return invalidArgument("not a DNS response with one question", "answer");
  UpstreamAnswer out;
  out.wire.assign(wire, wire + size);
  std::unique_ptr<knot_pkt_t, PktDeleter> pkt(
      knot_pkt_new(out.wire.data(), static_cast<uint16_t>(size), nullptr));
  if (!pkt) return invalidArgument("cannot allocate a packet", "answer");
  const int rc = knot_pkt_parse(pkt.get(), KNOT_PF_NOCANON | KNOT_PF_KEEPWIRE);
  if (rc != KNOT_EOK && rc != KNOT_ETRAIL)
    return invalidArgument(std::string("malformed answer: ") + knot_strerror(rc), "answer");

  const uint8_t rcode = knot_wire_get_rcode(wire);
  bool haveTtl = false;
  uint32_t minTtl = UINT32_MAX;
  // libknot validated the message; walk its records in the wire for where
  // each TTL is (the parsed records do not say).
  const uint8_t* w = out.wire.data();
  size_t pos = kHeader + pkt->qname_size + 4;
  for (int s = KNOT_ANSWER; s <= KNOT_ADDITIONAL; ++s) {
    const knot_pktsection_t* sec = knot_pkt_section(pkt.get(), static_cast<knot_section_t>(s));
    for (uint16_t i = 0; i < sec->count; ++i) {
      const knot_rrset_t* rr = knot_pkt_rr(sec, i);
      const size_t at = pos;
      const size_t owner = skipName(w, size, pos);
      if (owner == 0 || pos + owner + 10 > size)
        return invalidArgument("a record runs past the answer", "answer");
      const size_t ttlAt = pos + owner + 4;
      const size_t rdlen = (size_t{w[ttlAt + 4]} << 8) | w[ttlAt + 5];
      pos = ttlAt + 6 + rdlen;
      if (pos > size) return invalidArgument("a record runs past the answer", "answer");
      if (rr->type == KNOT_RRTYPE_OPT) {
        out.optPos = static_cast<uint16_t>(at);
        out.optLen = static_cast<uint16_t>(pos - at);
        continue;
      }
      const uint32_t ttl = readU32(w + ttlAt);
      out.ttls.emplace_back(static_cast<uint16_t>(ttlAt), ttl);
      if (s == KNOT_ADDITIONAL) continue;
      uint32_t keep = ttl;
      if (rr->type == KNOT_RRTYPE_SOA && s == KNOT_AUTHORITY) {
        // Two names, then five 32-bit fields; the minimum is the last.
        const knot_rdata_t* rd = rr->rrs.rdata;
        const size_t names = rd ? knot_dname_size(rd->data) : 0;
        if (!rd || rd->len < names + 1 ||
            rd->len < names + knot_dname_size(rd->data + names) + 20)
          return invalidArgument("a malformed SOA in the answer", "answer");
        keep = std::min(ttl, knot_soa_minimum(rd));
      }
      if (s == KNOT_ANSWER || rr->type == KNOT_RRTYPE_SOA) {
        minTtl = std::min(minTtl, keep);
        haveTtl = true;
      }
    }
  }
  out.minTtl = haveTtl ? minTtl : 0;
  // Positive answers with records, and negative ones (NXDOMAIN, NODATA)
  // with an SOA saying how long; never errors or truncated answers.
  out.cacheable = haveTtl && out.minTtl > 0 && !knot_wire_get_tc(wire) &&
                  (rcode == KNOT_RCODE_NXDOMAIN || rcode == KNOT_RCODE_NOERROR);
  return out;
}

size_t adaptAnswer(const UpstreamAnswer& answer, const ForwardRequest& request, uint32_t elapsed,
                   uint8_t* out) {
  const size_t size = answer.wire.size();
  std::memcpy(out, answer.wire.data(), size);
  knot_wire_set_id(out, request.id);
  // Relayed, not ours: no AA; recursion was available.
  knot_wire_clear_aa(out);
  knot_wire_set_ra(out);
  if (kHeader + request.asked.size() <= size)
    std::memcpy(out + kHeader, request.asked.data(), request.asked.size());
  for (const auto& [at, ttl] : answer.ttls) writeU32(out + at, ttl > elapsed ? ttl - elapsed : 0);
  size_t n = size;
  if (answer.optLen && !request.edns) {
    std::memmove(out + answer.optPos, out + answer.optPos + answer.optLen,
                 size - answer.optPos - answer.optLen);
    n -= answer.optLen;
    knot_wire_set_arcount(out, static_cast<uint16_t>(knot_wire_get_arcount(out) - 1));
  }
  if (n > request.limit) {
    // The question alone, with TC: the client asks again over TCP.
    n = kHeader + request.asked.size() + 4;
    knot_wire_set_ancount(out, 0);
    knot_wire_set_nscount(out, 0);
    knot_wire_set_arcount(out, 0);
    knot_wire_set_tc(out);
  }
  return n;
}

std::string questionKey(const ForwardRequest& request) {
  std::string key = request.lower;
  key.push_back(static_cast<char>(request.type >> 8));
  key.push_back(static_cast<char>(request.type & 0xff));
  key.push_back(static_cast<char>(request.cls >> 8));
  key.push_back(static_cast<char>(request.cls & 0xff));
  return key;
}

void AnswerCache::store(const ForwardRequest& request, UpstreamAnswer answer,
                        Clock::time_point now) {
  if (!answer.cacheable || maxEntries_ == 0) return;
  const auto ttl = std::min<std::chrono::seconds>(std::chrono::seconds(answer.minTtl), maxTtl_);
  if (ttl.count() <= 0) return;
  std::string key = questionKey(request);
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.erase(it->second);
    entries_.erase(it);
  }
  while (entries_.size() >= maxEntries_) {
    entries_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, std::move(answer), now, now + ttl});
  entries_.emplace(std::move(key), lru_.begin());
}

size_t AnswerCache::fetch(const ForwardRequest& request, Clock::time_point now, uint8_t* out) {
  auto it = entries_.find(questionKey(request));
  if (it == entries_.end()) {
    ++misses_;
    return 0;
  }
  Entry& e = *it->second;
  if (now >= e.expires) {
    lru_.erase(it->second);
    entries_.erase(it);
    ++misses_;
    return 0;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  const auto held = std::chrono::duration_cast<std::chrono::seconds>(now - e.stored).count();
  return adaptAnswer(e.answer, request, static_cast<uint32_t>(held), out);
}

}  // namespace lb::discovery
