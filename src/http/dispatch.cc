// Dispatch: from a request head to a route (or an immediate answer), the
// handler call, and the request metrics.

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http/server_impl.h"
#include "lastbackend/http/uri.h"

namespace lb::http {

std::string_view methodLabel(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
  for (auto known : kKnown)
    if (method == known) return known;
  return "other";
}

Dispatch Server::Impl::route(const bhttp::request<bhttp::string_body>& head, std::string remote,
                             bool upgrade) const {
  Dispatch d;
  Request& r = d.request;
  r.method = std::string(head.method_string());
  r.target = std::string(head.target());
  auto target = splitTarget(r.target);
  r.path = std::move(target.path);
  r.remoteAddress = std::move(remote);
  for (const auto& f : head) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  auto query = parseQuery(target.query);
  if (!query.isOk()) {
    d.immediate = Response::error(query.status());
    return d;
  }
  r.query = std::move(*query);

  RouteMatch m = router_.match(r.method, r.path);
  if (m.kind == RouteMatch::Kind::kBadPath) {
    d.immediate = Response::error(m.error.withContext("bad request path"));
    return d;
  }
  // Authentication comes before 404/405 so that route existence is not
  // disclosed to anonymous clients; only public paths skip it.
  if (!m.pathIsPublic) {
    Status s = auth_->check(r.headers, r.query);
    if (!s.isOk()) {
      d.immediate = Response::error(s);
      d.immediate->headers.emplace_back("WWW-Authenticate", "Bearer");
      return d;
    }
  }
  if (r.query.erase(std::string(kTokenQueryParam)) > 0) {
    // Handlers may log the target; it must not carry the token.
    r.target = r.query.empty() ? r.path : r.path + "?" + buildQuery(r.query);
  }
  if (m.kind == RouteMatch::Kind::kNotFound) {
    d.immediate = Response::error(notFound("no such API path"));
    return d;
  }
  if (m.kind == RouteMatch::Kind::kMethodNotAllowed) {
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    d.immediate = protocolError(ProtocolError::kMethodNotAllowed,
                                "method " + r.method + " not allowed; allowed: " + allow);
    d.immediate->headers.emplace_back("Allow", allow);
    return d;
  }
  d.route = m.route;
  r.params = std::move(m.params);
  r.route = m.route->info.pattern;
  if (m.route->info.websocket && !upgrade) {
    d.immediate = Response::error(invalidArgument("this endpoint requires a WebSocket upgrade"));
  }
  return d;
}

Response Server::Impl::invoke(const Route& route, const Request& request) const {
  // A throwing handler is a bug, but one request must not take the server down.
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("handler {} {} threw: {}", request.method, route.info.pattern, e.what());
  } catch (...) {
    spdlog::error("handler {} {} threw a non-exception", request.method, route.info.pattern);
  }
  return Response::error(internalError("internal server error"));
}

void Server::Impl::record(std::string_view method, const std::string& route, int status,
                          SteadyClock::time_point start) const {
  if (!metrics_) return;
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::string label(methodLabel(method));
  metrics_->incrementCounter(kRequestsMetric, {{"code", std::to_string(status)}, {"method", label}, {"route", route}});
  metrics_->observeHistogram(kLatencyMetric, {{"method", label}, {"route", route}}, secs);
}

}  // namespace lb::http
