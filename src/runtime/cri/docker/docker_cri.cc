#include "runtime/cri/docker/docker_cri.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "lastbackend/http/uri.h"
#include "runtime/cri/docker/docker_exec.h"
#include "runtime/cri/docker/docker_network.h"
#include "runtime/docker/wire.h"

namespace lb::runtime::cri::docker {
namespace {

using json = nlohmann::json;
using runtime::docker::Client;
using runtime::docker::Method;
using runtime::docker::Request;
using runtime::docker::Response;
namespace wire = runtime::docker;

std::string ctx(const std::string& op, const std::string& id) {
  return "docker: " + op + " '" + id + "'";
}

// Binds go as HostConfig.Mounts, not Binds: a "src:dst:ro" string cannot
// carry a ':' in a path, and volume names made from pod selflinks have them.
// Mounts also fail when the source is missing instead of creating it.
Status checkMount(const Mount& m) {
  for (const auto* p : {&m.source, &m.target}) {
    if (p->empty() || (*p)[0] != '/') {
      return invalidArgument("mount path '" + *p + "' is not absolute", "mounts");
    }
    if (p->find('\0') != std::string::npos) {
      return invalidArgument("mount path has a NUL byte", "mounts");
    }
  }
  return Status::ok();
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t num(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}

Labels labelsOf(const json& j) {
  Labels out;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
    }
  }
  return out;
}

ContainerInfo infoFromInspect(const json& j) {
  ContainerInfo c;
  c.id = str(j, "Id");
  c.name = str(j, "Name");
  if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
  c.imageId = str(j, "Image");
  c.createdAt = wire::normalizeTime(str(j, "Created"));
  c.restartCount = static_cast<int>(num(j, "RestartCount"));
  const json& config = j.value("Config", json::object());
  c.image = str(config, "Image");
  c.labels = labelsOf(config.value("Labels", json::object()));
  const json& state = j.value("State", json::object());
  c.state = str(state, "Status");
  c.exitCode = static_cast<int>(num(state, "ExitCode"));
  c.error = str(state, "Error");
  c.startedAt = wire::normalizeTime(str(state, "StartedAt"));
  c.finishedAt = wire::normalizeTime(str(state, "FinishedAt"));
  const json& host = j.value("HostConfig", json::object());
  c.networkMode = str(host, "NetworkMode");
  c.memoryBytes = num(host, "Memory");
  c.milliCpu = num(host, "NanoCpus") / 1000000;
  c.privileged = host.value("Privileged", false);
  const json& rp = host.value("RestartPolicy", json::object());
  c.restart.policy = str(rp, "Name");
  c.restart.maxRetries = static_cast<int>(num(rp, "MaximumRetryCount"));
  for (const auto& m : j.value("Mounts", json::array())) {
    if (str(m, "Type") != "bind") continue;
    c.mounts.push_back({str(m, "Source"), str(m, "Destination"), !m.value("RW", true)});
  }
  // The address on the network the container was made for (a named one
  // is its HostConfig.NetworkMode), else the default bridge's or the first.
  const json& net = j.value("NetworkSettings", json::object());
  const json& networks = net.value("Networks", json::object());
  if (networks.is_object() && networks.contains(c.networkMode))
    c.ip = str(networks[c.networkMode], "IPAddress");
  if (c.ip.empty()) c.ip = str(net, "IPAddress");
  if (c.ip.empty() && networks.is_object()) {
    for (const auto& [name, n] : networks.items()) {
      c.ip = str(n, "IPAddress");
      if (!c.ip.empty()) break;
    }
  }
  return c;
}

class DockerRuntime final : public ContainerRuntime {
 public:
  explicit DockerRuntime(std::shared_ptr<Client> client) : client_(std::move(client)) {}

  StatusOr<RuntimeInfo> info() override {
    auto j = json::parse(client_->versionJson(), nullptr, false);
    RuntimeInfo info;
    info.driver = "docker";
    info.apiVersion = client_->apiVersion();
    if (j.is_object()) {
      info.version = str(j, "Version");
      info.os = str(j, "Os");
      info.arch = str(j, "Arch");
    }
    return info;
  }

