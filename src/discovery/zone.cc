#include "discovery/zone.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace lb::discovery {

namespace {

Rrset newRrset(const WireName& owner, uint16_t type, uint32_t ttl) {
  return Rrset(knot_rrset_new(reinterpret_cast<const knot_dname_t*>(owner.data()), type,
                              KNOT_CLASS_IN, ttl, nullptr));
}

void addRdata(knot_rrset_t* rr, const std::string& rdata) {
  knot_rrset_add_rdata(rr, reinterpret_cast<const uint8_t*>(rdata.data()),
                       static_cast<uint16_t>(rdata.size()), nullptr);
}

std::string u16(uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
std::string u32(uint32_t v) { return u16(static_cast<uint16_t>(v >> 16)) + u16(v & 0xffff); }

// "\3web" + rest: one label in front of a wire name.
WireName prepend(std::string_view label, const WireName& rest) {
  WireName out;
  out.reserve(label.size() + 1 + rest.size());
  out.push_back(static_cast<char>(label.size()));
  out.append(label);
  out.append(rest);
  return out;
}

// Whether `name` (wire, lower case) is `apex` or below it.
bool inZone(const uint8_t* name, size_t size, const WireName& apex) {
  size_t pos = 0;
  while (pos < size) {
    if (size - pos == apex.size() && std::memcmp(name + pos, apex.data(), apex.size()) == 0)
      return true;
    if (name[pos] == 0) return false;
    pos += name[pos] + 1u;
  }
  return false;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

StatusOr<WireName> wireName(std::string_view text) {
  std::string s(text);
  if (s.empty() || s.size() > KNOT_DNAME_TXT_MAXLEN)
    return invalidArgument("'" + s + "' is not a domain name", "name");
  uint8_t buf[KNOT_DNAME_MAXLEN];
  if (!knot_dname_from_str(buf, s.c_str(), sizeof buf))
    return invalidArgument("'" + s + "' is not a domain name", "name");
  knot_dname_to_lower(buf);
  return WireName(reinterpret_cast<const char*>(buf), knot_dname_size(buf));
}

StatusOr<std::unique_ptr<Zone>> Zone::create(const ZoneOptions& options) {
  auto apex = wireName(options.domain);
  if (!apex.isOk())
    return invalidArgument("the internal domain '" + options.domain + "' is not a domain name",
                           "domain");
  if (!options.nsAddress.empty()) {
    in_addr a{};
    if (inet_pton(AF_INET, options.nsAddress.c_str(), &a) != 1)
      return invalidArgument("'" + options.nsAddress + "' is not an IPv4 address", "address");
  }
  return std::unique_ptr<Zone>(new Zone(options, *apex));
}

Zone::Zone(ZoneOptions options, WireName apex)
    : options_(std::move(options)), apex_(std::move(apex)) {
  const WireName nsName = prepend("ns", apex_);
  ns_ = newRrset(apex_, KNOT_RRTYPE_NS, options_.ttl);
  addRdata(ns_.get(), nsName);
  if (!options_.nsAddress.empty()) {
    in_addr a{};
    inet_pton(AF_INET, options_.nsAddress.c_str(), &a);
    nsA_ = newRrset(nsName, KNOT_RRTYPE_A, options_.ttl);
    addRdata(nsA_.get(), std::string(reinterpret_cast<const char*>(&a), 4));
  }
  buildSoa();
}

void Zone::buildSoa() {
  soa_ = newRrset(apex_, KNOT_RRTYPE_SOA, options_.ttl);
  // mname, rname, serial, refresh, retry, expire, minimum (the negative TTL).
  addRdata(soa_.get(), prepend("ns", apex_) + prepend("hostmaster", apex_) + u32(serial_) +
                           u32(7200) + u32(1800) + u32(86400) + u32(options_.ttl));
}

void Zone::setSerial(int64_t revision) {
  std::unique_lock lock(mu_);
  const auto serial = static_cast<uint32_t>(revision);
  if (serial == serial_) return;
  serial_ = serial;
  buildSoa();
}

void Zone::put(State& st, const types::Endpoint& ep) const {
  remove(st, ep.meta.selflink);
  in_addr vip{};
  if (ep.spec.ip.empty() || inet_pton(AF_INET, ep.spec.ip.c_str(), &vip) != 1) return;
  if (ep.meta.name.empty() || ep.meta.namespace_.empty()) return;
  if (ep.meta.name.size() > 63 || ep.meta.namespace_.size() > 63) return;  // not a DNS label
  Service svc{{}, lower(ep.meta.namespace_), vip.s_addr, {}};
  svc.fqdn = prepend(lower(ep.meta.name), prepend(svc.ns, apex_));
  if (svc.fqdn.size() > KNOT_DNAME_MAXLEN) return;
  for (const auto& p : ep.spec.ports) {
    if (p.port <= 0 || p.port > 65535 || p.protocol.empty() || p.protocol.size() > 62) continue;
    std::pair<uint16_t, std::string> port{static_cast<uint16_t>(p.port), lower(p.protocol)};
    // "_<port>._<proto>." in front of the fqdn
    const size_t srvSize =
        svc.fqdn.size() + std::to_string(port.first).size() + port.second.size() + 4;
    if (srvSize > KNOT_DNAME_MAXLEN) continue;
    if (std::find(svc.ports.begin(), svc.ports.end(), port) == svc.ports.end())
      svc.ports.push_back(std::move(port));
  }
  const Service& in = st.services.insert_or_assign(ep.meta.selflink, std::move(svc)).first->second;
  st.names[std::string_view(in.fqdn)] = &in;
  st.vips[in.vip] = &in;
  ++st.namespaces[in.ns];
  st.records += 2 + in.ports.size();  // A, PTR, one SRV per port
}

void Zone::remove(State& st, const std::string& selflink) const {
  auto it = st.services.find(selflink);
  if (it == st.services.end()) return;
  const Service& svc = it->second;
  if (auto n = st.names.find(std::string_view(svc.fqdn)); n != st.names.end() && n->second == &svc)
    st.names.erase(n);
  if (auto v = st.vips.find(svc.vip); v != st.vips.end() && v->second == &svc) st.vips.erase(v);
  if (auto ns = st.namespaces.find(svc.ns); ns != st.namespaces.end() && --ns->second <= 0)
    st.namespaces.erase(ns);
  st.records -= 2 + svc.ports.size();
  st.services.erase(it);
}

void Zone::put(const types::Endpoint& endpoint) {
  std::unique_lock lock(mu_);
  put(st_, endpoint);
}

void Zone::remove(const std::string& selflink) {
  std::unique_lock lock(mu_);
  remove(st_, selflink);
}

void Zone::add(Snapshot& snapshot, const types::Endpoint& endpoint) const {
  put(snapshot.st_, endpoint);
}

void Zone::replace(Snapshot&& snapshot) {
  // Built unlocked: queries went on being answered from the old records.
  std::unique_lock lock(mu_);
  std::swap(st_, snapshot.st_);
  lock.unlock();
  snapshot.st_ = State{};  // the old records, freed outside the lock
}

size_t Zone::services() const {
  std::shared_lock lock(mu_);
  return st_.services.size();
}

size_t Zone::records() const {
  std::shared_lock lock(mu_);
  return st_.records;
}

namespace {

// The first label of a wire name ("\3web..." → "web") and what follows it.
std::string_view firstLabel(std::string_view name) {
  return name.empty() ? std::string_view() : name.substr(1, static_cast<uint8_t>(name[0]));
}
std::string_view afterFirst(std::string_view name) {
  return name.empty() ? name : name.substr(1u + static_cast<uint8_t>(name[0]));
}

// "d.c.b.a.in-addr.arpa." → the address a.b.c.d in network order.
bool reverseAddress(std::string_view name, uint32_t* vip) {
  static constexpr std::string_view kArpa("\7in-addr\4arpa\0", 14);
  uint8_t octets[4];
  for (int i = 3; i >= 0; --i) {
    const std::string_view label = firstLabel(name);
    if (label.empty() || label.size() > 3 || (label.size() > 1 && label[0] == '0')) return false;
    unsigned v = 0;
    for (char c : label) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 255) return false;
    octets[i] = static_cast<uint8_t>(v);
    name = afterFirst(name);
  }
  if (name != kArpa) return false;
  std::memcpy(vip, octets, 4);
  return true;
}

}  // namespace

const Zone::Service* Zone::Reader::service(std::string_view fqdn) const {
  auto it = zone_.st_.names.find(fqdn);
  return it == zone_.st_.names.end() ? nullptr : it->second;
}

Zone::Lookup Zone::Reader::find(const uint8_t* name, size_t size) const {
  Lookup out;
  const State& st = zone_.st_;
  const std::string_view key(reinterpret_cast<const char*>(name), size);
  if (inZone(name, size, zone_.apex_)) {
    out.kind = Kind::kName;
    out.authoritative = true;
    if (key == zone_.apex_) {
      out.holds = Holds::kApex;
      return out;
    }
    if (const Service* svc = service(key)) {
      out.holds = Holds::kA;
      out.service = svc;
      return out;
    }
    const std::string_view first = firstLabel(key), rest = afterFirst(key);
    if (rest == zone_.apex_) {
      // "ns.<domain>" is the zone's name server; "<ns>.<domain>" holds services.
      if (zone_.nsA_ && first == "ns") {
        out.holds = Holds::kNsHost;
        return out;
      }
      if (st.namespaces.find(first) != st.namespaces.end()) return out;
    } else if (first.size() > 1 && first[0] == '_') {
      const std::string_view second = firstLabel(rest);
      if (const Service* svc = service(rest)) {
        // "_<proto>.<fqdn>": there when a port has that protocol.
        for (const auto& [port, proto] : svc->ports)
          if (first.substr(1) == proto) return out;
      } else if (second.size() > 1 && second[0] == '_') {
        if (const Service* svc = service(afterFirst(rest))) {
          for (size_t i = 0; i < svc->ports.size(); ++i) {
            const auto& [port, proto] = svc->ports[i];
            if (first.substr(1) == std::to_string(port) && second.substr(1) == proto) {
              out.holds = Holds::kSrv;
              out.service = svc;
              out.port = i;
              return out;
            }
          }
        }
      }
    }
    out.kind = Kind::kNxDomain;
    return out;
  }
  uint32_t vip = 0;
  if (reverseAddress(key, &vip)) {
    if (auto v = st.vips.find(vip); v != st.vips.end()) {
      out.kind = Kind::kName;
      out.holds = Holds::kPtr;
      out.service = v->second;
      out.authoritative = true;
    }
    return out;
  }
  // "<svc>.<ns>." is the first try of "<svc>.<ns>" under ndots:1: when <ns>
  // is a namespace of the cluster it is not a public name. The service's
  // name answers it (a CNAME to "<svc>.<ns>.<domain>"), one query for any
  // resolver; else NXDOMAIN, rather than asking the upstream.
  const std::string_view rest = afterFirst(key);
  const std::string_view second = firstLabel(rest);
  if (!firstLabel(key).empty() && !second.empty() &&
      afterFirst(rest) == std::string_view("\0", 1) &&
      st.namespaces.find(second) != st.namespaces.end()) {
    out.kind = Kind::kNxDomain;
    WireName fqdn(key.substr(0, size - 1));
    fqdn += zone_.apex_;
    if (const Service* svc = service(fqdn)) {
      out.kind = Kind::kAlias;
      out.service = svc;
    }
  }
  return out;
}

}  // namespace lb::discovery
