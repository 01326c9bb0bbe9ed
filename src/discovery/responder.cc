#include "discovery/responder.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace lb::discovery {

namespace {

constexpr size_t kHeader = KNOT_WIRE_HEADER_SIZE;
constexpr size_t kArenaBytes = 512 * 1024;
constexpr uint16_t kSrvPriority = 0;
constexpr uint16_t kSrvWeight = 100;

}  // namespace

// A bump allocator reset before every query: libknot's packet structures
// come from here, never from malloc. A hostile packet that needs more than
// it holds fails to parse (FORMERR), it does not grow anything.
struct Responder::Arena {
  alignas(16) uint8_t bytes[kArenaBytes];  // left uninitialised: only what a query uses is touched
  size_t used = 0;
  knot_mm_t mm{this, &Arena::alloc, &Arena::release};

  static void* alloc(void* ctx, size_t len) {
    auto* a = static_cast<Arena*>(ctx);
    const size_t at = (a->used + 15) & ~size_t{15};
    if (len > kArenaBytes || at > kArenaBytes - len) return nullptr;
    a->used = at + len;
    return a->bytes + at;
  }
  static void release(void*) {}
};

size_t answerLimit(Transport transport, bool edns, uint16_t clientPayload, size_t querySize,
                   uint16_t ourPayload) {
  if (transport == Transport::kTcp) return kMaxMessage;
  size_t limit =
      edns ? std::clamp<size_t>(clientPayload, 512, std::max<uint16_t>(ourPayload, 512)) : 512;
  return std::min(limit, std::max(querySize * kAmplification, kHeader));
}

size_t errorReply(const uint8_t* query, size_t size, uint8_t rcode, uint8_t* out) {
  if (size < kHeader) return 0;
  std::memset(out, 0, kHeader);
  knot_wire_set_id(out, knot_wire_get_id(query));
  knot_wire_set_opcode(out, knot_wire_get_opcode(query));
  if (knot_wire_get_rd(query)) knot_wire_set_rd(out);
  knot_wire_set_qr(out);
  knot_wire_set_rcode(out, rcode);
  return kHeader;
}

Responder::Responder(const Zone& zone, ResponderOptions options)
    : zone_(zone), options_(options), arena_(new Arena) {
  // OPT: owner root, class = payload, TTL = ext-rcode/version/flags (all 0).
  knot_edns_init(&opt_, options_.payload, 0, 0, nullptr);
}

Responder::~Responder() { knot_rrset_clear(&opt_, nullptr); }

