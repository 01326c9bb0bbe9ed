#pragma once

// The records discovery answers from: one zone (the cluster's internal
// domain, "lb.local") built from the endpoints in the store, plus the PTR of
// every service VIP. A service is kept as its lower-case wire name, VIP and
// ports, found by name or by VIP; its records (A, SRV, PTR) are a few bytes
// the responder writes from those at answer time, so 10,000 services take a
// few MB. Writers (the store feed) and readers (the DNS threads) share a
// reader-writer lock; Reader holds it for the life of one answer.

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "discovery/knot.h"
#include "lastbackend/common/status.h"
#include "lastbackend/types/endpoint.h"

namespace lb::discovery {

// A domain name in wire form ("\3web\4demo\2lb\5local\0"), lower case.
using WireName = std::string;

// "web.demo.lb.local" (a trailing dot optional) in lower-case wire form;
// kInvalidArgument for a name DNS cannot carry.
StatusOr<WireName> wireName(std::string_view text);

struct RrsetDeleter {
  void operator()(knot_rrset_t* rr) const { knot_rrset_free(rr, nullptr); }
};
using Rrset = std::unique_ptr<knot_rrset_t, RrsetDeleter>;

struct ZoneOptions {
  std::string domain = "lb.local";
  uint32_t ttl = 5;       // of every cluster record, and the SOA minimum
  std::string nsAddress;  // A of the zone's name server "ns.<domain>"; "" = none
};

class Zone {
 public:
  // kInvalidArgument when the domain is not a valid name.
  static StatusOr<std::unique_ptr<Zone>> create(const ZoneOptions& options);

  // Adds or replaces the records of one endpoint ("ns:svc" selflink). An
  // endpoint without a VIP has no records (it resolves once it gets one).
  void put(const types::Endpoint& endpoint);
  void remove(const std::string& selflink);
  // Replaces everything (a fresh listing of the store): endpoints are added
  // to a Snapshot one by one, unlocked, and swapped in at once.
  class Snapshot;
  void add(Snapshot& snapshot, const types::Endpoint& endpoint) const;
  void replace(Snapshot&& snapshot);
  // The SOA serial: the store revision the zone reflects.
  void setSerial(int64_t revision);

  size_t services() const;
  size_t records() const;  // record sets held (A, SRV, PTR)
  const WireName& apex() const { return apex_; }
  uint32_t ttl() const { return options_.ttl; }

  // What one endpoint put in the zone (lower case; ports valid, distinct).
  struct Service {
    WireName fqdn;                                        // "<svc>.<ns>.<domain>"
    std::string ns;                                       // the namespace label
    uint32_t vip = 0;                                     // network order
    std::vector<std::pair<uint16_t, std::string>> ports;  // port, protocol
  };

  // How a lower-case name stands in the zone.
  enum class Kind {
    kOutside,   // not ours: forward it
    kName,      // exists: answer what it holds (may be NODATA for the type)
    kNxDomain,  // in the zone (or a namespace's search try), does not exist
    kAlias,     // "<svc>.<ns>.": a CNAME to the service's fqdn
  };
  // What a kName holds.
  enum class Holds {
    kNothing,  // an empty non-terminal ("<ns>.<domain>", "_tcp.<fqdn>")
    kA,        // the service's fqdn
    kSrv,      // "_<port>._<proto>.<fqdn>": ports[port]
    kPtr,      // the reverse name of the service's VIP
    kApex,     // SOA and NS
    kNsHost,   // "ns.<domain>": its A
  };
  struct Lookup {
    Kind kind = Kind::kOutside;
    Holds holds = Holds::kNothing;
    const Service* service = nullptr;  // kA, kSrv, kPtr, kAlias
    size_t port = 0;                   // kSrv
    bool authoritative = false;        // in our zone (AA, SOA in authority)
  };

  // A read lock for the life of one answer: lookups and the services they
  // return stay valid until it is released.
  class Reader {
   public:
    explicit Reader(const Zone& zone) : zone_(zone), lock_(zone.mu_) {}
    Lookup find(const uint8_t* lowerName, size_t size) const;
    const knot_rrset_t* soa() const { return zone_.soa_.get(); }
    const knot_rrset_t* ns() const { return zone_.ns_.get(); }
    const knot_rrset_t* nsA() const { return zone_.nsA_.get(); }

   private:
    const Service* service(std::string_view fqdn) const;
    const Zone& zone_;
    std::shared_lock<std::shared_mutex> lock_;
  };

 private:
  explicit Zone(ZoneOptions options, WireName apex);
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Everything the endpoints make. `names` and `vips` point into
  // `services` (map nodes do not move); a name or VIP two services share
  // belongs to the last one put.
  struct State {
    std::map<std::string, Service> services;                     // by selflink
    std::unordered_map<std::string_view, const Service*> names;  // by fqdn
    std::unordered_map<uint32_t, const Service*> vips;
    std::unordered_map<std::string, int, Hash, std::equal_to<>> namespaces;  // label → count
    size_t records = 0;
  };
  void put(State& st, const types::Endpoint& endpoint) const;
  void remove(State& st, const std::string& selflink) const;
  void buildSoa();

  const ZoneOptions options_;
  const WireName apex_;
  mutable std::shared_mutex mu_;
  State st_;
  uint32_t serial_ = 1;
  Rrset soa_, ns_, nsA_;
};

class Zone::Snapshot {
 public:
  size_t services() const { return st_.services.size(); }

 private:
  friend class Zone;
  State st_;
};

}  // namespace lb::discovery
