#include "runtime/cpi/nftables/ruleset.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

namespace lb::runtime::cpi::nftables {
namespace {

using nlohmann::json;

const std::string kIn = std::string("ip ") + kTable + " ";
constexpr const char* kMap = "endpoints";
constexpr const char* kHairpin = "hairpin";

bool isIdentifier(std::string_view s) {
  return !s.empty() && s.size() < 200 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// --- reading a listing --------------------------------------------------

struct Chain {
  std::string type, hook;
  int prio = 0;
  bool base = false;
  std::vector<json> rules;  // each rule's "expr" array, with "comment"
};

struct Raw {
  bool table = false, map = false, set = false;
  std::map<std::string, std::string> targets;  // VIP -> chain
  std::set<std::string> hairpin;               // b with "b . b" in the set
  std::map<std::string, Chain> chains;
};

void readMap(const json& m, Raw& raw) {
  raw.map = str(m, "type") == "ipv4_addr" && str(m, "map") == "verdict";
  if (!m.contains("elem") || !m["elem"].is_array()) return;
  for (const auto& e : m["elem"]) {
    if (!e.is_array() || e.size() != 2 || !e[0].is_string()) continue;
    std::string target = str(e[1].value("goto", json::object()), "target");
    if (!target.empty()) raw.targets[e[0].get<std::string>()] = target;
  }
}

void readSet(const json& s, Raw& raw) {
  raw.set = s.contains("type") && s["type"] == json::array({"ipv4_addr", "ipv4_addr"});
  if (!s.contains("elem") || !s["elem"].is_array()) return;
  for (const auto& e : s["elem"]) {
    const json& c = e.is_object() ? e.value("concat", json::array()) : json::array();
    if (c.size() == 2 && c[0].is_string() && c[0] == c[1])
      raw.hairpin.insert(c[0].get<std::string>());
  }
}

void readItem(const json& item, Raw& raw) {
  if (item.contains("table")) {
    raw.table = raw.table || str(item["table"], "name") == kTable;
  } else if (item.contains("map") && str(item["map"], "name") == kMap) {
    readMap(item["map"], raw);
  } else if (item.contains("set") && str(item["set"], "name") == kHairpin) {
    readSet(item["set"], raw);
  } else if (item.contains("chain")) {
    const json& c = item["chain"];
    Chain& ch = raw.chains[str(c, "name")];
    ch.base = c.contains("hook");
    ch.type = str(c, "type");
    ch.hook = str(c, "hook");
    ch.prio = c.contains("prio") && c["prio"].is_number_integer() ? c["prio"].get<int>() : 0;
  } else if (item.contains("rule")) {
    const json& r = item["rule"];
    json expr = r.value("expr", json::array());
    json rule = {{"expr", expr}, {"comment", str(r, "comment")}};
    raw.chains[str(r, "chain")].rules.push_back(std::move(rule));
  }
}

bool hasVmapOfEndpoints(const json& expr) {
  return expr.size() == 1 && expr[0].contains("vmap") &&
         expr[0]["vmap"].value("data", json()) == std::string("@") + kMap;
}

bool hasHairpinMasquerade(const json& expr) {
  bool masq = false, set = false;
  for (const auto& e : expr) {
    masq = masq || e.contains("masquerade");
    set = set ||
          (e.contains("match") && e["match"].value("right", json()) == std::string("@") + kHairpin);
  }
  return masq && set;
}

bool baseChainOk(const Raw& raw, const std::string& name, const std::string& hook, int prio,
                 bool (*ruleOk)(const json&)) {
  auto it = raw.chains.find(name);
  if (it == raw.chains.end()) return false;
  const Chain& c = it->second;
  return c.base && c.type == "nat" && c.hook == hook && c.prio == prio && c.rules.size() == 1 &&
         ruleOk(c.rules[0]["expr"]);
}

bool skeletonOk(const Raw& raw) {
  return raw.table && raw.map && raw.set &&
         baseChainOk(raw, "prerouting", "prerouting", -100, hasVmapOfEndpoints) &&
         baseChainOk(raw, "output", "output", -100, hasVmapOfEndpoints) &&
         baseChainOk(raw, "postrouting", "postrouting", 100, hasHairpinMasquerade);
}

// "tcp dport 80": protocol and port, or nullopt.
std::optional<std::pair<std::string, int>> portMatch(const json& e) {
  if (!e.contains("match")) return std::nullopt;
  const json& m = e["match"];
  json payload = m.value("left", json::object()).value("payload", json::object());
  std::string proto = str(payload, "protocol");
  if (str(m, "op") != "==" || str(payload, "field") != "dport" ||
      (proto != "tcp" && proto != "udp") || !m.contains("right") || !m["right"].is_number_integer())
    return std::nullopt;
  return std::make_pair(proto, m["right"].get<int>());
}

// "dnat ip to numgen <mode> mod N map { i : ip . port }": the backends and
// the policy, or false when it is anything else.
bool readDnat(const json& e, std::vector<Backend>* backends, std::string* policy) {
  if (!e.contains("dnat")) return false;
  json map = e["dnat"].value("addr", json::object()).value("map", json::object());
  json numgen = map.value("key", json::object()).value("numgen", json::object());
  json set = map.value("data", json::object()).value("set", json::array());
  std::string mode = str(numgen, "mode");
  if ((mode != "inc" && mode != "random") || numgen.value("offset", 0) != 0 || set.empty() ||
      numgen.value("mod", 0) != static_cast<int>(set.size()))
    return false;
  std::vector<bool> index(set.size(), false);
  for (const auto& pair : set) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer()) return false;
    auto i = pair[0].get<size_t>();
    json c = pair[1].is_object() ? pair[1].value("concat", json::array()) : json::array();
    if (i >= index.size() || index[i] || c.size() != 2 || !c[0].is_string() ||
        !c[1].is_number_integer())
      return false;
    index[i] = true;
    backends->push_back({c[0].get<std::string>(), c[1].get<int>()});
  }
  std::sort(backends->begin(), backends->end());
  *policy = mode == "inc" ? kPolicyRoundRobin : kPolicyRandom;
  return true;
}

bool isReject(const json& e, bool* tcpReset) {
  if (!e.contains("reject")) return false;
  *tcpReset = e["reject"].is_object() && str(e["reject"], "type") == "tcp reset";
  return true;
}

// One endpoint chain: its state as found, and whether it is whole (rules
// in the order program() writes them, one name, one policy, both guards).
std::pair<EndpointState, bool> readEndpointChain(const std::string& vip, const Chain& chain) {
  EndpointState st;
  st.ip = vip;
  bool whole = true, guardTcp = false, guardAll = false;
  std::set<std::string> modes;
  for (const auto& rule : chain.rules) {
    const json& expr = rule["expr"];
    std::string comment = rule["comment"].get<std::string>();
    if (st.name.empty()) st.name = comment;
    if (comment != st.name || guardAll) whole = false;
    bool reset = false;
    if (expr.size() == 1 && isReject(expr[0], &reset)) {
      if (reset && !guardTcp) {
        guardTcp = true;
      } else if (!reset && guardTcp) {
        guardAll = true;
      } else {
        whole = false;
      }
      continue;
    }
    auto match = expr.size() == 2 ? portMatch(expr[0]) : std::nullopt;
    PortState ps;
    std::string policy;
    if (!match || (!isReject(expr[1], &reset) && !readDnat(expr[1], &ps.backends, &policy))) {
      whole = false;
      continue;
    }
    if (guardTcp) whole = false;  // after the guard: never reached
    ps.protocol = match->first;
    ps.port = match->second;
    if (!policy.empty()) modes.insert(policy);
    for (const auto& p : st.ports) {
      if (p.protocol == ps.protocol && p.port == ps.port)
        whole = false;  // the second never matches
    }
    st.ports.push_back(std::move(ps));
  }
  std::sort(st.ports.begin(), st.ports.end(), portOrder);
  if (modes.size() == 1) st.policy = *modes.begin();
  return {st, whole && guardAll && modes.size() <= 1};
}

void servedView(EndpointState& st, const std::set<std::string>& hairpin) {
  bool any = false;
  for (auto& p : st.ports) {
    std::erase_if(p.backends, [&](const Backend& b) { return !hairpin.count(b.ip); });
    any = any || !p.backends.empty();
  }
  if (!any) st.policy.clear();
}

void addEntry(Listing& out, EndpointState found, EndpointState served) {
  std::string key = stateKey(found);
  if (out.found.count(key)) {  // one name on two VIPs: the second is nameless
    found.name.clear();
    served.name.clear();
    key = stateKey(found);
  }
  out.found[key] = std::move(found);
  out.served[key] = std::move(served);
}

Listing readListing(const json& j) {
  Raw raw;
  for (const auto& item : j["nftables"]) {
    if (item.is_object()) readItem(item, raw);
  }
  Listing out;
  out.table = raw.table;
  out.skeleton = skeletonOk(raw);
  out.targets = raw.targets;
  std::set<std::string> vips;
  for (const auto& [name, chain] : raw.chains) {
    std::string vip = vipOfChain(name);
    if (vip.empty()) continue;
    vips.insert(vip);
    auto [found, whole] = readEndpointChain(vip, chain);
    auto t = raw.targets.find(vip);
    EndpointState served = found;
    if (!out.skeleton || !whole || t == raw.targets.end() || t->second != name) {
      served.ports.clear();
      served.policy.clear();
    }
    servedView(served, raw.hairpin);
    addEntry(out, std::move(found), std::move(served));
  }
  // Map elements of a VIP without its own chain lead somewhere else.
  for (const auto& [vip, target] : raw.targets) {
    if (vips.count(vip)) continue;
    EndpointState orphan;
    orphan.ip = vip;
    addEntry(out, orphan, orphan);
  }
  return out;
}

}  // namespace

