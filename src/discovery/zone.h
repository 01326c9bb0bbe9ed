#pragma once

// The records discovery answers from: one zone (the cluster's internal
// domain, "lb.local") built from the endpoints in the store, plus the PTR of
// every service VIP. Names are kept in lower-case wire form; every record
// set is built once, when its endpoint changes, so a query only looks up and
// copies. Writers (the store feed) and readers (the DNS threads) share a
// reader-writer lock; Reader holds it for the life of one answer.

#include "discovery/knot.h"

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  uint32_t ttl = 5;          // of every cluster record, and the SOA minimum
  std::string nsAddress;     // A of the zone's name server "ns.<domain>"; "" = none
};

class Zone {
 public:
  // kInvalidArgument when the domain is not a valid name.
  static StatusOr<std::unique_ptr<Zone>> create(const ZoneOptions& options);

  // Adds or replaces the records of one endpoint ("ns:svc" selflink). An
  // endpoint without a VIP has no records (it resolves once it gets one).
  void put(const types::Endpoint& endpoint);
  void remove(const std::string& selflink);
  // Replaces everything (a fresh listing of the store).
  void replace(const std::vector<types::Endpoint>& endpoints);
  // The SOA serial: the store revision the zone reflects.
  void setSerial(int64_t revision);

  size_t services() const;
  size_t records() const;  // record sets held (A, SRV, PTR)
  const WireName& apex() const { return apex_; }

  // How a lower-case name stands in the zone.
  enum class Kind {
    kOutside,      // not ours: forward it
    kName,         // exists: answer from node (may be NODATA for the type)
    kNxDomain,     // in the zone (or a namespace's search try), does not exist
    kAlias,        // "<svc>.<ns>.": a CNAME to the service in node->a's owner
  };
  struct Node {
    Rrset a, srv, ptr;          // cluster records; SRV targets' A in `targets`
    std::vector<const knot_rrset_t*> targets;
    int children = 0;           // names below it (an empty non-terminal if no records)
  };
  struct Lookup {
    Kind kind = Kind::kOutside;
    const Node* node = nullptr;  // kName
    bool apex = false;           // kName at the apex: SOA and NS
    bool nsHost = false;         // kName "ns.<domain>": its A
    bool authoritative = false;  // in our zone (AA, SOA in authority)
  };

  // A read lock for the life of one answer: lookups and the record sets
  // they return stay valid until it is released.
  class Reader {
   public:
    explicit Reader(const Zone& zone) : zone_(zone), lock_(zone.mu_) {}
    Lookup find(const uint8_t* lowerName, size_t size) const;
    const knot_rrset_t* soa() const { return zone_.soa_.get(); }
    const knot_rrset_t* ns() const { return zone_.ns_.get(); }
    const knot_rrset_t* nsA() const { return zone_.nsA_.get(); }

   private:
    const Zone& zone_;
    std::shared_lock<std::shared_mutex> lock_;
  };

 private:
  explicit Zone(ZoneOptions options, WireName apex);
  struct Service {
    std::vector<WireName> names;  // record names it added (A, SRV, PTR)
    std::vector<WireName> parents;  // names it counted as children
    std::string ns;
  };
  // Hash and equality over wire names without a copy (string_view lookup).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<WireName, Node, Hash, std::equal_to<>>;

  // Everything the endpoints make; replace() builds a new one unlocked.
  struct State {
    Map names;
    std::map<std::string, Service> services;        // by selflink
    std::unordered_map<std::string, int> namespaces;  // label → services
    size_t records = 0;
  };
  void put(State& st, const types::Endpoint& endpoint) const;
  static void remove(State& st, const std::string& selflink);
  void buildSoa();

  const ZoneOptions options_;
  const WireName apex_;
  mutable std::shared_mutex mu_;
  State st_;
  uint32_t serial_ = 1;
  Rrset soa_, ns_, nsA_;
};

}  // namespace lb::discovery
