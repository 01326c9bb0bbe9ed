#include "runtime/cri/docker/docker_exec.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "lastbackend/http/uri.h"
#include "runtime/docker/wire.h"

namespace lb::runtime::cri::docker {

namespace {

using json = nlohmann::json;
using runtime::docker::Client;
using runtime::docker::Method;
using runtime::docker::Request;
namespace wire = runtime::docker;

std::string execPath(const std::string& execId, const std::string& what) {
  return "/exec/" + http::percentEncode(execId) + "/" + what;
}

class DockerExecSession final : public ExecSession {
 public:
  DockerExecSession(std::shared_ptr<Client> client, std::string execId, std::string what, bool tty,
                    std::unique_ptr<wire::Hijacked> stream)
      : client_(std::move(client)),
        execId_(std::move(execId)),
        what_(std::move(what)),
        demux_(tty),
        stream_(std::move(stream)) {}
  ~DockerExecSession() override { stream_->close(); }

  StatusOr<std::optional<Output>> read() override {
    char buf[16384];
    while (pending_.empty()) {
      auto n = stream_->read(buf, sizeof buf);
      if (!n.isOk()) return n.status().withContext(what_);
      if (*n == 0) return std::optional<Output>();
      Status s = demux_.feed(std::string_view(buf, *n), [&](int stream, std::string_view data) {
        if (!pending_.empty() && pending_.back().stream == stream) {
          pending_.back().data.append(data);
        } else {
          pending_.push_back({stream == 2 ? 2 : 1, std::string(data)});
        }
        return true;
      });
      if (!s.isOk()) return s.withContext(what_);
    }
    Output out = std::move(pending_.front());
    pending_.erase(pending_.begin());
    return std::optional<Output>(std::move(out));
  }

  Status write(std::string_view input) override { return stream_->write(input); }
  void closeStdin() override { stream_->closeWrite(); }

  Status resize(int rows, int cols) override {
    if (rows <= 0 || cols <= 0 || rows > 10000 || cols > 10000)
      return invalidArgument("a terminal of " + std::to_string(rows) + "x" + std::to_string(cols) +
                             " is not one");
    Request r{Method::kPost, execPath(execId_, "resize") + "?h=" + std::to_string(rows) +
                                 "&w=" + std::to_string(cols)};
    return wire::callOk(*client_, r, what_ + ": resize").status();
  }

  // The daemon may record the exit code a moment after the output closed.
  StatusOr<int> exitCode() override {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      auto r = wire::callOk(*client_, {Method::kGet, execPath(execId_, "json")}, what_);
      if (!r.isOk()) return r.status();
      auto j = json::parse(r->body, nullptr, false);
      if (!j.is_object()) return internalError(what_ + ": the exec inspect is not JSON");
      if (!j.value("Running", false) && j.contains("ExitCode") && j["ExitCode"].is_number())
        return j["ExitCode"].get<int>();
      if (std::chrono::steady_clock::now() >= until)
        return Status(Code::kDeadlineExceeded, what_ + ": still running after its output ended");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string kill() override {
    std::string said = killExec(*client_, execId_);
    stream_->close();
    return said;
  }

 private:
  std::shared_ptr<Client> client_;
  const std::string execId_, what_;
  wire::LogDemuxer demux_;
  std::vector<Output> pending_;
  std::unique_ptr<wire::Hijacked> stream_;
};

}  // namespace

StatusOr<std::unique_ptr<ExecSession>> openExecSession(std::shared_ptr<Client> client,
                                                       const std::string& id,
                                                       const ExecSessionOptions& options) {
  const std::string what = "docker: exec in container '" + id + "'";
  if (options.command.empty()) return invalidArgument(what + ": no command", "command");
  Request create{Method::kPost, "/containers/" + http::percentEncode(id) + "/exec"};
  create.body = json{{"AttachStdin", options.input},
                     {"AttachStdout", true},
                     {"AttachStderr", true},
                     {"Tty", options.tty},
                     {"Cmd", options.command}}
                    .dump();
  auto created = wire::callOk(*client, create, what);
  if (!created) return created.status();
  auto cj = json::parse(created->body, nullptr, false);
  const std::string execId = cj.is_object() ? cj.value("Id", "") : "";
  if (execId.empty()) return internalError(what + ": no exec Id in the answer");
  Request start{Method::kPost, execPath(execId, "start")};
  start.body = json{{"Detach", false}, {"Tty", options.tty}}.dump();
  auto stream = client->hijack(start);
  if (!stream.isOk()) return stream.status().withContext(what);
  return std::unique_ptr<ExecSession>(std::make_unique<DockerExecSession>(
      std::move(client), execId, what, options.tty, std::move(*stream)));
}

std::string killExec(const Client& client, const std::string& execId) {
  // The deadline may have passed before dockerd started the process: give
  // it a second to show up (or to finish) before giving up on it.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  json j;
  while (true) {
    Request inspect{Method::kGet, execPath(execId, "json")};
    inspect.timeout = std::chrono::seconds(2);
    auto r = client.call(inspect);
    if (!r.isOk() || r->status != 200) return "";
    j = json::parse(r->body, nullptr, false);
    if (!j.is_object()) return "";
    if (j.value("Running", false) && j.value("Pid", 0L) > 1) break;
    if (j.contains("ExitCode") && j["ExitCode"].is_number()) return "";  // it finished
    if (std::chrono::steady_clock::now() >= until) return " (its process never started)";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const long pid = j.value("Pid", 0L);
  const std::string container = j.value("ContainerID", "");
  if (container.size() < 12) return "";
  std::ifstream cg("/proc/" + std::to_string(pid) + "/cgroup");
  std::string text((std::istreambuf_iterator<char>(cg)), std::istreambuf_iterator<char>());
  if (text.find(container) == std::string::npos)
    return " (left running: its pid " + std::to_string(pid) + " is not visible here)";
  if (::kill(static_cast<pid_t>(pid), SIGKILL) != 0)
    return " (could not be killed: " + std::string(std::strerror(errno)) + ")";
  return " (killed)";
}

}  // namespace lb::runtime::cri::docker
