#pragma once

// An in-memory ContainerRuntime for the node agent's tests. Containers move
// through created -> running -> exited as the real runtime's do; the test
// drives what processes would do: exit(id, code) ends a container (waking
// wait(), ending followed logs, emitting "die"), writeLog() appends output.
// A restart policy of "always" (or "on-failure" with a non-zero code) brings
// the container back at once with restartCount + 1, like dockerd.
// Create checks the image against an optional FakeImageRuntime. Networks
// (ensureNetwork) hand out their subnet's addresses from .1 up (not the
// gateway), the lowest free one at start (a missing network fails the
// start, as with dockerd), freed when the container stops. Errors can be
// injected per method ("create", "start", "stop", "remove", "inspect",
// "list", "wait", "logs", "events", "exec", "ensureNetwork", "removeNetwork"). What an exec does is
// the test's: setExecHandler() (default: exit code 0). Time comes from an injected Clock.
// Thread-safe; blocking calls wake on cancel.

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "fakes/runtime/error_injector.h"
#include "fakes/runtime/fake_cii.h"
#include "lastbackend/common/clock.h"
#include "lastbackend/runtime/cri.h"

namespace lb::fakes {

class FakeContainerRuntime : public runtime::cri::ContainerRuntime {
 public:
  using ContainerInfo = runtime::cri::ContainerInfo;
  using ContainerSpec = runtime::cri::ContainerSpec;

  explicit FakeContainerRuntime(Clock& clock = realClock(), FakeImageRuntime* images = nullptr)
      : clock_(clock), images_(images) {}

  ErrorInjector& errors() { return errors_; }

  // --- what processes do -------------------------------------------------
  // The container's process exits with `code`.
  void exit(const std::string& id, int code) {
    std::lock_guard lock(mu_);
    auto* c = find(id);
    if (!c || c->info.state != runtime::cri::kStateRunning) return;
    c->info.exitCode = code;
    c->info.finishedAt = now();
    emit(*c, "die", code);
    const auto& policy = c->spec.restart.policy;
    bool restart =
        policy == "always" || policy == "unless-stopped" ||
        (policy == "on-failure" && code != 0 &&
         (c->spec.restart.maxRetries == 0 || c->info.restartCount < c->spec.restart.maxRetries));
    if (restart) {
      ++c->info.restartCount;
      c->info.startedAt = now();
      emit(*c, "start", std::nullopt);
    } else {
      c->info.state = runtime::cri::kStateExited;
      release(*c);
    }
    cv_.notify_all();
  }
  // Kept one record per line, as dockerd's log drivers keep them, so that
  // LogOptions::tail counts lines (not writes) on the fake too.
  void writeLog(const std::string& id, runtime::cri::LogStream stream, const std::string& data) {
    std::lock_guard lock(mu_);
    if (auto* c = find(id)) {
      for (size_t at = 0; at < data.size();) {
        size_t end = data.find('\n', at);
        end = end == std::string::npos ? data.size() : end + 1;
        c->log.push_back({stream, data.substr(at, end - at)});
        at = end;
      }
    }
    cv_.notify_all();
  }
  // What a container's process does once start() starts it: called with the
  // container's id and spec, without the fake's lock, so it may writeLog()
  // and exit(). Not called for restarts by policy. Default: nothing, the
  // process runs until stopped or exit() is called.
  using StartHandler = std::function<void(const std::string& id, const ContainerSpec& spec)>;
  void setStartHandler(StartHandler handler) {
    std::lock_guard lock(mu_);
    startHandler_ = std::move(handler);
  }
  // What a command run by exec() does: its result for (container id,
  // argv). Called without the fake's lock held, so it may call the fake.
  using ExecHandler = std::function<StatusOr<runtime::cri::ExecResult>(
      const std::string& id, const std::vector<std::string>& command)>;
  void setExecHandler(ExecHandler handler) {
    std::lock_guard lock(mu_);
    execHandler_ = std::move(handler);
  }
  // Commands exec() ran, in order.
  std::vector<std::vector<std::string>> execs() const {
    std::lock_guard lock(mu_);
    return execs_;
  }
  std::vector<ContainerSpec> specs() const {
    std::lock_guard lock(mu_);
    std::vector<ContainerSpec> out;
    for (const auto& [id, c] : containers_) out.push_back(c.spec);
    return out;
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return containers_.size();
  }

