// The node agent's end of an exec stream (include/lastbackend/http/exec.h):
// the command runs in the pod's container with its streams attached; the
// process is killed when the client goes first, so none is left behind.

#include <nlohmann/json.hpp>
#include <thread>

#include "lastbackend/common/logging.h"
#include "lastbackend/http/exec.h"
#include "lastbackend/http/message.h"
#include "node/node_server.h"

namespace lb::node {

namespace exec = http::exec;

namespace {

void fail(http::WebSocketConnection& ws, const std::string& why) {
  ws.sendBinary(exec::frame(exec::Channel::kError, why));
}

// "ROWS COLS" -> a resize of the session; anything else is ignored.
void resize(runtime::cri::ExecSession& s, std::string_view payload) {
  int rows = 0, cols = 0;
  if (std::sscanf(std::string(payload).c_str(), "%d %d", &rows, &cols) == 2)
    (void)s.resize(rows, cols);
}

}  // namespace

void execStream(Agent* agent, const http::Request& req, http::WebSocketConnection& ws) {
  ws.keepMessages();
  const std::string pod = req.param("pod");
  auto first = ws.receive();
  if (!first) return;
  auto start = nlohmann::json::parse(*first, nullptr, false);
  if (!start.is_object() || !start.value("command", nlohmann::json()).is_array())
    return fail(ws, "the first message must be the start: {\"command\": [...], ...}");
  runtime::cri::ExecSessionOptions o;
  std::string container;
  int rows = 0, cols = 0;
  try {  // a field of the wrong type is the client's error, named
    o.command = start["command"].get<std::vector<std::string>>();
    o.tty = start.value("tty", false);
    o.input = start.value("stdin", false);
    container = start.value("container", "");
    rows = start.value("rows", 0);
    cols = start.value("cols", 0);
  } catch (const nlohmann::json::exception& e) {
    return fail(ws, std::string("the start: ") + e.what());
  }
  if (o.command.empty()) return fail(ws, "command: empty");
  auto id = agent->containerId(pod, container);
  if (!id.isOk()) return fail(ws, id.status().message());
  auto session = agent->cri().openExec(*id, o);
  if (!session.isOk()) return fail(ws, session.status().message());
  runtime::cri::ExecSession& s = **session;
  if (o.tty && rows > 0) (void)s.resize(rows, cols);
  spdlog::info("node: exec in pod '{}': {}", pod, o.command.front());

  std::atomic<bool> ended{false};
  std::thread output([&] {
    while (true) {
      auto out = s.read();
      if (!out.isOk() || !*out) break;
      auto ch = (*out)->stream == 2 ? exec::Channel::kStderr : exec::Channel::kStdout;
      if (!ws.sendBinary(exec::frame(ch, (*out)->data))) break;
    }
    auto code = s.exitCode();
    ended = code.isOk();
    ws.sendBinary(code.isOk() ? exec::frame(exec::Channel::kExit, std::to_string(*code))
                              : exec::frame(exec::Channel::kError, code.status().message()));
    ws.close();
  });
  while (auto m = ws.receive()) {
    auto f = exec::parse(*m);
    if (!f) continue;
    if (f->first == exec::Channel::kStdin) {
      (void)s.write(f->second);
    } else if (f->first == exec::Channel::kStdinEnd) {
      s.closeStdin();
    } else if (f->first == exec::Channel::kResize) {
      resize(s, f->second);
    }
  }
  // The client went first: its process goes with it.
  if (!ended) spdlog::info("node: exec in pod '{}': client gone, process{}", pod, s.kill());
  output.join();
}

}  // namespace lb::node
