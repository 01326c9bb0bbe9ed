#include "ingress/haproxy_config.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <sstream>

#include "lastbackend/common/logging.h"
#include "lastbackend/types/codec.h"

namespace lb::ingress {

namespace {

// Config-safe path characters (the rest would need quoting HAProxy does
// not offer inside an ACL pattern).
bool safePath(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  return std::all_of(p.begin(), p.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("/-._~%+@").find(c) != std::string_view::npos;
  });
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string underscore(std::string s) {
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

// The certificate and key of a TLS secret, checked: both present, parsable,
// the key the certificate's. Else the reason.
StatusOr<std::string> certificatePem(const types::Secret& s) {
  std::string cert, key;
  for (const auto& [k, v] : s.spec.data) {
    if (v.find("-----BEGIN CERTIFICATE-----") != std::string::npos && cert.empty()) cert = v;
    if (v.find("PRIVATE KEY-----") != std::string::npos && key.empty()) key = v;
  }
  if (cert.empty()) return invalidArgument("secret '" + s.meta.name + "' holds no PEM certificate");
  if (key.empty()) return invalidArgument("secret '" + s.meta.name + "' holds no PEM private key");
  BIO* cb = BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size()));
  BIO* kb = BIO_new_mem_buf(key.data(), static_cast<int>(key.size()));
  X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* pk = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  std::string problem;
  if (!x) problem = "the certificate of secret '" + s.meta.name + "' does not parse";
  else if (!pk) problem = "the private key of secret '" + s.meta.name + "' does not parse";
  else if (X509_check_private_key(x, pk) != 1)
    problem = "the key of secret '" + s.meta.name + "' does not match its certificate";
  X509_free(x);
  EVP_PKEY_free(pk);
  BIO_free(cb);
  BIO_free(kb);
  if (!problem.empty()) return invalidArgument(problem);
  std::string pem = cert;
  if (pem.back() != '\n') pem += '\n';
  return pem + key;
}

bool olderFirst(const types::Route& a, const types::Route& b) {
  if (a.meta.created != b.meta.created) return a.meta.created < b.meta.created;
  return a.meta.selflink < b.meta.selflink;
}

}  // namespace

namespace {

template <class T>
void decodeItems(const nlohmann::json& body, const char* field, std::map<std::string, T>& out) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_object()) return;
  for (const auto& [sl, v] : it->items()) {
    T obj;
    if (Status s = types::fromJson(v.dump(), &obj); !s.isOk()) {
      spdlog::warn("ingress: {} '{}' does not decode: {}", field, sl, s.message());
      continue;
    }
    if (obj.meta.selflink.empty()) obj.meta.selflink = sl;
    out.emplace(sl, std::move(obj));
  }
}

}  // namespace

StatusOr<Manifest> decodeManifest(std::string_view body, int64_t* revision) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return invalidArgument("the ingress manifest is not a JSON object");
  Manifest m;
  *revision = j.value("revision", int64_t{0});
  decodeItems(j, "routes", m.routes);
  decodeItems(j, "endpoints", m.endpoints);
  decodeItems(j, "secrets", m.secrets);
  return m;
}

int slotsFor(size_t servers) {
  int n = 8;
  while (static_cast<size_t>(n) < 2 * servers) n *= 2;
  return n;
}

