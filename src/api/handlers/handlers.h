#pragma once

// Private to the REST API: each file in handlers/ registers the routes of
// one area. Handlers run on the HTTP server's worker threads and share only
// the Context (the store is thread-safe; the rest is read-only).

#include <functional>
#include <memory>
#include <string>

#include "api/context.h"
#include "http/metrics_registry.h"
#include "http/router.h"

namespace lb::api {

// Registers routes and remembers the first registration error (a duplicate
// or malformed pattern is a bug that Api::create reports).
class Routes {
 public:
  explicit Routes(http::Router& router) : router_(router) {}
  void get(const std::string& p, http::Handler h, bool isPublic = false) {
    keep(router_.get(p, std::move(h), {.isPublic = isPublic}));
  }
  void post(const std::string& p, http::Handler h) { keep(router_.post(p, std::move(h))); }
  void put(const std::string& p, http::Handler h) { keep(router_.put(p, std::move(h))); }
  void del(const std::string& p, http::Handler h) { keep(router_.del(p, std::move(h))); }
  void websocket(const std::string& p, http::WebSocketHandler h) {
    keep(router_.addWebSocket(p, std::move(h)));
  }
  const Status& status() const { return status_; }

 private:
  void keep(Status s) {
    if (status_.isOk() && !s.isOk()) status_ = std::move(s);
  }
  http::Router& router_;
  Status status_;
};

// GET /health, /openapi.json, /metrics, /cluster; WS /events.
void registerSystemRoutes(Routes& routes, const Context& ctx,
                          std::shared_ptr<http::MetricsRegistry> metrics);
// /namespace, /namespace/{namespace}
void registerNamespaceRoutes(Routes& routes, const Context& ctx);
// /namespace/{namespace}/apply
void registerApplyRoutes(Routes& routes, const Context& ctx);
// /namespace/{namespace}/{service|secret|config|route|volume}[/...]
void registerObjectRoutes(Routes& routes, const Context& ctx);
class NodeSpecWaiters;
// /cluster/node[/...]; the spec long-poll parks its requests in `waiters`.
void registerNodeRoutes(Routes& routes, const Context& ctx, NodeSpecWaiters& waiters);
// /discovery, /ingress, /exporter [/...]
void registerComponentRoutes(Routes& routes, const Context& ctx, NodeSpecWaiters& waiters);

// The OpenAPI document served at /openapi.json (docs/openapi.json, embedded
// at build time).
const std::string& openApiDocument();

}  // namespace lb::api
