// WebSocket /namespace/{ns}/service/{svc}/exec: `lb service exec` through
// the api to the agent of the pod's node (lastbackend/http/exec.h). The
// start names the pod (else the first ready one); the api checks it belongs
// to the service, opens the agent's /pod/{pod}/exec with the caller's token,
// forwards the start and relays every frame both ways until either end
// closes.

#include "lastbackend/http/exec.h"

#include <nlohmann/json.hpp>
#include <thread>

#include "api/handlers/handlers.h"
#include "api/handlers/node_agent.h"
#include "client/websocket.h"
#include "lastbackend/common/logging.h"
#include "lastbackend/storage/keys.h"
#include "lastbackend/types/pod.h"

namespace lb::api {

namespace exec = http::exec;
namespace keys = storage::keys;

namespace {

void fail(http::WebSocketConnection& ws, const std::string& why) {
  ws.sendBinary(exec::frame(exec::Channel::kError, why));
}

// The pod named (by name), else the first ready one: its selflink and node.
StatusOr<types::Pod> pickPod(const Context& ctx, const std::string& ns, const std::string& svc,
                             const std::string& name) {
  auto prefix = keys::podsOfServicePrefix(ns, svc);
  if (!prefix.isOk()) return prefix.status();
  auto pods = listObjects<types::Pod>(*ctx.store, *prefix);
  if (!pods.isOk()) return pods.status();
  for (const auto& p : *pods) {
    if (p.status.node.empty()) continue;
    if (name.empty() ? p.status.ready : p.meta.name == name) return p;
  }
  if (!name.empty())
    return notFound("pod '" + name + "' of service '" + svc + "' not found on any node");
  return unavailable("service '" + svc + "' has no ready pod to exec in");
}

}  // namespace

void serviceExec(const Context& ctx, const http::Request& req, http::WebSocketConnection& ws) {
  ws.keepMessages();
  const std::string ns = req.param("namespace"), svc = req.param("service");
  auto first = ws.receive();
  if (!first) return;
  auto start = nlohmann::json::parse(*first, nullptr, false);
  if (!start.is_object() || !start.value("command", nlohmann::json()).is_array() ||
      start["command"].empty())
    return fail(ws, "the first message must be the start: {\"command\": [...], ...}");
  const nlohmann::json podName = start.value("pod", nlohmann::json(""));
  if (!podName.is_string()) return fail(ws, "pod: expected a name");
  auto pod = pickPod(ctx, ns, svc, podName.get<std::string>());
  if (!pod.isOk()) return fail(ws, pod.status().message());
  auto endpoint = agentEndpoint(ctx, pod->status.node);
  if (!endpoint) return fail(ws, "node '" + pod->status.node + "' has no address to reach it at");
  client::ClientOptions o;
  o.endpoint = *endpoint;
  if (auto a = req.header("Authorization"); a && a->rfind("Bearer ", 0) == 0)
    o.token = a->substr(7);
  auto agent =
      client::WebSocket::open(o, "/pod/" + http::percentEncode(pod->meta.selflink) + "/exec");
  if (!agent.isOk())
    return fail(ws, "node '" + pod->status.node + "': " + agent.status().message());
  if (!(*agent)->send(*first, false)) return fail(ws, "node '" + pod->status.node + "' went away");
  spdlog::info("api: exec in pod '{}' on node '{}'", pod->meta.selflink, pod->status.node);
  client::WebSocket& to = **agent;
  std::thread back([&] {
    while (auto m = to.receive())
      if (!ws.sendBinary(*m)) break;
    ws.close();
  });
  while (auto m = ws.receive())
    if (!to.send(*m, true)) break;
  to.close();  // the client went (or the agent did): the agent ends the process
  back.join();
}

}  // namespace lb::api