  // --- ContainerRuntime --------------------------------------------------
  StatusOr<runtime::cri::RuntimeInfo> info() override {
    return runtime::cri::RuntimeInfo{"fake", "0", "1.41", "linux", "amd64"};
  }

  StatusOr<std::string> create(const ContainerSpec& spec) override {
    const std::string what =
        "fake: create container '" + (spec.name.empty() ? spec.image : spec.name) + "'";
    LB_RETURN_IF_ERROR(errors_.check("create").withContext(what));
    if (spec.image.empty()) return invalidArgument(what + ": no image");
    if (images_ && !images_->has(spec.image)) {
      return notFound(what + ": 404 No such image: " + spec.image);
    }
    std::lock_guard lock(mu_);
    if (!spec.name.empty()) {
      for (const auto& [id, c] : containers_) {
        if (c.info.name == spec.name) {
          return alreadyExists(what + ": 409 name \"/" + spec.name + "\" is already in use");
        }
      }
    }
    if (spec.networkMode.starts_with("container:") && !find(spec.networkMode.substr(10))) {
      return notFound(what + ": 404 No such container: " + spec.networkMode.substr(10));
    }
    if (!spec.network.empty() && !spec.networkMode.empty())
      return invalidArgument(what + ": a network and a network mode cannot both be set", "network");
    Container c;
    c.spec = spec;
    c.info.id = "fake" + std::to_string(++seq_);
    c.info.name = spec.name.empty() ? "fake_" + std::to_string(seq_) : spec.name;
    c.info.image = spec.image;
    c.info.state = runtime::cri::kStateCreated;
    c.info.createdAt = now();
    c.info.labels = spec.labels;
    c.info.networkMode = !spec.network.empty()      ? spec.network
                         : spec.networkMode.empty() ? "default"
                                                    : spec.networkMode;
    c.info.memoryBytes = spec.memoryBytes;
    c.info.milliCpu = spec.milliCpu;
    c.info.restart = spec.restart;
    c.info.privileged = spec.privileged;
    c.info.mounts = spec.mounts;
    std::string id = c.info.id;
    containers_[id] = std::move(c);
    emit(containers_[id], "create", std::nullopt);
    return id;
  }

  Status start(const std::string& id) override {
    const std::string what = "fake: start container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("start").withContext(what));
    StartHandler handler;
    std::string fullId;
    ContainerSpec spec;
    {
      std::lock_guard lock(mu_);
      auto* c = find(id);
      if (!c) return notFound(what + ": 404 No such container: " + id);
      if (c->info.state == runtime::cri::kStateRunning) return Status::ok();
      const auto& mode = c->spec.networkMode;
      if (mode.starts_with("container:")) {
        auto* owner = find(mode.substr(10));
        if (!owner || owner->info.state != runtime::cri::kStateRunning) {
          return conflict(what + ": 409 cannot join network of a non running container");
        }
        c->info.ip = owner->info.ip;
      } else if (!c->spec.network.empty()) {
        auto ip = allocate(c->spec.network);
        if (!ip) return ip.status().withContext(what);
        c->info.ip = *ip;
      } else if (mode != "none" && mode != "host") {
        c->info.ip = "10.88.0." + std::to_string(seq_ % 250 + 2);
      }
      c->info.state = runtime::cri::kStateRunning;
      c->info.startedAt = now();
      c->info.exitCode = 0;
      emit(*c, "start", std::nullopt);
      handler = startHandler_;
      fullId = c->info.id;
      spec = c->spec;
    }
    if (handler) handler(fullId, spec);
    return Status::ok();
  }

