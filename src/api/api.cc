#include "api/api.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "api/context.h"
#include "api/handlers/handlers.h"
#include "api/handlers/node_agent.h"
#include "http/listen_options.h"
#include "http/server.h"
#include "api/instrumented_storage.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/config/run.h"

namespace lb::api {

class Api::Impl {
 public:
  std::shared_ptr<http::MetricsRegistry> metrics = std::make_shared<http::MetricsRegistry>();
  std::unique_ptr<InstrumentedStorage> store;
  Context ctx;
  // Before the server: destroyed after it (its routes point here).
  std::unique_ptr<NodeSpecWaiters> specWaiters;
  std::unique_ptr<http::Server> server;
  ApiOptions options;
  std::string address;
};

namespace {

constexpr char kNoTokenMessage[] =
    "an access token is required: set --access-token, LB_ACCESS_TOKEN or `token:` in the "
    "config file";

// Every waiting node holds a socket (the spec long-poll): allow as many open
// files as the hard limit permits (capped), not the usual soft 1 024.
void raiseOpenFileLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t want = std::min<rlim_t>(rl.rlim_max, 65536);
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) spdlog::warn("api: cannot raise the open file limit");
}

}  // namespace

StatusOr<std::unique_ptr<Api>> Api::create(const config::ApiConfig& config,
                                           std::shared_ptr<storage::Storage> store,
                                           ApiOptions options) {
  if (config.token.empty()) return invalidArgument(kNoTokenMessage);
  if (!store) return invalidArgument("the REST API needs a storage");
  auto listen = http::listenOptions(config.server, config.token);
  if (!listen.isOk()) return listen.status();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->store = std::make_unique<InstrumentedStorage>(std::move(store), *impl->metrics);
  impl->metrics->describeCounter(kStoreOpsMetric, "Store operations by operation and result.");
  impl->metrics->describeHistogram(kStoreLatencyMetric, "Store operation latency in seconds.",
                                   http::MetricsRegistry::defaultLatencyBuckets());
  impl->ctx.store = impl->store.get();
  impl->ctx.clock = options.clock;
  impl->ctx.cluster = {config.name, config.description, config.domainInternal,
                       config.domainExternal};

  http::ServerOptions so = std::move(*listen);
  so.ioThreads = options.ioThreads;
  so.workerThreads = options.workerThreads;
  so.metrics = impl->metrics;
  impl->address = so.address;
  auto server = http::Server::create(std::move(so));
  if (!server.isOk()) return server.status().withContext("REST API");
  impl->server = std::move(*server);

  Routes routes(impl->server->router());
  registerSystemRoutes(routes, impl->ctx, impl->metrics);
  registerNamespaceRoutes(routes, impl->ctx);
  registerApplyRoutes(routes, impl->ctx);
  registerObjectRoutes(routes, impl->ctx);
  impl->specWaiters = std::make_unique<NodeSpecWaiters>(impl->ctx.store);
  registerNodeRoutes(routes, impl->ctx, *impl->specWaiters);
  registerComponentRoutes(routes, impl->ctx, *impl->specWaiters);
  if (!routes.status().isOk()) return routes.status().withContext("REST API routes");
  return std::unique_ptr<Api>(new Api(std::move(impl)));
}

Api::Api(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Api::~Api() { stop(); }

Status Api::start() {
  Status s = impl_->server->start();
  if (!s.isOk()) return s.withContext("REST API");
  spdlog::info("REST API listening on {}:{}{}", impl_->address, impl_->server->port(),
               impl_->server->tls() ? " (TLS)" : "");
  return Status::ok();
}

void Api::stop() {
  if (impl_ && impl_->server) impl_->server->stop(impl_->options.drain);
  if (impl_ && impl_->specWaiters) impl_->specWaiters->stop();
}

uint16_t Api::port() const { return impl_->server->port(); }

std::vector<http::RouteInfo> Api::routes() const { return impl_->server->router().routes(); }

const std::string& openApiJson() { return openApiDocument(); }

int run(const config::ApiConfig& config) {
  if (config.token.empty()) {
    std::fprintf(stderr, "lastbackend api: %s\n", kNoTokenMessage);
    return 2;
  }
  config::blockShutdownSignals();
  raiseOpenFileLimit();
  auto store = storage::open(config.storage);
  if (!store.isOk()) {
    std::fprintf(stderr, "lastbackend api: cannot open the %s store: %s\n",
                 config.storage.driver.c_str(), store.status().toString().c_str());
    return 1;
  }
  auto api = Api::create(config, std::shared_ptr<storage::Storage>(std::move(*store)));
  if (!api.isOk()) {
    std::fprintf(stderr, "lastbackend api: %s\n", api.status().toString().c_str());
    return api.status().code() == Code::kInvalidArgument ? 2 : 1;
  }
  if (Status s = (*api)->start(); !s.isOk()) {
    std::fprintf(stderr, "lastbackend api: %s\n", s.toString().c_str());
    return 1;
  }
  int sig = config::waitForShutdownSignal();
  spdlog::info("REST API stopping (signal {})", sig);
  (*api)->stop();
  return 0;
}

}  // namespace lb::api
