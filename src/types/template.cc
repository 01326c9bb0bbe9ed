#include "lastbackend/types/template.h"

#include <cstdio>
#include <set>

#include "types/fields.h"

namespace lb::types {

namespace {

bool parsePort(std::string_view s, int* out) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return false;
  *out = v;
  return true;
}

}  // namespace

StatusOr<PortMapping> parsePortMapping(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("invalid port '" + std::string(text) + "': " + why);
  };
  PortMapping p;
  std::string_view rest = text;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    p.protocol = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (p.protocol != "tcp" && p.protocol != "udp") return bad("protocol must be tcp or udp");
  }
  std::string_view host = rest, container = rest;
  if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    container = rest.substr(colon + 1);
  }
  if (!parsePort(host, &p.port) || !parsePort(container, &p.containerPort))
    return bad("ports must be numbers in 1-65535 (e.g. \"80:8080/tcp\")");
  return p;
}

std::string formatPortMapping(const PortMapping& p) {
  return std::to_string(p.port) + ":" + std::to_string(p.containerPort) + "/" + p.protocol;
}

std::string contentHash(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string templateHash(const PodTemplate& tmpl) {
  // The canonical form is the object encoding: keys are sorted (std::map
  // objects), so the bytes (and the hash) are stable across runs and machines.
  return contentHash(detail::dumpJson(detail::encode(tmpl, detail::Mode::kObject, 0), false));
}

std::string deploymentHash(const PodTemplate& tmpl, const RefData& data) {
  std::string hash = templateHash(tmpl);
  std::set<std::string> secrets, configs;
  for (const auto& c : tmpl.containers) {
    for (const auto& e : c.env) {
      if (e.secret) secrets.insert(e.secret->name);
      if (e.config) configs.insert(e.config->name);
    }
  }
  if (secrets.empty() && configs.empty()) return hash;
  std::string refs = hash;
  auto add = [&](bool secret, const std::string& name) {
    auto d = data(secret, name);
    refs += std::string("|") + (secret ? "secret" : "config") + ":" + name + "=";
    refs += d ? *d : std::string("-");  // absent: its creation rolls too
  };
  for (const auto& name : secrets) add(true, name);
  for (const auto& name : configs) add(false, name);
  return contentHash(refs);
}

}  // namespace lb::types
