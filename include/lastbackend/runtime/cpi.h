#pragma once

// CPI — the container proxy interface: the service VIPs of the cluster on one
// node. Each endpoint (types::Endpoint: a VIP, the service's ports and the
// ready pods behind them) becomes, on every node, "a connection to VIP:port
// goes to one of the ready pods"; a VIP port without a ready pod is refused
// at once (TCP reset / ICMP port unreachable), never routed on. A driver
// (nftables) is chosen by name from the table in src/runtime/drivers.h.
//
// The methods are the reference's (Info, Create, Destroy, Update). What a
// driver programs is an EndpointState: the endpoint as the data plane sees
// it, normalized by programmedState() so that "what is wanted" and "what
// is there" compare with ==. A caller converges by comparing info() with
// programmedState() of every endpoint it knows, then update() what differs,
// create() what is missing and destroy() what is no longer wanted.
//
// Data plane first: a driver opened over what an earlier one programmed
// adopts it (never flushes it); info() reports only what works end to end,
// so a rule or entry removed by hand shows as a difference and the next
// update() or create() of that endpoint puts it back.
//
// Errors are lb::Status with context, e.g.
//   "cpi nftables: update endpoint 'demo:web': Error: Could not process rule"
// kInvalidArgument: a malformed endpoint (the field is named); kConflict:
// the VIP is programmed for another endpoint; kPermissionDenied: no
// CAP_NET_ADMIN; kUnavailable / kInternal: the kernel refused.
// Every method is thread-safe (calls are serialized).

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/endpoint.h"

namespace lb::runtime::cpi {

// Balancing between the ready pods of one port (types::EndpointSpec::policy).
inline constexpr const char* kPolicyRoundRobin = "rr";  // the default ("" means it too)
inline constexpr const char* kPolicyRandom = "random";

// A ready pod behind one service port.
struct Backend {
  std::string ip;
  int port = 0;  // the pod's (container) port
  bool operator==(const Backend&) const = default;
  bool operator<(const Backend& o) const { return std::tie(ip, port) < std::tie(o.ip, o.port); }
};

// One service port on the VIP and where its connections go.
struct PortState {
  std::string protocol = "tcp";   // tcp | udp
  int port = 0;                   // on the VIP
  std::vector<Backend> backends;  // sorted, no duplicates; empty = refused
  bool operator==(const PortState&) const = default;
};

// How EndpointState::ports are ordered: by (protocol, port).
inline bool portOrder(const PortState& a, const PortState& b) {
  return std::tie(a.protocol, a.port) < std::tie(b.protocol, b.port);
}

struct EndpointState {
  std::string name;  // the endpoint's selflink ("demo:web"); "" when unknown
  std::string ip;    // the VIP
  // kPolicy*, as programmed; "" when no port has a backend (there is
  // nothing to balance, and nothing in the data plane says it).
  std::string policy;
  std::vector<PortState> ports;  // sorted by (protocol, port)
  bool operator==(const EndpointState&) const = default;
};

// Keys of info(): the endpoint's name, or "vip/<ip>" for what the data
// plane holds for a VIP but no longer names (destroy() removes it).
std::string stateKey(const EndpointState& state);

// What a driver programs for `endpoint`: each service port (spec.ports,
// "port on the VIP : container port / protocol") goes to the upstreams
// whose port is that port's container port (the controller lists one
// upstream per ready pod and service port). kInvalidArgument naming the
// field for a bad name, VIP, port, protocol, duplicate port, upstream or
// policy.
StatusOr<EndpointState> programmedState(const types::Endpoint& endpoint);

// OK, or kInvalidArgument naming what is wrong with a state handed back
// to destroy() or update() (its ip is used; everything else may be stale).
Status validateState(const EndpointState& state);

class ProxyRuntime {
 public:
  virtual ~ProxyRuntime() = default;

  // What is programmed, by stateKey(). Only what works end to end is
  // reported: a port whose rule, VIP entry or base chain is missing is not
  // there, a backend whose entries are incomplete is not listed.
  virtual StatusOr<std::map<std::string, EndpointState>> info() = 0;

  // Programs `endpoint` and returns programmedState() of it. An endpoint of
  // that name already programmed (e.g. by an earlier agent) is replaced in
  // the same way update() replaces it. kConflict when the VIP belongs to
  // another programmed endpoint.
  virtual StatusOr<EndpointState> create(const types::Endpoint& endpoint) = 0;

  // Removes what is programmed for `state` (its VIP, and whatever the
  // driver knows of its name), and forgets the UDP flows to the VIP.
  // Removing what is not there is OK.
  virtual Status destroy(const EndpointState& state) = 0;

  // Moves `state` (as info() or create() returned it; stale is fine) to
  // `endpoint`, as one atomic change: ports and backends added or removed,
  // nothing else touched, the UDP flows of removed backends forgotten (new
  // packets of those flows pick a live backend).
  virtual StatusOr<EndpointState> update(const EndpointState& state,
                                         const types::Endpoint& endpoint) = 0;
};

}  // namespace lb::runtime::cpi
