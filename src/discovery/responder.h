#pragma once

// Turns one DNS query (wire bytes) into the answer from the zone, an error
// answer, a request to forward, or nothing (dropped). Parsing and building go
// through libknot's packet API over the caller's buffers and a per-responder
// arena, so answering allocates nothing on the heap. One Responder per
// serving thread (not thread-safe); the zone is shared.
//
// Rules (docs/discovery.md): names match case-insensitively and the answer
// carries the question as asked; a name that exists gets NOERROR even with
// no record of the type (NODATA); an unknown name in the zone gets NXDOMAIN
// with the SOA; ANY gets one record set (RFC 8482); an opcode other than
// QUERY gets NOTIMP; a response (QR set) or a packet shorter than a header
// is dropped; anything malformed gets FORMERR as a bare header. A UDP answer
// never exceeds the client's EDNS payload (512 without EDNS), our payload,
// nor kAmplification times the query: what does not fit is sent with TC.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "discovery/zone.h"

namespace lb::discovery {

enum class Transport { kUdp, kTcp };

inline constexpr size_t kAmplification = 8;
inline constexpr size_t kMaxMessage = 65535;

// What the client asked, for a name that is not ours.
struct ForwardRequest {
  WireName lower;     // the question name, lower case
  std::string asked;  // the question name as the client wrote it (same size)
  uint16_t type = 0, cls = 0;
  uint16_t id = 0;    // the client's message id
  bool edns = false;  // the client sent OPT: the answer may carry one
  size_t limit = 0;   // the largest answer the client takes
};

// The client's size limit for an answer over `transport`.
size_t answerLimit(Transport transport, bool edns, uint16_t clientPayload, size_t querySize,
                   uint16_t ourPayload);

// A bare error answer to `query` (header only: id, opcode, RD copied, QR
// set); its size (12), or 0 when `query` has no header.
size_t errorReply(const uint8_t* query, size_t size, uint8_t rcode, uint8_t* out);

struct ResponderOptions {
  bool recursion = false;    // upstreams exist: RA set, outside names forwarded
  uint16_t payload = 1232;   // our EDNS payload
};

class Responder {
 public:
  Responder(const Zone& zone, ResponderOptions options);
  ~Responder();
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  enum class Action { kReply, kDrop, kForward };
  struct Result {
    Action action = Action::kDrop;
    size_t size = 0;  // kReply: bytes written to `out`
  };
  // `query` may be modified (parsing canonicalises it). `out` holds at least
  // kMaxMessage bytes. kForward fills `forward`.
  Result answer(uint8_t* query, size_t size, Transport transport, uint8_t* out,
                ForwardRequest* forward);

 private:
  struct Arena;
  const Zone& zone_;
  const ResponderOptions options_;
  std::unique_ptr<Arena> arena_;
  knot_rrset_t opt_{};  // our OPT record (payload), added to EDNS answers
};

}  // namespace lb::discovery