  StatusOr<std::string> create(const ContainerSpec& spec) override {
    const std::string what = ctx("create container", spec.name.empty() ? spec.image : spec.name);
    auto body = createBody(spec);
    if (!body) return body.status().withContext(what);
    Request req{Method::kPost, "/containers/create"};
    if (!spec.name.empty()) req.target += "?name=" + http::percentEncode(spec.name);
    req.body = std::move(*body);
    auto resp = call(req, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    std::string id = j.is_object() ? str(j, "Id") : "";
    if (id.empty()) return internalError(what + ": no Id in the answer");
    return id;
  }

  Status start(const std::string& id) override {
    return call({Method::kPost, "/containers/" + http::percentEncode(id) + "/start"},
                ctx("start container", id))
        .status();
  }

  Status stop(const std::string& id, std::chrono::seconds grace) override {
    Request req{Method::kPost, "/containers/" + http::percentEncode(id) +
                                   "/stop?t=" + std::to_string(grace.count())};
    req.timeout = grace + std::chrono::seconds(60);
    return call(req, ctx("stop container", id)).status();
  }

  Status remove(const std::string& id, bool force) override {
    return call({Method::kDelete,
                 "/containers/" + http::percentEncode(id) + (force ? "?force=1" : "?force=0")},
                ctx("remove container", id))
        .status();
  }

  StatusOr<ContainerInfo> inspect(const std::string& id) override {
    const std::string what = ctx("inspect container", id);
    auto resp = call({Method::kGet, "/containers/" + http::percentEncode(id) + "/json"}, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_object()) return internalError(what + ": the answer is not JSON");
    return infoFromInspect(j);
  }

  StatusOr<std::vector<ContainerInfo>> list(const ListOptions& options) override {
    const std::string what = "docker: list containers";
    std::string target = std::string("/containers/json?all=") + (options.all ? "1" : "0");
    if (!options.labels.empty()) {
      target += "&filters=" + http::percentEncode(wire::filtersJson(
                                  {{"label", wire::labelFilterValues(options.labels)}}));
    }
    auto resp = call({Method::kGet, target}, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_array()) return internalError(what + ": the answer is not a JSON array");
    // The summary lacks exit codes and restart counts: inspect each one. A
    // container removed in between is simply not listed.
    std::vector<ContainerInfo> out;
    for (const auto& c : j) {
      if (!options.details) {
        ContainerInfo info;
        info.id = str(c, "Id");
        const json& names = c.value("Names", json::array());
        if (!names.empty() && names[0].is_string()) info.name = names[0].get<std::string>();
        if (!info.name.empty() && info.name[0] == '/') info.name.erase(0, 1);
        info.image = str(c, "Image");
        info.state = str(c, "State");
        info.labels = labelsOf(c.value("Labels", json::object()));
        out.push_back(std::move(info));
        continue;
      }
      auto info = inspect(str(c, "Id"));
      if (!info) {
        if (info.status().code() == Code::kNotFound) continue;
        return info.status();
      }
      out.push_back(std::move(*info));
    }
    return out;
  }

  StatusOr<int> wait(const std::string& id, std::chrono::milliseconds timeout) override {
    const std::string what = ctx("wait for container", id);
    Request req{Method::kPost,
                "/containers/" + http::percentEncode(id) + "/wait?condition=not-running"};
    req.timeout = timeout.count() > 0 ? timeout : std::chrono::hours(24 * 365);
    auto resp = call(req, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_object() || !j.contains("StatusCode")) {
      return internalError(what + ": no StatusCode in the answer");
    }
    const json& err = j.value("Error", json());
    if (err.is_object() && !str(err, "Message").empty()) {
      return internalError(what + ": " + str(err, "Message"));
    }
    return static_cast<int>(num(j, "StatusCode"));
  }

  Status logs(const std::string& id, const LogOptions& options, const LogSink& sink,
              CancelToken* cancel) override {
    const std::string what = ctx("logs of container", id);
    auto info = inspectRaw(id);
    if (!info) return info.status().withContext(what);
    bool tty = info->value("Config", json::object()).value("Tty", false);
    http::QueryParams q;
    q["stdout"] = options.stdoutStream ? "1" : "0";
    q["stderr"] = options.stderrStream ? "1" : "0";
    q["follow"] = options.follow ? "1" : "0";
    q["timestamps"] = options.timestamps ? "1" : "0";
    q["tail"] = options.tail ? std::to_string(*options.tail) : "all";
    if (options.sinceUnix > 0) q["since"] = std::to_string(options.sinceUnix);
    Request req{Method::kGet,
                "/containers/" + http::percentEncode(id) + "/logs?" + http::buildQuery(q)};

    wire::LogDemuxer demux(tty);
    Status frameError;
    LogChunk chunk;
    auto resp = client_->stream(
        req,
        [&](std::string_view data) {
          Status s = demux.feed(data, [&](int stream, std::string_view payload) {
            chunk.stream = stream == 2 ? LogStream::kStderr : LogStream::kStdout;
            chunk.data.assign(payload);
            return sink(chunk);
          });
          if (!s.isOk()) {
            frameError = s;
            return false;
          }
          return !demux.stopped();
        },
        cancel);
    if (!resp) return resp.status().withContext(what);
    if (resp->status >= 300)
      return wire::errorFromResponse(resp->status, resp->body).withContext(what);
    return frameError.withContext(what);
  }

  // Create the exec, run it attached (the multiplexed output streams until
  // the process ends and the daemon closes the connection), then read the
  // exit code from the exec's inspect. One deadline covers all three.
  StatusOr<ExecResult> exec(const std::string& id, const ExecOptions& options,
                            CancelToken* cancel) override {
    const std::string what = ctx("exec in container", id);
    if (options.command.empty()) return invalidArgument(what + ": no command", "command");
    using Clock = std::chrono::steady_clock;
    const bool limited = options.timeout.count() > 0;
    const auto deadline = Clock::now() + options.timeout;
    auto left = [&]() -> StatusOr<std::chrono::milliseconds> {
      if (!limited) return std::chrono::milliseconds(0);
      auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (d.count() <= 0)
        return Status(Code::kDeadlineExceeded,
                      what + ": not done within " + std::to_string(options.timeout.count()) + "ms");
      return d;
    };

    Request create{Method::kPost, "/containers/" + http::percentEncode(id) + "/exec"};
    create.body = json{{"AttachStdin", false},
                       {"AttachStdout", true},
                       {"AttachStderr", true},
                       {"Tty", false},
                       {"Cmd", options.command}}
                      .dump();
    auto budget = left();
    if (!budget) return budget.status();
    create.timeout = *budget;
    auto created = call(create, what);
    if (!created) return created.status();
    auto cj = json::parse(created->body, nullptr, false);
    std::string execId = cj.is_object() ? str(cj, "Id") : "";
    if (execId.empty()) return internalError(what + ": no exec Id in the answer");
    // Docker has no call that stops an exec: one that overruns its timeout
    // (or is cancelled) is killed here, by its pid.
    auto r = runExec(execId, what, limited, left, options, cancel);
    if (r.isOk() || (r.status().code() != Code::kDeadlineExceeded &&
                     r.status().code() != Code::kUnavailable))
      return r;
    return Status(r.status().code(), r.status().message() + killExec(*client_, execId));
  }

  template <class Left>
  StatusOr<ExecResult> runExec(const std::string& execId, const std::string& what, bool limited,
                               const Left& left, const ExecOptions& options, CancelToken* cancel) {
    using Clock = std::chrono::steady_clock;
    StatusOr<std::chrono::milliseconds> budget = std::chrono::milliseconds(0);

    Request start{Method::kPost, "/exec/" + http::percentEncode(execId) + "/start"};
    start.body = json{{"Detach", false}, {"Tty", false}}.dump();
    budget = left();
    if (!budget) return budget.status();
    start.timeout = *budget;
    start.streamLimit = *budget;
    ExecResult result;
    wire::LogDemuxer demux(false);
    Status frameError;
    auto resp = client_->stream(
        start,
        [&](std::string_view data) {
          Status s = demux.feed(data, [&](int, std::string_view payload) {
            size_t room = options.maxOutput - std::min(options.maxOutput, result.output.size());
            result.output.append(payload.substr(0, room));
            return true;
          });
          if (!s.isOk()) {
            frameError = s;
            return false;
          }
          return true;
        },
        cancel);
    if (!resp) return resp.status().withContext(what);
    if (resp->status >= 300)
      return wire::errorFromResponse(resp->status, resp->body).withContext(what);
    if (!frameError.isOk()) return frameError.withContext(what);
    if (resp->status == 0) return unavailable(what + ": cancelled");

    // The daemon closes the stream as the process ends; its exit code may
    // be recorded a moment later (without a timeout: wait up to 10 s).
    const auto settle = Clock::now() + std::chrono::seconds(10);
    while (true) {
      if (!limited && Clock::now() > settle)
        return Status(Code::kDeadlineExceeded, what + ": still running after its output ended");
      Request inspect{Method::kGet, "/exec/" + http::percentEncode(execId) + "/json"};
      budget = left();
      if (!budget) return budget.status();
      inspect.timeout = *budget;
      auto ij = call(inspect, what);
      if (!ij) return ij.status();
      auto j = json::parse(ij->body, nullptr, false);
      if (!j.is_object()) return internalError(what + ": the exec inspect is not JSON");
      if (!j.value("Running", false) && j.contains("ExitCode") && j["ExitCode"].is_number()) {
        result.exitCode = static_cast<int>(num(j, "ExitCode"));
        return result;
      }
      if (cancel && cancel->cancelled()) return unavailable(what + ": cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  StatusOr<std::unique_ptr<ExecSession>> openExec(const std::string& id,
                                                  const ExecSessionOptions& options) override {
    return openExecSession(client_, id, options);
  }

  StatusOr<NetworkInfo> ensureNetwork(const NetworkSpec& spec) override {
    return docker::ensureNetwork(*client_, spec);
  }

  Status removeNetwork(const std::string& name) override {
    return docker::removeNetwork(*client_, name);
  }

  Status events(const EventOptions& options, const EventSink& sink, CancelToken* cancel) override {
    const std::string what = "docker: events";
    std::map<std::string, std::vector<std::string>> filters{{"type", {"container"}}};
    filters["label"] = wire::labelFilterValues(options.labels);
    filters["event"] = options.actions;
    http::QueryParams q;
    q["filters"] = wire::filtersJson(filters);
    if (options.sinceUnix > 0) q["since"] = std::to_string(options.sinceUnix);
    if (options.untilUnix > 0) q["until"] = std::to_string(options.untilUnix);
    Request req{Method::kGet, "/events?" + http::buildQuery(q)};

    wire::LineSplitter lines;
    Status parseError;
    auto onLine = [&](std::string_view line) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_object()) {
        parseError = internalError("event is not JSON: " + std::string(line.substr(0, 200)));
        return false;
      }
      Event e;
      e.type = str(j, "Type");
      e.action = str(j, "Action");
      e.timeNano = num(j, "timeNano");
      const json& actor = j.value("Actor", json::object());
      e.id = str(actor, "ID");
      // Attributes mix the container's labels with a few of docker's own keys.
      for (auto& [k, v] : labelsOf(actor.value("Attributes", json::object()))) {
        if (k == "name") {
          e.name = v;
        } else if (k == "exitCode") {
          e.exitCode = std::atoi(v.c_str());
        } else if (k != "image" && k != "signal" && k != "execDuration") {
          e.labels[k] = v;
        }
      }
      return sink(e);
    };
    auto resp = client_->stream(
        req, [&](std::string_view data) { return lines.feed(data, onLine); }, cancel);
    if (!resp) return resp.status().withContext(what);
    if (resp->status >= 300)
      return wire::errorFromResponse(resp->status, resp->body).withContext(what);
    if (parseError.isOk() && resp->status != 0) lines.finish(onLine);
    return parseError.withContext(what);
  }

 private:
  // A call whose 304 (already started/stopped) counts as success; any other
  // status >= 300 becomes an error with `what` as context.
  StatusOr<Response> call(const Request& req, const std::string& what) {
    return runtime::docker::callOk(*client_, req, what);
  }

  StatusOr<json> inspectRaw(const std::string& id) {
    auto resp = call({Method::kGet, "/containers/" + http::percentEncode(id) + "/json"}, "inspect");
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_object()) return internalError("inspect: the answer is not JSON");
    return j;
  }

