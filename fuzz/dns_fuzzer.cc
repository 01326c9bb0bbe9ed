// libFuzzer entry point for discovery's query path: every input is a DNS
// message as a client could send it over UDP and TCP, answered from a zone
// with a few services; and, the same bytes, as an upstream's answer read
// for the cache and handed out again. Properties checked beyond "no crash":
// an answer never exceeds the client's limit over UDP, and a response (QR
// set) is never answered. Run it with scripts/fuzz.sh dns_fuzzer.

#include <cstdlib>
#include <cstring>
#include <vector>

#include "discovery/answer_cache.h"
#include "discovery/responder.h"
#include "discovery/zone.h"

namespace {

using namespace lb::discovery;

Zone& zone() {
  static Zone* z = [] {
    auto made = Zone::create({"lb.local", 5, "10.0.0.1"});
    if (!made.isOk()) std::abort();
    Zone* zone = made->release();
    for (int i = 0; i < 4; ++i) {
      lb::types::Endpoint e;
      e.meta.name = "web" + std::to_string(i);
      e.meta.namespace_ = "demo";
      e.meta.selflink = "demo:" + e.meta.name;
      e.spec.ip = "10.96.0." + std::to_string(10 + i);
      e.spec.ports = {{80, 8080, "tcp"}, {53, 53, "udp"}};
      zone->put(e);
    }
    return zone;
  }();
  return *z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > kMaxMessage) return 0;
  static Responder recursive(zone(), {true, 1232});
  static std::vector<uint8_t> out(kMaxMessage);
  std::vector<uint8_t> query(data, data + size);
  for (Transport t : {Transport::kUdp, Transport::kTcp}) {
    std::memcpy(query.data(), data, size);
    ForwardRequest fwd;
    auto r = recursive.answer(query.data(), size, t, out.data(), &fwd);
    if (r.action == Responder::Action::kReply) {
      if (r.size < 12) std::abort();
      if (t == Transport::kUdp && r.size > std::max<size_t>(size * kAmplification, 12)) std::abort();
    }
    if (size >= 12 && (data[2] & 0x80) && r.action != Responder::Action::kDrop) std::abort();
  }
  auto answer = readUpstreamAnswer(data, size);
  if (answer.isOk()) {
    ForwardRequest req;
    req.id = 7;
    req.limit = 512;
    const size_t n = adaptAnswer(*answer, req, 3, out.data());
    if (n > kMaxMessage) std::abort();
  }
  return 0;
}
