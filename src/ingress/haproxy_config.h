#pragma once

// The HAProxy side of the ingress, as data: the ingress manifest (routes,
// endpoints, certificates) becomes a Model — one frontend per route port,
// one backend per route rule with a fixed number of server slots — and a
// Model becomes haproxy.cfg text. Two models with the same layout() differ
// in servers only, which the Runtime API changes without a reload.

#include <map>
#include <string>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/types/endpoint.h"
#include "lastbackend/types/route.h"
#include "lastbackend/types/secret.h"

namespace lb::ingress {

struct Server {
  std::string ip;
  int port = 0;
  auto operator<=>(const Server&) const = default;
};

struct Backend {
  std::string name;             // "be_<ns>_<route>_<rule>", unique and config-safe
  std::vector<Server> servers;  // the service's ready pods, sorted
  int slots = 0;                // server lines in the config (s1..sN), >= servers
};

// One rule of a frontend: Host (port stripped, lower case) and path prefix.
struct Rule {
  std::string route;  // selflink
  std::string host;
  std::string path;  // "/" or "/api" (matches "/api" and "/api/...")
  std::string backend;
};

struct Frontend {
  int port = 0;
  bool tls = false;                         // ssl termination with crt-list
  std::vector<Rule> rules;                  // longest path first
  std::vector<std::string> redirectHosts;   // port 80: hosts answered with a redirect to https
};

// A route's certificate and key, PEM, written to <dir>/certs/<file>.
struct Certificate {
  std::string route;  // selflink
  std::string file;   // "<ns>_<route>.pem"
  std::string host;   // the SNI name
  std::string pem;    // certificate chain + key
};

struct Model {
  std::vector<Frontend> frontends;  // by port
  std::vector<Backend> backends;    // by name
  std::vector<Certificate> certs;
  // Routes that cannot be served, with the reason (missing secret, ...).
  std::map<std::string, std::string> errors;
  // Every route that is served, by selflink.
  std::vector<std::string> routes;
};

// What the ingress manifest holds, decoded.
struct Manifest {
  std::map<std::string, types::Route> routes;        // by selflink
  std::map<std::string, types::Endpoint> endpoints;  // by selflink
  std::map<std::string, types::Secret> secrets;      // by selflink
};

// The body of GET /ingress/{name}/spec, decoded; its revision in `revision`.
// An item that does not decode is skipped (and logged), never the whole.
StatusOr<Manifest> decodeManifest(std::string_view body, int64_t* revision);

// The Model of `m`. A route whose domain is empty is served on
// "<route>.<namespace>.<fallbackDomain>". Two routes claiming the same host,
// port and path: the older (created first, then by name) wins; the other is
// an error naming it.
Model buildModel(const Manifest& m, const std::string& fallbackDomain);

// Backends of `next` that the running model has too, with slots enough,
// keep its slot count (so a scale within them needs no reload).
void keepSlots(Model& next, const Model& running);

// The server slots a backend of `servers` servers gets: room to grow
// without a reload (at least 8, twice the servers, rounded to a power of 2).
int slotsFor(size_t servers);

struct ConfigOptions {
  std::string dir;        // the config's folder: sockets and certificates live here
  std::string bindHost;   // "" = every address
  int statsPort = 0;      // 0: no stats page
  std::string statsUser, statsPassword;
};

// haproxy.cfg for `model`. With `withServers` false the servers' addresses
// are left out (every slot disabled): layout(model) is that text, and two
// models with equal layouts differ only in what the Runtime API sets.
std::string renderConfig(const Model& model, const ConfigOptions& o, bool withServers = true);
std::string layout(const Model& model, const ConfigOptions& o);

// The Runtime API commands that turn backend `from` into `to` (same name and
// slots): slot assignment kept for servers in both, freed slots put in
// maintenance, new servers given a free slot's address and made ready.
// `assign` maps "ip:port" -> slot (1-based) and is updated.
std::vector<std::string> runtimeCommands(const Backend& to, std::map<std::string, int>& assign);

// The slot assignment the config of `b` starts with (servers in order).
std::map<std::string, int> initialAssignment(const Backend& b);

}  // namespace lb::ingress