Model buildModel(const Manifest& m, const std::string& fallbackDomain) {
  Model model;
  std::vector<const types::Route*> routes;
  for (const auto& [sl, r] : m.routes) routes.push_back(&r);
  std::sort(routes.begin(), routes.end(),
            [](const types::Route* a, const types::Route* b) { return olderFirst(*a, *b); });
  std::map<int, Frontend> frontends;
  std::map<std::string, std::string> claimed;  // "port host path" -> route
  std::set<std::string> redirects;
  for (const types::Route* r : routes) {
    const std::string& sl = r->meta.selflink;
    std::string host = lower(r->spec.domain.empty()
                                 ? r->meta.name + "." + r->meta.namespace_ + "." + fallbackDomain
                                 : r->spec.domain);
    const bool tls = !r->spec.tls.secret.empty();
    Certificate cert;
    if (tls) {
      auto s = m.secrets.find(r->meta.namespace_ + ":" + r->spec.tls.secret);
      if (s == m.secrets.end()) {
        model.errors[sl] = "secret '" + r->spec.tls.secret + "' not found";
        continue;
      }
      auto pem = certificatePem(s->second);
      if (!pem.isOk()) {
        model.errors[sl] = pem.status().message();
        continue;
      }
      cert = {sl, underscore(r->meta.namespace_ + "_" + r->meta.name) + ".pem", host, *pem};
    }
    std::vector<Rule> rules;
    std::vector<Backend> backends;
    std::string problem;
    for (size_t i = 0; i < r->spec.rules.size() && problem.empty(); ++i) {
      const auto& rule = r->spec.rules[i];
      std::string path = rule.path.empty() ? "/" : rule.path;
      if (path.size() > 1 && path.back() == '/') path.pop_back();
      if (!safePath(path)) {
        problem = "path '" + rule.path + "' has characters the ingress does not route";
        break;
      }
      const std::string key = std::to_string(r->spec.port) + " " + host + " " + path;
      if (auto c = claimed.find(key); c != claimed.end()) {
        problem = "host " + host + " path " + path + " on port " + std::to_string(r->spec.port) +
                  " is served by route " + c->second;
        break;
      }
      Backend b;
      b.name = "be_" + underscore(r->meta.namespace_ + "_" + r->meta.name) + "_" +
               std::to_string(i);
      auto ep = m.endpoints.find(r->meta.namespace_ + ":" + rule.service);
      if (ep != m.endpoints.end()) {
        // The rule names the service port; the pods answer on its container port.
        int target = 0;
        for (const auto& p : ep->second.spec.ports)
          if (p.port == rule.port && p.protocol != "udp") target = p.containerPort;
        std::set<Server> seen;
        for (const auto& u : ep->second.spec.upstreams)
          if (target && u.port == target && !u.ip.empty()) seen.insert({u.ip, u.port});
        b.servers.assign(seen.begin(), seen.end());
      }
      b.slots = slotsFor(b.servers.size());
      rules.push_back({sl, host, path, b.name});
      backends.push_back(std::move(b));
    }
    if (!problem.empty()) {
      model.errors[sl] = problem;
      continue;
    }
    for (const auto& rule : rules)
      claimed[std::to_string(r->spec.port) + " " + rule.host + " " + rule.path] = sl;
    Frontend& f = frontends[r->spec.port];
    f.port = r->spec.port;
    f.tls = f.tls || tls;
    f.rules.insert(f.rules.end(), rules.begin(), rules.end());
    for (auto& b : backends) model.backends.push_back(std::move(b));
    if (tls) model.certs.push_back(std::move(cert));
    if (tls && r->spec.tls.redirect) redirects.insert(host);
    model.routes.push_back(sl);
  }
  // A port with plain and TLS routes cannot be both: TLS wins, the plain
  // routes there are errors.
  std::set<std::string> tlsRoutes;
  for (const auto& c : model.certs) tlsRoutes.insert(c.route);
  for (auto& [port, f] : frontends) {
    if (!f.tls) continue;
    std::vector<Rule> kept;
    for (auto& rule : f.rules) {
      if (tlsRoutes.count(rule.route)) {
        kept.push_back(rule);
      } else if (!model.errors.count(rule.route)) {
        model.errors[rule.route] =
            "port " + std::to_string(port) + " terminates TLS for other routes; this one has no "
            "tls.secret";
      }
    }
    f.rules = std::move(kept);
  }
  if (!redirects.empty()) {
    Frontend& f80 = frontends[80];
    f80.port = 80;
    if (!f80.tls) f80.redirectHosts.assign(redirects.begin(), redirects.end());
  }
  std::erase_if(model.routes, [&](const std::string& sl) { return model.errors.count(sl) > 0; });
  std::set<std::string> used;  // backends a rule still routes to
  for (const auto& [port, f] : frontends)
    for (const auto& rule : f.rules) used.insert(rule.backend);
  std::erase_if(model.backends, [&](const Backend& b) { return !used.count(b.name); });
  for (auto& [port, f] : frontends) {
    // Longest path first, so the longest prefix wins; then by host.
    std::stable_sort(f.rules.begin(), f.rules.end(), [](const Rule& a, const Rule& b) {
      if (a.path.size() != b.path.size()) return a.path.size() > b.path.size();
      return a.host < b.host;
    });
    if (!f.rules.empty() || !f.redirectHosts.empty()) model.frontends.push_back(std::move(f));
  }
  std::sort(model.backends.begin(), model.backends.end(),
            [](const Backend& a, const Backend& b) { return a.name < b.name; });
  return model;
}

void keepSlots(Model& next, const Model& running) {
  for (auto& b : next.backends) {
    auto it = std::lower_bound(running.backends.begin(), running.backends.end(), b.name,
                               [](const Backend& x, const std::string& n) { return x.name < n; });
    if (it != running.backends.end() && it->name == b.name &&
        static_cast<size_t>(it->slots) >= b.servers.size())
      b.slots = it->slots;
  }
}