  // The fake's processes exit on SIGTERM (143), before any SIGKILL.
  Status stop(const std::string& id, std::chrono::seconds) override {
    const std::string what = "fake: stop container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("stop").withContext(what));
    std::lock_guard lock(mu_);
    auto* c = find(id);
    if (!c) return notFound(what + ": 404 No such container: " + id);
    if (c->info.state != runtime::cri::kStateRunning) return Status::ok();
    c->info.state = runtime::cri::kStateExited;
    release(*c);
    c->info.exitCode = 143;  // SIGTERM
    c->info.finishedAt = now();
    emit(*c, "die", 143);
    emit(*c, "stop", std::nullopt);
    cv_.notify_all();
    return Status::ok();
  }

  Status remove(const std::string& id, bool force) override {
    const std::string what = "fake: remove container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("remove").withContext(what));
    std::lock_guard lock(mu_);
    auto* c = find(id);
    if (!c) return notFound(what + ": 404 No such container: " + id);
    if (c->info.state == runtime::cri::kStateRunning) {
      if (!force) return conflict(what + ": 409 cannot remove a running container");
      c->info.state = runtime::cri::kStateExited;
      c->info.exitCode = 137;
      emit(*c, "die", 137);
    }
    release(*c);
    emit(*c, "destroy", std::nullopt);
    containers_.erase(c->info.id);
    cv_.notify_all();
    return Status::ok();
  }

  StatusOr<ContainerInfo> inspect(const std::string& id) override {
    const std::string what = "fake: inspect container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("inspect").withContext(what));
    std::lock_guard lock(mu_);
    auto* c = find(id);
    if (!c) return notFound(what + ": 404 No such container: " + id);
    return c->info;
  }

  StatusOr<std::vector<ContainerInfo>> list(const runtime::cri::ListOptions& options) override {
    LB_RETURN_IF_ERROR(errors_.check("list").withContext("fake: list containers"));
    std::lock_guard lock(mu_);
    std::vector<ContainerInfo> out;
    for (const auto& [id, c] : containers_) {
      if (!options.all && c.info.state != runtime::cri::kStateRunning) continue;
      if (matches(c.info.labels, options.labels)) out.push_back(c.info);
    }
    return out;
  }

  StatusOr<int> wait(const std::string& id, std::chrono::milliseconds timeout) override {
    const std::string what = "fake: wait for container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("wait").withContext(what));
    std::unique_lock lock(mu_);
    auto done = [&] {
      auto* c = find(id);
      return !c || c->info.state != runtime::cri::kStateRunning;
    };
    if (!find(id)) return notFound(what + ": 404 No such container: " + id);
    if (timeout.count() > 0) {
      if (!cv_.wait_for(lock, timeout, done)) {
        return Status(Code::kDeadlineExceeded,
                      what + ": still running after " + std::to_string(timeout.count()) + "ms");
      }
    } else {
      cv_.wait(lock, done);
    }
    auto* c = find(id);
    return c ? c->info.exitCode : 137;
  }

  Status logs(const std::string& id, const runtime::cri::LogOptions& options,
              const runtime::cri::LogSink& sink, runtime::CancelToken* cancel = nullptr) override {
    const std::string what = "fake: logs of container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("logs").withContext(what));
    std::unique_lock lock(mu_);
    auto* c = find(id);
    if (!c) return notFound(what + ": 404 No such container: " + id);
    // Not taking mu_ here: the registration is dropped while mu_ is held.
    // A wake-up lost to that is covered by the bounded waits below.
    runtime::CancelRegistration reg(cancel, [this] { cv_.notify_all(); });
    size_t next = 0;
    if (options.tail) {
      next = c->log.size() > size_t(*options.tail) ? c->log.size() - *options.tail : 0;
    }
    while (true) {
      c = find(id);
      if (!c) return Status::ok();
      while (next < c->log.size()) {
        auto chunk = c->log[next++];
        bool wanted = chunk.stream == runtime::cri::LogStream::kStdout ? options.stdoutStream
                                                                       : options.stderrStream;
        if (!wanted) continue;
        lock.unlock();
        bool more = sink(chunk);
        lock.lock();
        if (!more) return Status::ok();
        c = find(id);
        if (!c) return Status::ok();
      }
      if (!options.follow || c->info.state != runtime::cri::kStateRunning) return Status::ok();
      if (cancel && cancel->cancelled()) return Status::ok();
      cv_.wait_for(lock, std::chrono::milliseconds(50));
      if (cancel && cancel->cancelled()) return Status::ok();
    }
  }

