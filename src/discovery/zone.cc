#include "discovery/zone.h"

#include <arpa/inet.h>

#include <cstring>
#include <mutex>

namespace lb::discovery {

namespace {

constexpr uint16_t kSrvPriority = 0;
constexpr uint16_t kSrvWeight = 100;

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

Zone::Zone(ZoneOptions options, WireName apex) : options_(std::move(options)), apex_(std::move(apex)) {
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
  const WireName nsName = prepend(lower(ep.meta.namespace_), apex_);
  const WireName fqdn = prepend(lower(ep.meta.name), nsName);
  if (fqdn.size() > KNOT_DNAME_MAXLEN) return;
  Service& svc = st.services[ep.meta.selflink];
  auto addName = [&](const WireName& name) -> Node& {
    svc.names.push_back(name);
    return st.names[name];
  };
  auto addParent = [&](const WireName& name) {
    svc.parents.push_back(name);
    ++st.names[name].children;
  };
  svc.ns = lower(ep.meta.namespace_);
  ++st.namespaces[svc.ns];
  addParent(nsName);

  Node& node = addName(fqdn);
  node.a = newRrset(fqdn, KNOT_RRTYPE_A, options_.ttl);
  addRdata(node.a.get(), std::string(reinterpret_cast<const char*>(&vip), 4));
  ++st.records;
  const knot_rrset_t* target = node.a.get();

  for (const auto& p : ep.spec.ports) {
    if (p.port <= 0 || p.port > 65535) continue;
    const WireName protoName = prepend("_" + lower(p.protocol), fqdn);
    const WireName srvName = prepend("_" + std::to_string(p.port), protoName);
    if (srvName.size() > KNOT_DNAME_MAXLEN) continue;
    Node& srv = st.names[srvName];
    if (!srv.srv) {
      svc.names.push_back(srvName);
      addParent(protoName);
      addParent(fqdn);
      srv.srv = newRrset(srvName, KNOT_RRTYPE_SRV, options_.ttl);
      srv.targets = {target};
      ++st.records;
    }
    addRdata(srv.srv.get(), u16(kSrvPriority) + u16(kSrvWeight) +
                                u16(static_cast<uint16_t>(p.port)) + fqdn);
  }

  const auto* b = reinterpret_cast<const uint8_t*>(&vip);
  WireName reverse = *wireName("in-addr.arpa");
  for (int i = 0; i < 4; ++i) reverse = prepend(std::to_string(b[i]), reverse);
  Node& ptr = addName(reverse);
  if (ptr.ptr) --st.records;  // another service had this VIP: the last one wins
  ptr.ptr = newRrset(reverse, KNOT_RRTYPE_PTR, options_.ttl);
  addRdata(ptr.ptr.get(), fqdn);
  ++st.records;
}

void Zone::remove(State& st, const std::string& selflink) {
  auto it = st.services.find(selflink);
  if (it == st.services.end()) return;
  Service& svc = it->second;
  for (const auto& name : svc.names) {
    auto n = st.names.find(name);
    if (n == st.names.end()) continue;
    Node& node = n->second;
    st.records -= (node.a ? 1 : 0) + (node.srv ? 1 : 0) + (node.ptr ? 1 : 0);
    node.a.reset();
    node.srv.reset();
    node.ptr.reset();
    node.targets.clear();
    if (node.children == 0) st.names.erase(n);
  }
  for (const auto& name : svc.parents) {
    auto n = st.names.find(name);
    if (n == st.names.end()) continue;
    if (--n->second.children <= 0 && !n->second.a && !n->second.srv && !n->second.ptr)
      st.names.erase(n);
  }
  if (--st.namespaces[svc.ns] <= 0) st.namespaces.erase(svc.ns);
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

void Zone::replace(const std::vector<types::Endpoint>& endpoints) {
  // Built unlocked: queries go on being answered from the old records.
  State fresh;
  for (const auto& ep : endpoints) put(fresh, ep);
  std::unique_lock lock(mu_);
  std::swap(st_, fresh);
  lock.unlock();
  // `fresh` (the old records) is freed here, outside the lock.
}

size_t Zone::services() const {
  std::shared_lock lock(mu_);
  return st_.services.size();
}

size_t Zone::records() const {
  std::shared_lock lock(mu_);
  return st_.records;
}

Zone::Lookup Zone::Reader::find(const uint8_t* name, size_t size) const {
  Lookup out;
  std::string_view key(reinterpret_cast<const char*>(name), size);
  const bool ours = inZone(name, size, zone_.apex_);
  if (ours && key == zone_.apex_) {
    out.kind = Kind::kName;
    out.apex = out.authoritative = true;
    return out;
  }
  auto it = zone_.st_.names.find(key);
  if (it != zone_.st_.names.end()) {
    out.kind = Kind::kName;
    out.node = &it->second;
    out.authoritative = ours;
    return out;
  }
  if (ours) {
    // "ns.<domain>" is the zone's name server.
    if (zone_.nsA_ && key == std::string_view(reinterpret_cast<const char*>(zone_.nsA_->owner),
                                              knot_dname_size(zone_.nsA_->owner))) {
      out.kind = Kind::kName;
      out.nsHost = out.authoritative = true;
      return out;
    }
    out.kind = Kind::kNxDomain;
    out.authoritative = true;
    return out;
  }
  // "<svc>.<ns>." is the first try of "<svc>.<ns>" under ndots:1: when <ns>
  // is a namespace of the cluster it is not a public name. The service's
  // name answers it (a CNAME to "<svc>.<ns>.<domain>"), one query for any
  // resolver; else NXDOMAIN, rather than asking the upstream.
  if (size > 1 && name[0] + 1u < size) {
    const uint8_t* second = name + name[0] + 1;
    const size_t len = second[0];
    if (len > 0 && second + len + 1 < name + size && second[len + 1] == 0 &&
        zone_.st_.namespaces.count(std::string(reinterpret_cast<const char*>(second + 1), len))) {
      out.kind = Kind::kNxDomain;
      WireName fqdn(reinterpret_cast<const char*>(name), size - 1);
      fqdn += zone_.apex_;
      auto target = zone_.st_.names.find(fqdn);
      if (target != zone_.st_.names.end() && target->second.a) {
        out.kind = Kind::kAlias;
        out.node = &target->second;
      }
    }
  }
  return out;
}

}  // namespace lb::discovery
