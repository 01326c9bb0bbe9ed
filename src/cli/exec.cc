// `lb service exec NS SVC [POD] [-c CONTAINER] [-i] [-t] -- CMD...`: a
// command in a pod of the service, through the api to the pod's node
// (lastbackend/http/exec.h). -i sends stdin; -t asks for a terminal, puts
// this one in raw mode while the command runs and passes its size (and
// every change of it). lb exits with the command's status.

#include "lastbackend/http/exec.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"

namespace lb::cli {

namespace exec = http::exec;

namespace {

std::atomic<bool> resized{false};
extern "C" void onWinch(int) { resized = true; }

// The terminal on fd 0 in raw mode for as long as this lives.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(0, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(0, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

std::string terminalSize() {
  winsize w{};
  if (::ioctl(0, TIOCGWINSZ, &w) != 0 || w.ws_row == 0) return "";
  return std::to_string(w.ws_row) + " " + std::to_string(w.ws_col);
}

// stdin (and, with a terminal, its size) to the stream until `done`, or
// the end of the input.
void pumpInput(client::WebSocket& ws, bool input, bool tty, const std::atomic<bool>& done) {
  char buf[4096];
  bool open = input;
  while (!done) {
    if (tty && resized.exchange(false)) {
      const std::string size = terminalSize();
      if (!size.empty()) ws.send(exec::frame(exec::Channel::kResize, size), true);
    }
    pollfd p{0, POLLIN, 0};
    if (!open || ::poll(&p, 1, 100) <= 0) {
      if (!open) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n <= 0) {
      open = false;
      ws.send(exec::frame(exec::Channel::kStdinEnd, ""), true);
      continue;
    }
    if (!ws.send(exec::frame(exec::Channel::kStdin, std::string_view(buf, size_t(n))), true))
      return;
  }
}

Status serviceExec(Context& c) {
  if (c.a.command.empty())
    return invalidArgument("no command: put it after `--` (lb service exec NS SVC -- CMD...)");
  LB_ASSIGN_OR_RETURN_STATUS(api, c.api());
  const bool tty = c.a.tty && ::isatty(0);
  nlohmann::json start{{"pod", c.a.pod},
                       {"container", c.a.container},
                       {"command", c.a.command},
                       {"tty", tty},
                       {"stdin", c.a.interactive}};
  if (tty) {
    int rows = 0, cols = 0;
    if (std::sscanf(terminalSize().c_str(), "%d %d", &rows, &cols) == 2) {
      start["rows"] = rows;
      start["cols"] = cols;
    }
  }
  LB_ASSIGN_OR_RETURN_STATUS(ws,
                             api->openWebSocket(objectPath(c.a.ns, "service", c.a.name) + "/exec"));
  if (!ws->send(start.dump(), false)) return unavailable("the exec stream closed at once");
  std::optional<RawTerminal> raw;
  if (tty) {
    raw.emplace();
    std::signal(SIGWINCH, onWinch);
  }
  std::atomic<bool> done{false};
  std::thread input([&] { pumpInput(*ws, c.a.interactive, tty, done); });
  Status result = unavailable("the exec stream ended before the command did");
  while (auto m = ws->receive()) {
    auto f = exec::parse(*m);
    if (!f) continue;
    auto [channel, payload] = *f;
    if (channel == exec::Channel::kStdout || channel == exec::Channel::kStderr) {
      std::ostream& to = channel == exec::Channel::kStdout ? c.out : c.err;
      to.write(payload.data(), static_cast<std::streamsize>(payload.size()));
      to.flush();
    } else if (channel == exec::Channel::kExit) {
      c.exitCode = std::atoi(std::string(payload).c_str());
      result = Status::ok();
      break;
    } else if (channel == exec::Channel::kError) {
      result = Status(Code::kUnavailable, std::string(payload));
      break;
    }
  }
  done = true;
  ws->close();
  input.join();
  return result;
}

}  // namespace

void addExecVerb(Commands& cmds, CLI::App* svc) {
  Context& c = cmds.c;
  Args& a = cmds.a;
  auto* v = cmds.objectVerb(svc, "exec",
                            "Run a command in a pod of the service: lb service exec NS SVC [POD] "
                            "[-c CONTAINER] [-i] [-t] -- CMD... (exits with its status)",
                            "Service", [&] { return serviceExec(c); });
  v->add_option("POD", a.pod, "Pod to run it in (default: the first ready one)");
  v->add_option("-c,--container", a.container, "Container (default: the pod's first)");
  v->add_flag("-i,--stdin", a.interactive, "Pass stdin to the command");
  v->add_flag("-t,--tty", a.tty, "Give the command a terminal (when stdin is one)");
}

}  // namespace lb::cli