  // The fake runs no processes it could attach to.
  StatusOr<std::unique_ptr<runtime::cri::ExecSession>> openExec(
      const std::string& id, const runtime::cri::ExecSessionOptions&) override {
    return Status(Code::kUnsupported, "fake: exec in container '" + id + "': cannot attach");
  }

  StatusOr<runtime::cri::ExecResult> exec(const std::string& id,
                                          const runtime::cri::ExecOptions& options,
                                          runtime::CancelToken* = nullptr) override {
    const std::string what = "fake: exec in container '" + id + "'";
    LB_RETURN_IF_ERROR(errors_.check("exec").withContext(what));
    if (options.command.empty()) return invalidArgument(what + ": no command", "command");
    ExecHandler handler;
    std::string fullId;
    {
      std::lock_guard lock(mu_);
      auto* c = find(id);
      if (!c) return notFound(what + ": 404 No such container: " + id);
      if (c->info.state != runtime::cri::kStateRunning)
        return conflict(what + ": 409 Container " + id + " is not running");
      fullId = c->info.id;
      execs_.push_back(options.command);
      handler = execHandler_;
    }
    if (!handler) return runtime::cri::ExecResult{};
    auto r = handler(fullId, options.command);
    if (r.isOk() && r->output.size() > options.maxOutput) r->output.resize(options.maxOutput);
    return r;
  }

  StatusOr<runtime::cri::NetworkInfo> ensureNetwork(
      const runtime::cri::NetworkSpec& spec) override {
    const std::string what = "fake: ensure network '" + spec.name + "'";
    LB_RETURN_IF_ERROR(errors_.check("ensureNetwork").withContext(what));
    LB_RETURN_IF_ERROR(runtime::cri::validateNetworkSpec(spec).withContext(what));
    std::lock_guard lock(mu_);
    auto it = networks_.find(spec.name);
    if (it != networks_.end()) {
      const auto& have = it->second.info.spec;
      if (have.bridge != spec.bridge || have.subnet != spec.subnet ||
          have.gateway != spec.gateway || (spec.mtu && have.mtu != spec.mtu))
        return conflict(what + ": it exists with subnet " + have.subnet + " on " + have.bridge);
      return it->second.info;
    }
    Network& n = networks_[spec.name];
    n.info = {"fakenet" + std::to_string(++seq_), spec};
    return n.info;
  }

  Status removeNetwork(const std::string& name) override {
    const std::string what = "fake: remove network '" + name + "'";
    LB_RETURN_IF_ERROR(errors_.check("removeNetwork").withContext(what));
    std::lock_guard lock(mu_);
    auto it = networks_.find(name);
    if (it == networks_.end()) return notFound(what + ": 404 network " + name + " not found");
    if (!it->second.used.empty())
      return conflict(what + ": 403 network " + name + " has active endpoints");
    networks_.erase(it);
    return Status::ok();
  }