std::string renderConfig(const Model& model, const ConfigOptions& o, bool withServers) {
  std::ostringstream c;
  c << "# Written by lastbackend ingress; changes here are overwritten.\n"
       "global\n"
       "  master-worker\n"
       "  stats socket "
    << o.dir << "/haproxy.sock mode 600 level admin expose-fd listeners\n"
    << "  stats timeout 30s\n"
       "  hard-stop-after 60s\n"
       // On a reload the old worker does not close idle keep-alive
       // connections (a client may be sending on one): each gets its next
       // answer with "Connection: close".
       "  close-spread-time infinite\n"
       "\n"
       "defaults\n"
       "  mode http\n"
       "  timeout connect 5s\n"
       "  timeout client 60s\n"
       "  timeout server 60s\n"
       "  timeout tunnel 1h\n"
       "  timeout http-keep-alive 10s\n"
       "  option forwardfor\n"
       "  option redispatch 1\n"
       "  retries 3\n"
       "  retry-on conn-failure empty-response\n"
       "\n";
  const std::string bind = o.bindHost.empty() ? "" : o.bindHost;
  for (const auto& f : model.frontends) {
    c << "frontend port_" << f.port << "\n  bind " << bind << ":" << f.port;
    if (f.tls) c << " ssl crt-list " << o.dir << "/certs.list";
    c << "\n  http-request set-var(txn.host) req.hdr(host),field(1,:),lower\n";
    c << "  http-request set-header X-Forwarded-Proto " << (f.tls ? "https" : "http") << "\n";
    for (const auto& h : f.redirectHosts)
      c << "  http-request redirect scheme https code 301 if { var(txn.host) -m str " << h
        << " }\n";
    for (const auto& r : f.rules) {
      const std::string host = "{ var(txn.host) -m str " + r.host + " }";
      if (r.path == "/")
        c << "  use_backend " << r.backend << " if " << host << "\n";
      else
        c << "  use_backend " << r.backend << " if " << host << " { path -m str " << r.path
          << " } || " << host << " { path_beg " << r.path << "/ }\n";
    }
    c << "  default_backend lb_not_found\n\n";
  }
  c << "backend lb_not_found\n"
       "  http-request return status 404 content-type text/plain string \"no route for this "
       "host and path\\n\"\n\n";
  for (const auto& b : model.backends) {
    c << "backend " << b.name << "\n  balance roundrobin\n";
    for (int s = 1; s <= b.slots; ++s) {
      const size_t i = static_cast<size_t>(s - 1);
      c << "  server s" << s << " ";
      if (withServers && i < b.servers.size())
        c << b.servers[i].ip << ":" << b.servers[i].port << " check inter 2s fall 2 rise 1\n";
      else
        c << "127.0.0.1:1 disabled check inter 2s fall 2 rise 1\n";
    }
    c << "\n";
  }
  if (o.statsPort > 0) {
    // Without a username the page is the loopback's only.
    c << "listen stats\n  bind " << (o.statsUser.empty() ? "127.0.0.1" : bind) << ":" << o.statsPort
      << "\n  stats enable\n  stats uri /stats\n  stats refresh 10s\n";
    if (!o.statsUser.empty()) c << "  stats auth " << o.statsUser << ":" << o.statsPassword << "\n";
    c << "\n";
  }
  return c.str();
}

std::string layout(const Model& model, const ConfigOptions& o) {
  return renderConfig(model, o, /*withServers=*/false);
}

std::map<std::string, int> initialAssignment(const Backend& b) {
  std::map<std::string, int> a;
  for (size_t i = 0; i < b.servers.size(); ++i)
    a[b.servers[i].ip + ":" + std::to_string(b.servers[i].port)] = static_cast<int>(i) + 1;
  return a;
}

std::vector<std::string> runtimeCommands(const Backend& to, std::map<std::string, int>& assign) {
  std::vector<std::string> out;
  std::set<std::string> want;
  for (const auto& s : to.servers) want.insert(s.ip + ":" + std::to_string(s.port));
  std::set<int> used;
  for (auto it = assign.begin(); it != assign.end();) {
    if (want.count(it->first)) {
      used.insert(it->second);
      ++it;
      continue;
    }
    out.push_back("set server " + to.name + "/s" + std::to_string(it->second) + " state maint");
    it = assign.erase(it);
  }
  int next = 1;
  for (const auto& s : to.servers) {
    const std::string key = s.ip + ":" + std::to_string(s.port);
    if (assign.count(key)) continue;
    while (used.count(next)) ++next;
    if (next > to.slots) break;  // the caller reloads when servers outgrow slots
    const std::string srv = to.name + "/s" + std::to_string(next);
    out.push_back("set server " + srv + " addr " + s.ip + " port " + std::to_string(s.port));
    out.push_back("set server " + srv + " state ready");
    out.push_back("set server " + srv + " health up");
    assign[key] = next;
    used.insert(next);
  }
  return out;
}

}  // namespace lb::ingress
