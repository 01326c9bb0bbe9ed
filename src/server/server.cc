#include "server/server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "api/api.h"
#include "cli/cluster_store.h"
#include "controller/controller.h"
#include "discovery/discovery.h"
#include "ingress/ingress.h"
#include "lastbackend/common/file.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/config/run.h"
#include "node/node.h"

namespace lb::server {

namespace {

bool envFlag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0" && std::string(v) != "false";
}

// The token kept in <workdir>/token, made once.
StatusOr<std::string> persistentToken(const std::string& workdir) {
  std::string dir = workdir.empty() ? "/var/lib/lastbackend" : workdir;
  std::string path = dir + "/token";
  std::ifstream in(path);
  std::string token;
  if (in >> token && !token.empty()) return token;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::random_device rd;
  std::ostringstream hex;
  for (int i = 0; i < 24; ++i) hex << std::hex << ((rd() >> 4) & 0xf) << (rd() & 0xf);
  token = hex.str();
  if (Status s = writeFileAtomic(path, token + "\n", 0600); !s.isOk())
    return s.withContext("the token file");
  spdlog::info("server: no token configured; generated one in {}", path);
  return token;
}

// Cluster "local" in the lb config of $HOME, selected.
Status writeCliConfig(const std::string& endpoint, const std::string& token) {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return Status::ok();
  cli::ClusterStore store(home);
  auto cfg = store.load();
  if (!cfg.isOk()) return cfg.status().withContext("lb config '" + store.path() + "'");
  cli::ClusterEntry entry{"local", endpoint, token, "", "", ""};
  bool found = false;
  for (auto& c : cfg->clusters)
    if (c.name == "local") {
      c = entry;
      found = true;
    }
  if (!found) cfg->clusters.push_back(entry);
  cfg->current = "local";
  LB_RETURN_IF_ERROR(store.save(*cfg));
  spdlog::info("server: lb is configured (cluster 'local' in {})", store.path());
  return Status::ok();
}

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

// Routes without a domain of their own: <route>.<namespace>.<this>. The
// one-machine cluster defaults to "lb.localhost" (names under .localhost
// are the loopback's, RFC 6761), so a route answers on this host at once.
std::string domainExternal(const config::ServerConfig& c) {
  return c.api.domainExternal.empty() ? "lb.localhost" : c.api.domainExternal;
}

}  // namespace

int run(const config::ServerConfig& in) {
  config::blockShutdownSignals();
  config::ServerConfig config = in;
  config.api.domainExternal = domainExternal(config);
  if (config.api.token.empty()) {
    auto t = persistentToken(config.node.workdir);
    if (!t.isOk()) {
      spdlog::error("lastbackend server: {}", t.status().toString());
      return 1;
    }
    config.api.token = *t;
  }
  auto opened = storage::open(config.api.storage);
  if (!opened.isOk()) {
    spdlog::error("lastbackend server: cannot open the {} store: {}", config.api.storage.driver,
                  opened.status().toString());
    return 1;
  }
  std::shared_ptr<storage::Storage> store(std::move(*opened));
  auto api = api::Api::create(config.api, store);
  if (!api.isOk()) {
    spdlog::error("lastbackend server: {}", api.status().toString());
    return api.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  if (Status s = (*api)->start(); !s.isOk()) {
    spdlog::error("lastbackend server: {}", s.toString());
    return 1;
  }
  controller::Options co = controller::optionsFrom(config.controller);
  auto ctl = controller::Controller::create(store, co);
  if (!ctl.isOk()) {
    spdlog::error("lastbackend server: controller: {}", ctl.status().toString());
    (*api)->stop();
    return 2;
  }
  (*ctl)->start();

  const bool tls = config.api.server.tls.enabled();
  std::string host = config.api.server.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  const std::string endpoint =
      std::string(tls ? "https://" : "http://") + host + ":" + std::to_string((*api)->port());
  // As soon as the API answers, so `lb` works from the first moment.
  if (!envFlag("LB_SERVER_NO_CLI_CONFIG")) {
    if (Status s = writeCliConfig(endpoint, config.api.token); !s.isOk())
      spdlog::warn("lastbackend server: {}", s.toString());
  }
  // Discovery before the node, so the node's first pods get it as resolver.
  std::unique_ptr<discovery::DiscoveryProcess> dns;
  if (config.discovery.dns.port != 0) {
    config::DiscoveryConfig dc = config.discovery;
    dc.token = config.api.token;
    dc.api.uri = endpoint;
    auto d = discovery::DiscoveryProcess::start(dc, store);
    if (d.isOk()) {
      dns = std::move(*d);
    } else {
      spdlog::error("lastbackend server: discovery: {} (pods get no cluster DNS; set "
                    "--dns-bind-port 0 to run without it)",
                    d.status().message());
    }
  }
  // The ingress when HAProxy is installed: routes answer on this host.
  std::unique_ptr<ingress::IngressProcess> edge;
  if (!envFlag("LB_SERVER_NO_INGRESS") && ::access(kHaproxy, X_OK) == 0) {
    config::IngressConfig ic;
    ic.token = config.api.token;
    ic.api.uri = endpoint;
    ic.api.tls.ca = config.api.server.tls.ca;
    const std::string dir =
        (config.node.workdir.empty() ? std::string("/var/lib/lastbackend") : config.node.workdir) +
        "/ingress/haproxy";
    ic.haproxy = {dir + "/haproxy.cfg", dir + "/haproxy.pid", kHaproxy, 0, "", ""};
    ingress::IngressOptions io;
    io.name = "local";
    io.fallbackDomain = domainExternal(config);
    auto e = ingress::IngressProcess::start(ic, io);
    if (e.isOk())
      edge = std::move(*e);
    else
      spdlog::error("lastbackend server: ingress: {}", e.status().message());
  } else if (!envFlag("LB_SERVER_NO_INGRESS")) {
    spdlog::warn("lastbackend server: no HAProxy at {}: routes are not served (apt-get install "
                 "haproxy)",
                 kHaproxy);
  }
  config::NodeConfig nc = config.node;
  nc.token = config.api.token;
  nc.api.uri = endpoint;
  std::unique_ptr<node::NodeProcess> nodeProcess;
  if (!envFlag("LB_SERVER_NO_NODE")) {
    auto n = node::NodeProcess::start(nc);
    if (!n.isOk()) {
      const bool runtime = n.status().message().find("container runtime") != std::string::npos;
      spdlog::error("lastbackend server: {} ({}set LB_SERVER_NO_NODE=1 to run without a node)",
                    n.status().toString(),
                    runtime ? "is dockerd running? start it with 'systemctl start docker', or " : "");
      (*ctl)->stop(true);
      (*api)->stop();
      return 1;
    }
    nodeProcess = std::move(*n);
  } else {
    spdlog::warn("lastbackend server: LB_SERVER_NO_NODE set: no node agent, pods stay unscheduled");
  }
  spdlog::info(
      "lastbackend server: api {} , controller, node {}, discovery {}, ingress {} running",
      endpoint, nodeProcess ? nodeProcess->name() : "(none)",
      dns ? std::to_string(dns->port()) : "(none)", edge ? edge->name() : "(none)");
  int sig = config::waitForShutdownSignal();
  spdlog::info("lastbackend server: stopping (signal {})", sig);
  // The API first: that ends the node's spec long-poll at once (a stream the
  // server cancels), so the agent does not wait out the poll to stop.
  (*api)->stop();
  if (nodeProcess) nodeProcess->stop();
  if (dns) dns->stop();
  if (edge) edge->stop();
  (*ctl)->stop(true);
  return 0;
}

}  // namespace lb::server