std::string chainName(const std::string& vip) {
  std::string out = "ep_" + vip;
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

std::string vipOfChain(std::string_view chain) {
  if (chain.substr(0, 3) != "ep_") return "";
  std::string vip(chain.substr(3));
  std::replace(vip.begin(), vip.end(), '_', '.');
  in_addr a{};
  if (vip.size() > 15 || ::inet_pton(AF_INET, vip.c_str(), &a) != 1) return "";
  return chainName(vip) == chain ? vip : "";
}

StatusOr<Listing> parseListing(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array())
    return internalError(std::string("unreadable JSON listing of table ip ") + kTable);
  try {
    return readListing(j);
  } catch (const json::exception& e) {
    // Whatever it is, it is not what program() wrote: the caller sees a
    // table it cannot read rather than a crash.
    return internalError(std::string("unexpected JSON listing of table ip ") + kTable + ": " +
                         e.what());
  }
}

std::set<std::string> backendIps(const EndpointState& state) {
  std::set<std::string> out;
  for (const auto& p : state.ports) {
    for (const auto& b : p.backends) out.insert(b.ip);
  }
  return out;
}

// --- writing a batch ----------------------------------------------------

void Batch::line(const std::string& command) {
  text_ += command;
  text_ += '\n';
}

void Batch::skeleton() {
  line("add table " + kIn.substr(0, kIn.size() - 1));
  line("add map " + kIn + kMap + " { type ipv4_addr : verdict ; }");
  line("add set " + kIn + kHairpin + " { type ipv4_addr . ipv4_addr ; }");
  for (const char* hook : {"prerouting", "output"}) {
    line("add chain " + kIn + hook + " { type nat hook " + hook +
         " priority -100 ; policy accept ; }");
    line(std::string("flush chain ") + kIn + hook);
    line("add rule " + kIn + hook + " ip daddr vmap @" + kMap);
  }
  line("add chain " + kIn +
       "postrouting { type nat hook postrouting priority 100 ; policy accept ; }");
  line("flush chain " + kIn + "postrouting");
  line("add rule " + kIn + "postrouting ct status dnat ip saddr . ip daddr @" + kHairpin +
       " masquerade");
}

