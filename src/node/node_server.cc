#include "node/node_server.h"

#include <nlohmann/json.hpp>

#include "http/server.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/runtime/cancel.h"
#include "lastbackend/types/codec.h"

namespace lb::node {

namespace {

using http::Request;
using http::Response;

// A pod (or container) this node does not have is a 404 before anything is
// streamed; an error once the stream runs (the 200 is out) ends it with an
// "error: ..." line, as the api's proxy does.
Response logs(Agent* agent, const Request& req) {
  const std::string pod = req.param("pod");
  auto id = agent->containerId(pod, req.queryParam("container").value_or(""));
  if (!id.isOk()) return Response::error(id.status().withContext("logs"));
  runtime::cri::LogOptions lo;
  lo.follow = req.queryParam("follow").value_or("") == "true" || req.queryParam("follow") == "1";
  if (auto t = req.queryParam("tail"); t && !t->empty()) {
    try {
      lo.tail = std::stoi(*t);
    } catch (...) {
      return Response::error(invalidArgument("tail: expected a number", "tail"));
    }
  }
  // The container may have gone since the listing.
  if (auto info = agent->cri().inspect(*id); !info.isOk())
    return Response::error(info.status().withContext("logs of pod '" + pod + "'"));
  std::string cid = *id;
  return Response::streaming([agent, cid, pod, lo](http::StreamWriter& w) {
    runtime::CancelToken cancel;
    // The writer has no callback for a client that leaves; a watchdog polls.
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
      while (!done && !w.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      cancel.cancel();
    });
    Status s = agent->cri().logs(
        cid, lo, [&](const runtime::cri::LogChunk& c) { return w.write(c.data); }, &cancel);
    if (!s.isOk() && !cancel.cancelled()) {
      spdlog::warn("node: logs of pod '{}': {}", pod, s.toString());
      w.write("error: " + s.message() + "\n");
    }
    done = true;
    watchdog.join();
  });
}

}  // namespace

StatusOr<std::unique_ptr<NodeServer>> NodeServer::create(http::ServerOptions so, Agent* agent) {
  so.ioThreads = 1;
  so.workerThreads = 2;
  auto s = http::Server::create(so);
  if (!s.isOk()) return s.status().withContext("node server");
  std::unique_ptr<NodeServer> out(new NodeServer());
  out->server_ = std::move(*s);
  auto& r = out->server_->router();
  // A route that does not register (a bad pattern) is a bug: start fails.
  LB_RETURN_IF_ERROR(r.get("/health",
                           [](const Request&) { return Response::json(200, R"({"status":"ok"})"); },
                           {.isPublic = true}));
  LB_RETURN_IF_ERROR(r.get("/pod", [agent](const Request&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : agent->podStatuses())
      list.push_back(nlohmann::json::parse(types::toJson(p)));
    return Response::json(200, list.dump());
  }));
  LB_RETURN_IF_ERROR(
      r.get("/pod/{pod}/logs", [agent](const Request& req) { return logs(agent, req); }));
  LB_RETURN_IF_ERROR(r.addWebSocket(
      "/pod/{pod}/exec",
      [agent](const Request& req, http::WebSocketConnection& ws) { execStream(agent, req, ws); }));
  return out;
}

NodeServer::~NodeServer() { stop(); }
Status NodeServer::start() { return server_->start(); }
void NodeServer::stop() {
  if (server_) server_->stop(std::chrono::seconds(2));
}
uint16_t NodeServer::port() const { return server_->port(); }

}  // namespace lb::node
