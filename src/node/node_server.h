#pragma once

// The node's own HTTP server (--bind-port 2965), on the engine of the REST
// API (lb_http): the api proxies `lb service logs` here.
//
//   GET /health                                   (public)
//   GET /pod                                      pod statuses (JSON list)
//   GET /pod/{pod}/logs?container=&follow=&tail=  container output, chunked text
//   WebSocket /pod/{pod}/exec                     a command, streams attached
//                                                 (lastbackend/http/exec.h)
//
// Token: the cluster token, as for the api.

#include <cstdint>
#include <memory>
#include <string>

#include "lastbackend/common/status.h"
#include "node/agent.h"

namespace lb::http {
class Server;
struct Request;
class WebSocketConnection;
struct ServerOptions;
}  // namespace lb::http

namespace lb::node {

// WebSocket /pod/{pod}/exec: a command in one of the pod's containers
// with its streams attached (exec_server.cc).
void execStream(Agent* agent, const http::Request& req, http::WebSocketConnection& ws);

class NodeServer {
 public:
  // `options` from http::listenOptions (address, port, token, TLS); the
  // thread counts are the node's own.
  static StatusOr<std::unique_ptr<NodeServer>> create(http::ServerOptions options, Agent* agent);
  ~NodeServer();
  Status start();
  void stop();
  uint16_t port() const;

 private:
  NodeServer() = default;
  std::unique_ptr<http::Server> server_;
};

}  // namespace lb::node