Responder::Result Responder::answer(uint8_t* query, size_t size, Transport transport, uint8_t* out,
                                    ForwardRequest* forward) {
  Result reply{Action::kReply, 0};
  if (size < kHeader || size > kMaxMessage || knot_wire_get_qr(query)) return {};
  if (knot_wire_get_opcode(query) != KNOT_OPCODE_QUERY) {
    reply.size = errorReply(query, size, KNOT_RCODE_NOTIMPL, out);
    return reply;
  }
  auto formerr = [&] {
    reply.size = errorReply(query, size, KNOT_RCODE_FORMERR, out);
    return reply;
  };
  if (knot_wire_get_qdcount(query) != 1) return formerr();

  arena_->used = 0;
  knot_mm_t* mm = &arena_->mm;
  knot_pkt_t* q = knot_pkt_new(query, static_cast<uint16_t>(size), mm);
  if (!q) return formerr();
  const int parsed = knot_pkt_parse(q, 0);
  if ((parsed != KNOT_EOK && parsed != KNOT_ETRAIL) || q->qname_size == 0) return formerr();

  const uint16_t qtype = knot_pkt_qtype(q);
  const uint16_t qclass = knot_pkt_qclass(q);
  const bool edns = knot_pkt_has_edns(q);
  const size_t limit = answerLimit(transport, edns, edns ? knot_edns_get_payload(q->opt_rr) : 0,
                                   size, options_.payload);

  // Builds the answer; false when it does not fit in `limit`.
  knot_pkt_t* r = nullptr;
  auto begin = [&](uint8_t rcode) {
    r = knot_pkt_new(out, static_cast<uint16_t>(kMaxMessage), mm);
    if (!r || knot_pkt_init_response(r, q) != KNOT_EOK) return false;
    r->max_size = limit;
    knot_wire_set_rcode(r->wire, rcode);
    if (options_.recursion) knot_wire_set_ra(r->wire);
    if (edns) knot_pkt_reserve(r, static_cast<uint16_t>(knot_edns_wire_size(&opt_)));
    return knot_pkt_begin(r, KNOT_ANSWER) == KNOT_EOK;
  };
  auto finish = [&] {
    if (edns) {
      knot_pkt_reclaim(r, static_cast<uint16_t>(knot_edns_wire_size(&opt_)));
      knot_pkt_begin(r, KNOT_ADDITIONAL);
      knot_pkt_put(r, KNOT_COMPR_HINT_NONE, &opt_, 0);
    }
    reply.size = r->size;
    return reply;
  };
  if (qclass != KNOT_CLASS_IN) {
    if (!begin(KNOT_RCODE_REFUSED)) return formerr();
    return finish();
  }
  if (edns && knot_edns_get_version(q->opt_rr) != 0) {
    // BADVERS (16): rcode 0 in the header, extended rcode 1 in our OPT.
    if (!begin(KNOT_RCODE_NOERROR)) return formerr();
    knot_edns_set_ext_rcode(&opt_, 1);
    Result res = finish();
    knot_edns_set_ext_rcode(&opt_, 0);
    return res;
  }
  if (qtype == KNOT_RRTYPE_AXFR || qtype == KNOT_RRTYPE_IXFR) {
    if (!begin(KNOT_RCODE_REFUSED)) return formerr();
    return finish();
  }

  Zone::Reader zone(zone_);
  const Zone::Lookup found = zone.find(knot_pkt_qname(q), q->qname_size);
  if (found.kind == Zone::Kind::kOutside) {
    if (!options_.recursion) {
      if (!begin(KNOT_RCODE_REFUSED)) return formerr();
      return finish();
    }
    forward->lower.assign(reinterpret_cast<const char*>(knot_pkt_qname(q)), q->qname_size);
    forward->asked.assign(reinterpret_cast<const char*>(knot_pkt_wire_qname(q)), q->qname_size);
    forward->type = qtype;
    forward->cls = qclass;
    forward->id = knot_wire_get_id(query);
    forward->edns = edns;
    forward->limit = limit;
    return {Action::kForward, 0};
  }

  // The record sets of the answer (with the additional ones) for this name,
  // written into the arena from the service's name, VIP and ports. Answers
  // are owned by the question's name: compression points them at it.
  const knot_dname_t* qname = knot_pkt_qname(q);
  const Zone::Service* svc = found.service;
  auto make = [&](knot_rrset_t* rr, const knot_dname_t* owner, uint16_t type,
                  std::string_view rdata) {
    knot_rrset_init(rr, const_cast<knot_dname_t*>(owner), type, KNOT_CLASS_IN, zone_.ttl());
    return knot_rrset_add_rdata(rr, reinterpret_cast<const uint8_t*>(rdata.data()),
                                static_cast<uint16_t>(rdata.size()), mm) == KNOT_EOK;
  };
  const auto* fqdn = svc ? reinterpret_cast<const knot_dname_t*>(svc->fqdn.data()) : nullptr;
  auto vip = [&] { return std::string_view(reinterpret_cast<const char*>(&svc->vip), 4); };
  const knot_rrset_t* answer = nullptr;
  const knot_rrset_t* alias = nullptr;       // a CNAME before the answer
  const knot_rrset_t* additional = nullptr;  // the SRV target's A
  knot_rrset_t first, second, third;
  const bool any = qtype == KNOT_RRTYPE_ANY;
  if (found.kind == Zone::Kind::kAlias) {
    if (!make(&first, qname, KNOT_RRTYPE_CNAME, svc->fqdn)) return formerr();
    alias = &first;
    if (qtype == KNOT_RRTYPE_A || any) {
      if (!make(&second, fqdn, KNOT_RRTYPE_A, vip())) return formerr();
      answer = &second;
    }
  } else if (found.kind == Zone::Kind::kName) {
    switch (found.holds) {
      case Zone::Holds::kNothing:
        break;
      case Zone::Holds::kApex:
        if (qtype == KNOT_RRTYPE_SOA || any) answer = zone.soa();
        if (qtype == KNOT_RRTYPE_NS) answer = zone.ns();
        break;
      case Zone::Holds::kNsHost:
        if (qtype == KNOT_RRTYPE_A || any) answer = zone.nsA();
        break;
      case Zone::Holds::kA:
        if (qtype == KNOT_RRTYPE_A || any) {
          if (!make(&first, qname, KNOT_RRTYPE_A, vip())) return formerr();
          answer = &first;
        }
        break;
      case Zone::Holds::kSrv:
        if (qtype == KNOT_RRTYPE_SRV || any) {
          // priority, weight, port, target
          char srv[6 + KNOT_DNAME_MAXLEN];
          const uint16_t fields[3] = {htons(kSrvPriority), htons(kSrvWeight),
                                      htons(svc->ports[found.port].first)};
          std::memcpy(srv, fields, sizeof fields);
          std::memcpy(srv + 6, svc->fqdn.data(), svc->fqdn.size());
          if (!make(&first, qname, KNOT_RRTYPE_SRV, std::string_view(srv, 6 + svc->fqdn.size())) ||
              !make(&second, fqdn, KNOT_RRTYPE_A, vip()))
            return formerr();
          answer = &first;
          additional = &second;
        }
        break;
      case Zone::Holds::kPtr:
        if (qtype == KNOT_RRTYPE_PTR || any) {
          if (!make(&third, qname, KNOT_RRTYPE_PTR, svc->fqdn)) return formerr();
          answer = &third;
        }
        break;
    }
  }
  const bool nx = found.kind == Zone::Kind::kNxDomain;
  const knot_rrset_t* nsAdditional =
      answer && answer == zone.ns() && zone.nsA() ? zone.nsA() : nullptr;

  auto build = [&]() -> bool {
    if (!begin(nx ? KNOT_RCODE_NXDOMAIN : KNOT_RCODE_NOERROR)) return false;
    if (found.authoritative) knot_wire_set_aa(r->wire);
    if (alias && knot_pkt_put(r, KNOT_COMPR_HINT_QNAME, alias, KNOT_PF_NOTRUNC) != KNOT_EOK)
      return false;
    if (answer) {
      const uint16_t hint = alias ? KNOT_COMPR_HINT_NONE : KNOT_COMPR_HINT_QNAME;
      if (knot_pkt_put(r, hint, answer, KNOT_PF_NOTRUNC) != KNOT_EOK) return false;
      if (knot_pkt_begin(r, KNOT_ADDITIONAL) != KNOT_EOK) return false;
      if (additional &&
          knot_pkt_put(r, KNOT_COMPR_HINT_NONE, additional, KNOT_PF_NOTRUNC) != KNOT_EOK)
        return false;
      if (nsAdditional &&
          knot_pkt_put(r, KNOT_COMPR_HINT_NONE, nsAdditional, KNOT_PF_NOTRUNC) != KNOT_EOK)
        return false;
    } else if (found.authoritative) {
      if (knot_pkt_begin(r, KNOT_AUTHORITY) != KNOT_EOK) return false;
      if (knot_pkt_put(r, KNOT_COMPR_HINT_NONE, zone.soa(), KNOT_PF_NOTRUNC) != KNOT_EOK)
        return false;
    }
    return true;
  };
  if (!build()) {
    // Too large for this client: the question alone, with TC.
    if (!begin(nx ? KNOT_RCODE_NXDOMAIN : KNOT_RCODE_NOERROR)) return formerr();
    knot_wire_set_tc(r->wire);
  }
  return finish();
}

}  // namespace lb::discovery