void Batch::program(const EndpointState& state) {
  const std::string chain = chainName(state.ip);
  const std::string rule = "add rule " + kIn + chain + " ";
  const std::string comment = " comment \"" + state.name + "\"";
  const char* mode = state.policy == kPolicyRandom ? "random" : "inc";
  line("add chain " + kIn + chain);
  line("flush chain " + kIn + chain);
  for (const auto& p : state.ports) {
    std::string match = p.protocol + " dport " + std::to_string(p.port);
    if (p.backends.empty()) {
      line(rule + match + (p.protocol == "tcp" ? " reject with tcp reset" : " reject") + comment);
      continue;
    }
    std::string map;
    for (size_t i = 0; i < p.backends.size(); ++i) {
      if (i) map += ", ";
      map +=
          std::to_string(i) + " : " + p.backends[i].ip + " . " + std::to_string(p.backends[i].port);
    }
    line(rule + match + " dnat ip addr . port to numgen " + mode + " mod " +
         std::to_string(p.backends.size()) + " map { " + map + " }" + comment);
  }
  line(rule + "meta l4proto tcp reject with tcp reset" + comment);
  line(rule + "reject" + comment);
  line("add element " + kIn + kMap + " { " + state.ip + " : goto " + chain + " }");
  std::string pairs;
  for (const auto& ip : backendIps(state)) pairs += (pairs.empty() ? "" : ", ") + ip + " . " + ip;
  if (!pairs.empty()) line("add element " + kIn + kHairpin + " { " + pairs + " }");
}

void Batch::removeElement(const std::string& vip, const std::string& target) {
  const std::string chain = chainName(vip);
  const std::string to = isIdentifier(target) ? target : chain;
  line("add chain " + kIn + to);
  line("add element " + kIn + kMap + " { " + vip + " : goto " + to + " }");
  line("delete element " + kIn + kMap + " { " + vip + " }");
}

void Batch::removeVip(const std::string& vip, const std::string& target) {
  const std::string chain = chainName(vip);
  if (isIdentifier(target) && target != chain) line("add chain " + kIn + chain);
  removeElement(vip, target);
  line("flush chain " + kIn + chain);
  line("delete chain " + kIn + chain);
}

void Batch::removeHairpin(const std::string& ip) {
  line("add element " + kIn + kHairpin + " { " + ip + " . " + ip + " }");
  line("delete element " + kIn + kHairpin + " { " + ip + " . " + ip + " }");
}

}  // namespace lb::runtime::cpi::nftables