  Status events(const runtime::cri::EventOptions& options, const runtime::cri::EventSink& sink,
                runtime::CancelToken* cancel = nullptr) override {
    LB_RETURN_IF_ERROR(errors_.check("events").withContext("fake: events"));
    std::unique_lock lock(mu_);
    // Not taking mu_ here: the registration is dropped while mu_ is held.
    // A wake-up lost to that is covered by the bounded waits below.
    runtime::CancelRegistration reg(cancel, [this] { cv_.notify_all(); });
    // Replays history from sinceUnix (0 = only new events), then waits.
    size_t next = events_.size();
    if (options.sinceUnix > 0) {
      next = 0;
      while (next < events_.size() && events_[next].timeNano / 1000000000 < options.sinceUnix) {
        ++next;
      }
    }
    while (true) {
      while (next < events_.size()) {
        auto e = events_[next++];
        if (options.untilUnix > 0 && e.timeNano / 1000000000 > options.untilUnix) {
          return Status::ok();
        }
        if (!matches(e.labels, options.labels)) continue;
        if (!options.actions.empty() && std::find(options.actions.begin(), options.actions.end(),
                                                  e.action) == options.actions.end()) {
          continue;
        }
        lock.unlock();
        bool more = sink(e);
        lock.lock();
        if (!more) return Status::ok();
      }
      if (cancel && cancel->cancelled()) return Status::ok();
      if (options.untilUnix > 0 &&
          std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
                  .count() > options.untilUnix) {
        return Status::ok();
      }
      cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
  }

 private:
  struct Container {
    ContainerSpec spec;
    ContainerInfo info;
    std::vector<runtime::cri::LogChunk> log;
  };

  struct Network {
    runtime::cri::NetworkInfo info;
    std::set<uint32_t> used;  // addresses of running containers
  };

  // The lowest free host address of the network's subnet but its gateway.
  StatusOr<std::string> allocate(const std::string& network) {
    auto it = networks_.find(network);
    if (it == networks_.end()) return notFound("404 network " + network + " not found");
    Network& n = it->second;
    auto p = parseIpv4Prefix(n.info.spec.subnet, "subnet");
    const uint32_t gw = *parseIpv4(n.info.spec.gateway);
    for (uint32_t ip = p->network + 1; ip < p->network + p->size() - 1; ++ip) {
      if (ip == gw || n.used.count(ip)) continue;
      n.used.insert(ip);
      return formatIpv4(ip);
    }
    return unavailable("no free address in network " + network);
  }

  void release(Container& c) {
    if (c.spec.network.empty() || c.info.ip.empty()) return;
    auto it = networks_.find(c.spec.network);
    if (it != networks_.end()) it->second.used.erase(*parseIpv4(c.info.ip));
    c.info.ip.clear();
  }

  static bool matches(const runtime::cri::Labels& have, const runtime::cri::Labels& want) {
    for (const auto& [k, v] : want) {
      auto it = have.find(k);
      if (it == have.end() || (!v.empty() && it->second != v)) return false;
    }
    return true;
  }

  // By id, id prefix or name, as dockerd resolves them.
  Container* find(const std::string& ref) {
    if (ref.empty()) return nullptr;
    auto it = containers_.find(ref);
    if (it != containers_.end()) return &it->second;
    for (auto& [id, c] : containers_) {
      if (c.info.name == ref || id.starts_with(ref)) return &c;
    }
    return nullptr;
  }

  std::string now() const { return formatRfc3339(clock_.now()); }

  void emit(const Container& c, const std::string& action, std::optional<int> exitCode) {
    runtime::cri::Event e;
    e.type = "container";
    e.action = action;
    e.id = c.info.id;
    e.name = c.info.name;
    e.labels = c.info.labels;
    e.exitCode = exitCode;
    e.timeNano =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch())
            .count();
    events_.push_back(std::move(e));
    cv_.notify_all();
  }

  Clock& clock_;
  FakeImageRuntime* images_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Container> containers_;
  std::map<std::string, Network> networks_;
  std::vector<runtime::cri::Event> events_;
  ExecHandler execHandler_;
  StartHandler startHandler_;
  std::vector<std::vector<std::string>> execs_;
  uint64_t seq_ = 0;
  ErrorInjector errors_;
};

}  // namespace lb::fakes
