#pragma once

// The REST API (`lastbackend api`): the only writer of user intent. It
// validates requests, stores objects with compare-and-swap on their
// revision and streams store changes to watchers. See docs/api.md.
//
//   auto store = storage::open(cfg.storage);
//   auto api = Api::create(cfg, std::shared_ptr<storage::Storage>(std::move(*store)));
//   (*api)->start();  ... (*api)->port() ...  (*api)->stop();
//
// `lastbackend server` embeds an Api next to the controller and node, on a
// store they share.

#include <cstdint>
#include <memory>
#include <vector>

#include "http/router.h"
#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"
#include "lastbackend/config/config.h"
#include "lastbackend/storage/storage.h"

namespace lb::api {

struct ApiOptions {
  // Time source for created/updated timestamps and heartbeats.
  const Clock* clock = &realClock();
  int ioThreads = 2;
  int workerThreads = 8;
  // Drain time for in-flight requests in stop().
  std::chrono::milliseconds drain{10'000};
};

class Api {
 public:
  // kInvalidArgument when config.token is empty ("an access token is
  // required ..."), or the listener options are invalid (TLS files).
  static StatusOr<std::unique_ptr<Api>> create(const config::ApiConfig& config,
                                               std::shared_ptr<storage::Storage> store,
                                               ApiOptions options = {});
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Binds config.server.host:port (0 = a free port) and serves.
  // kUnavailable when the address cannot be bound.
  Status start();
  // Stops accepting, drains in-flight requests, closes event streams.
  // Idempotent; the destructor calls it.
  void stop();
  // The bound port, after start().
  uint16_t port() const;

  // The route table (method, pattern, public, websocket), for docs and the
  // OpenAPI coverage test.
  std::vector<http::RouteInfo> routes() const;

  class Impl;

 private:
  explicit Api(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `lastbackend api`: opens the store, serves until SIGTERM/SIGINT, stops
// gracefully. Exit codes: 0 clean stop, 1 runtime failure (store, bind),
// 2 configuration error (no token).
int run(const config::ApiConfig& config);

// `lastbackend server` (api, controller and node in one process) is
// lb::server::run in src/server/: lb_api may not link components built after it.

// The embedded OpenAPI document (docs/openapi.json).
const std::string& openApiJson();

}  // namespace lb::api
