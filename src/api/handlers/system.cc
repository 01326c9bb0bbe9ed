// /health, /openapi.json, /metrics, /cluster and the /events WebSocket.

#include <charconv>
#include <nlohmann/json.hpp>

#include "api/handlers/handlers.h"
#include "api/kinds.h"
#include "api/registered.h"
#include "lastbackend/common/logging.h"

namespace lb::api {

namespace {

using http::Request;
using http::Response;

Response cluster(const Context& ctx) {
  auto nodes = listRegistered<types::Node>(ctx, keys::nodesPrefix());
  if (!nodes.isOk()) return Response::error(nodes.status());
  types::Cluster c;
  c.meta.name = ctx.cluster.name;
  c.meta.description = ctx.cluster.description;
  c.meta.selflink = ctx.cluster.name;
  auto add = [](types::NodeResources& sum, const types::NodeResources& r) {
    sum.cpu += r.cpu;
    sum.ram += r.ram;
    sum.storage += r.storage;
    sum.pods += r.pods;
  };
  for (const auto& n : *nodes) {
    ++c.status.nodes;
    add(c.status.capacity, n.status.capacity);
    add(c.status.allocated, n.status.allocated);
  }
  return jsonObject(200, c);
}

// The kind of object a key holds: its collection, or "node" for
// /cluster/node/..., "cluster" for /cluster/info.
std::string kindOfKey(std::string_view key) {
  auto part = [&](size_t i) -> std::string_view {
    size_t start = 1;
    for (size_t n = 0; n < i; ++n) {
      size_t slash = key.find('/', start);
      if (slash == std::string_view::npos) return {};
      start = slash + 1;
    }
    return key.substr(start, key.find('/', start) - start);
  };
  std::string_view first = part(0);
  if (first == "cluster") return part(1) == "node" ? "node" : "cluster";
  return std::string(first);
}

// One frame per storage event. The object's meta.revision is the event's,
// as a GET right after would show.
std::string eventFrame(const storage::Event& ev) {
  nlohmann::json frame = {{"type", ev.type == storage::Event::Type::kPut ? "put" : "delete"},
                          {"kind", kindOfKey(ev.key)},
                          {"key", ev.key},
                          {"revision", ev.revision}};
  if (ev.type == storage::Event::Type::kPut) {
    auto obj = nlohmann::json::parse(ev.value, nullptr, /*allow_exceptions=*/false);
    if (obj.is_discarded()) obj = nullptr;
    if (obj.is_object() && obj.contains("meta") && obj["meta"].is_object())
      obj["meta"]["revision"] = ev.revision;
    frame["object"] = std::move(obj);
  } else {
    frame["object"] = nullptr;
  }
  return frame.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string errorFrame(const Status& s) {
  return nlohmann::json{{"type", "error"}, {"status", codeName(s.code())}, {"message", s.message()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Streams every change in the store from now (or after ?revision=N) until
// the client goes away or the server stops. A watcher that fell out of the
// store's history gets an error frame (OutOfRange) and must re-list.
void events(const Context& ctx, const Request& req, http::WebSocketConnection& ws) {
  int64_t after = 0;
  if (auto r = req.queryParam("revision")) {
    auto [end, ec] = std::from_chars(r->data(), r->data() + r->size(), after);
    if (ec != std::errc() || end != r->data() + r->size() || after < 0) {
      ws.sendText(
          errorFrame(invalidArgument("revision must be a non-negative integer", "revision")));
      return;
    }
  } else {
    auto info = ctx.store->info();
    if (!info.isOk()) {
      ws.sendText(errorFrame(info.status()));
      return;
    }
    after = info->revision;
  }
  // The watch starts before the upgrade is answered: a change made once the
  // client's handshake returned is always in the stream.
  auto stream = ctx.store->watch("/", after);
  if (!stream.isOk()) {
    ws.sendText(errorFrame(stream.status()));
    return;
  }
  if (!ws.accept()) return;
  while (ws.isOpen()) {
    auto batch = (*stream)->next(std::chrono::milliseconds(250));
    if (!batch.isOk()) {
      ws.sendText(errorFrame(batch.status()));
      return;
    }
    for (const auto& ev : *batch)
      if (!ws.sendText(eventFrame(ev))) return;
  }
}

}  // namespace

void registerSystemRoutes(Routes& routes, const Context& ctx,
                          std::shared_ptr<http::MetricsRegistry> metrics) {
  const Context* c = &ctx;
  routes.get(
      "/health", [](const Request&) { return Response::json(200, R"({"status":"ok"})"); },
      /*isPublic=*/true);
  routes.get("/openapi.json",
             [](const Request&) { return Response::json(200, openApiDocument()); });
  routes.get("/metrics", [metrics](const Request&) {
    Response r = Response::text(200, metrics->render());
    r.contentType = http::kMetricsContentType;
    return r;
  });
  routes.get("/cluster", [c](const Request&) { return cluster(*c); });
  routes.websocket("/events",
                   [c](const Request& r, http::WebSocketConnection& ws) { events(*c, r, ws); });
}

}  // namespace lb::api