  std::shared_ptr<Client> client_;
};

}  // namespace

StatusOr<std::string> createBody(const ContainerSpec& spec) {
  if (spec.image.empty()) return invalidArgument("no image", "image");
  json j;
  j["Image"] = spec.image;
  if (!spec.entrypoint.empty()) j["Entrypoint"] = spec.entrypoint;
  if (!spec.command.empty() || !spec.args.empty()) {
    std::vector<std::string> cmd = spec.command;
    cmd.insert(cmd.end(), spec.args.begin(), spec.args.end());
    j["Cmd"] = cmd;
  }
  if (!spec.workdir.empty()) j["WorkingDir"] = spec.workdir;
  if (!spec.env.empty()) {
    std::vector<std::string> env;
    for (const auto& [k, v] : spec.env) {
      if (k.empty() || k.find('=') != std::string::npos) {
        return invalidArgument("env name '" + k + "' is empty or has '='", "env");
      }
      env.push_back(k + "=" + v);
    }
    j["Env"] = env;
  }
  j["Labels"] = spec.labels;
  j["Tty"] = spec.tty;
  bool joins = spec.networkMode.starts_with("container:");
  if (!spec.hostname.empty()) {
    if (joins)
      return invalidArgument("a hostname cannot be set when joining another container's network",
                             "hostname");
    j["Hostname"] = spec.hostname;
  }
  if (!spec.exposedPorts.empty()) {
    json ports = json::object();
    for (const auto& p : spec.exposedPorts) {
      if (p.containerPort <= 0 || p.containerPort > 65535 ||
          (p.protocol != "tcp" && p.protocol != "udp")) {
        return invalidArgument("bad port " + std::to_string(p.containerPort) + "/" + p.protocol,
                               "ports");
      }
      ports[std::to_string(p.containerPort) + "/" + p.protocol] = json::object();
    }
    j["ExposedPorts"] = ports;
  }
  json host = json::object();
  if (spec.memoryBytes < 0 || spec.milliCpu < 0)
    return invalidArgument("negative resource limit", "resources");
  if (spec.memoryBytes > 0) host["Memory"] = spec.memoryBytes;
  if (spec.milliCpu > 0) host["NanoCpus"] = spec.milliCpu * 1000000;
  if (!spec.restart.policy.empty()) {
    static const char* kPolicies[] = {"no", "always", "on-failure", "unless-stopped"};
    if (std::find(std::begin(kPolicies), std::end(kPolicies), spec.restart.policy) ==
        std::end(kPolicies)) {
      return invalidArgument("restart policy '" + spec.restart.policy +
                                 "' is not one of no, always, on-failure, unless-stopped",
                             "restart");
    }
    json rp{{"Name", spec.restart.policy}};
    if (spec.restart.policy == "on-failure") rp["MaximumRetryCount"] = spec.restart.maxRetries;
    host["RestartPolicy"] = rp;
  }
  if (spec.privileged) host["Privileged"] = true;
  if (!spec.mounts.empty()) {
    json mounts = json::array();
    for (const auto& m : spec.mounts) {
      LB_RETURN_IF_ERROR(checkMount(m));
      mounts.push_back(
          {{"Type", "bind"}, {"Source", m.source}, {"Target", m.target}, {"ReadOnly", m.readOnly}});
    }
    host["Mounts"] = mounts;
  }
  if (!spec.networkMode.empty()) {
    if (joins && spec.networkMode.size() == 10) {
      return invalidArgument("network mode 'container:' names no container", "networkMode");
    }
    host["NetworkMode"] = spec.networkMode;
  }
  if (!spec.network.empty()) {
    if (!spec.networkMode.empty())
      return invalidArgument("a network and a network mode cannot both be set", "network");
    LB_RETURN_IF_ERROR(validateNetworkName(spec.network, "network"));
    // Attached at create: the address is there from the first start.
    host["NetworkMode"] = spec.network;
    j["NetworkingConfig"] = {{"EndpointsConfig", {{spec.network, json::object()}}}};
  }
  if (!spec.dns.empty()) host["Dns"] = spec.dns;
  if (!spec.dnsSearch.empty()) host["DnsSearch"] = spec.dnsSearch;
  if (!spec.dnsOptions.empty()) host["DnsOptions"] = spec.dnsOptions;
  j["HostConfig"] = host;
  return j.dump();
}

std::unique_ptr<ContainerRuntime> fromClient(std::shared_ptr<runtime::docker::Client> client) {
  return std::make_unique<DockerRuntime>(std::move(client));
}

}  // namespace lb::runtime::cri::docker
