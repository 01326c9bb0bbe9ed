// What every CPI driver shares: the endpoint -> programmed state mapping and
// its checks. The names and addresses checked here end up in rule text, so
// nothing but the characters of a selflink and dotted IPv4 gets through.

#include "lastbackend/runtime/cpi.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>
#include <utility>

namespace lb::runtime::cpi {
namespace {

// nftables keeps at most 128 bytes of a rule comment, which carries the name.
constexpr size_t kMaxName = 127;

Status checkName(const std::string& name, const std::string& field) {
  auto colon = name.find(':');
  bool charsOk = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == ':';
  });
  if (name.empty() || name.size() > kMaxName || !charsOk || colon == 0 ||
      colon == std::string::npos || colon + 1 == name.size() ||
      name.find(':', colon + 1) != std::string::npos) {
    return invalidArgument("endpoint name '" + name.substr(0, 64) +
                               "' is not a selflink '<namespace>:<service>' of at most " +
                               std::to_string(kMaxName) + " lowercase letters, digits and '-'",
                           field);
  }
  return Status::ok();
}

// Dotted IPv4 that can be a unicast destination (no 0/8, loopback,
// multicast or broadcast: a VIP or a pod there would capture host traffic).
Status checkAddress(const std::string& ip, const std::string& what, const std::string& field) {
  in_addr a{};
  if (ip.size() > 15 || ::inet_pton(AF_INET, ip.c_str(), &a) != 1)
    return invalidArgument(what + " '" + ip.substr(0, 40) + "' is not an IPv4 address", field);
  uint32_t h = ntohl(a.s_addr);
  uint8_t first = h >> 24;
  if (first == 0 || first == 127 || first >= 224)
    return invalidArgument(what + " " + ip + " is not a unicast address", field);
  return Status::ok();
}

Status checkPort(int port, const std::string& what, const std::string& field) {
  if (port < 1 || port > 65535)
    return invalidArgument(what + " " + std::to_string(port) + " is not in 1-65535", field);
  return Status::ok();
}

Status checkProtocol(const std::string& protocol, const std::string& field) {
  if (protocol == "tcp" || protocol == "udp") return Status::ok();
  return invalidArgument("protocol '" + protocol.substr(0, 20) + "' is not tcp or udp", field);
}

StatusOr<std::string> normalizePolicy(const std::string& policy) {
  if (policy.empty() || policy == kPolicyRoundRobin) return std::string(kPolicyRoundRobin);
  if (policy == kPolicyRandom) return std::string(kPolicyRandom);
  return invalidArgument("balancing policy '" + policy.substr(0, 40) + "' is not one of " +
                             kPolicyRoundRobin + ", " + kPolicyRandom,
                         "spec.policy");
}

}  // namespace

std::string stateKey(const EndpointState& state) {
  return state.name.empty() ? "vip/" + state.ip : state.name;
}

StatusOr<EndpointState> programmedState(const types::Endpoint& endpoint) {
  EndpointState out;
  out.name = endpoint.meta.selflink;
  if (out.name.empty() && !endpoint.meta.namespace_.empty())
    out.name = endpoint.meta.namespace_ + ":" + endpoint.meta.name;
  LB_RETURN_IF_ERROR(checkName(out.name, "meta.selflink"));
  const auto& spec = endpoint.spec;
  LB_RETURN_IF_ERROR(checkAddress(spec.ip, "VIP", "spec.ip"));
  out.ip = spec.ip;
  auto policy = normalizePolicy(spec.policy);
  if (!policy.isOk()) return policy.status();
  for (size_t i = 0; i < spec.upstreams.size(); ++i) {
    const auto& u = spec.upstreams[i];
    std::string f = "spec.upstreams[" + std::to_string(i) + "]";
    LB_RETURN_IF_ERROR(checkAddress(u.ip, "upstream", f + ".ip"));
    LB_RETURN_IF_ERROR(checkPort(u.port, "upstream port", f + ".port"));
  }
  if (spec.ports.empty()) return invalidArgument("endpoint has no ports", "spec.ports");
  std::set<std::pair<std::string, int>> seen;
  bool anyBackend = false;
  for (size_t i = 0; i < spec.ports.size(); ++i) {
    const auto& p = spec.ports[i];
    std::string f = "spec.ports[" + std::to_string(i) + "]";
    LB_RETURN_IF_ERROR(checkProtocol(p.protocol, f + ".protocol"));
    LB_RETURN_IF_ERROR(checkPort(p.port, "service port", f + ".port"));
    LB_RETURN_IF_ERROR(checkPort(p.containerPort, "container port", f + ".containerPort"));
    if (!seen.insert({p.protocol, p.port}).second)
      return invalidArgument("port " + std::to_string(p.port) + "/" + p.protocol + " twice",
                             f + ".port");
    PortState ps{p.protocol, p.port, {}};
    for (const auto& u : spec.upstreams) {
      if (u.port == p.containerPort) ps.backends.push_back({u.ip, u.port});
    }
    std::sort(ps.backends.begin(), ps.backends.end());
    ps.backends.erase(std::unique(ps.backends.begin(), ps.backends.end()), ps.backends.end());
    anyBackend = anyBackend || !ps.backends.empty();
    out.ports.push_back(std::move(ps));
  }
  std::sort(out.ports.begin(), out.ports.end(), portOrder);
  if (anyBackend) out.policy = *policy;
  return out;
}

Status validateState(const EndpointState& state) {
  if (!state.name.empty()) LB_RETURN_IF_ERROR(checkName(state.name, "name"));
  LB_RETURN_IF_ERROR(checkAddress(state.ip, "VIP", "ip"));
  for (size_t i = 0; i < state.ports.size(); ++i) {
    const auto& p = state.ports[i];
    std::string f = "ports[" + std::to_string(i) + "]";
    LB_RETURN_IF_ERROR(checkProtocol(p.protocol, f + ".protocol"));
    LB_RETURN_IF_ERROR(checkPort(p.port, "service port", f + ".port"));
    for (size_t j = 0; j < p.backends.size(); ++j) {
      std::string b = f + ".backends[" + std::to_string(j) + "]";
      LB_RETURN_IF_ERROR(checkAddress(p.backends[j].ip, "backend", b + ".ip"));
      LB_RETURN_IF_ERROR(checkPort(p.backends[j].port, "backend port", b + ".port"));
    }
  }
  return Status::ok();
}

}  // namespace lb::runtime::cpi
