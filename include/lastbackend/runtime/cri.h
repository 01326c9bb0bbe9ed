#pragma once

// CRI — the container runtime interface a node agent drives. A driver (docker)
// is chosen by name from the table in src/runtime/drivers.h.
//
// Pods: the runtime knows containers, not pods. The agent ties the containers
// of one pod together with labels (kLabelPod...) and shares one network
// namespace between them with ContainerSpec::networkMode "container:<id>"
// (see docs/runtime.md, "Pod network model"). The first one attaches to the
// node's pod network (ContainerSpec::network: a network ensureNetwork() made
// on the CNI's bridge), so the pod's address is one of the node's subnet.
//
// Errors are lb::Status with context, e.g.
//   "docker: create container 'web': 404 No such image: lb/nope:1"
// kNotFound: no such container (or image on create); kAlreadyExists: name in
// use; kUnavailable: the daemon cannot be reached; kInvalidArgument: the
// daemon rejected the spec; kDeadlineExceeded: a call timed out.
// Every method is thread-safe; streaming calls block the calling thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cancel.h"

namespace lb::runtime::cri {

using Labels = std::map<std::string, std::string>;

// Labels the agent puts on every container it runs, so the node state can be
// rebuilt from the runtime alone after a restart.
inline constexpr const char* kLabelPod = "io.lastbackend.pod";              // pod selflink
inline constexpr const char* kLabelContainer = "io.lastbackend.container";  // name in the spec
inline constexpr const char* kLabelDeployment = "io.lastbackend.deployment";
inline constexpr const char* kLabelService = "io.lastbackend.service";
inline constexpr const char* kLabelNamespace = "io.lastbackend.namespace";
inline constexpr const char* kLabelSpecHash = "io.lastbackend.spec";  // template hash
// "owner" on the container that owns the pod's network namespace.
inline constexpr const char* kLabelNetwork = "io.lastbackend.network";

// A bind of a host path (e.g. a CSI volume dir) into the container. The
// source must exist; paths may contain ':' (volume names from selflinks do).
struct Mount {
  std::string source;  // absolute host path
  std::string target;  // absolute path in the container
  bool readOnly = false;
  bool operator==(const Mount&) const = default;
};

struct Port {
  int containerPort = 0;
  std::string protocol = "tcp";  // tcp | udp
  bool operator==(const Port&) const = default;
};

struct Restart {
  // "" (runtime default: never) | "no" | "always" | "on-failure" | "unless-stopped"
  std::string policy;
  int maxRetries = 0;  // on-failure only
  bool operator==(const Restart&) const = default;
};

struct ContainerSpec {
  std::string name;  // runtime name; empty = the runtime picks one
  std::string image;
  // The process is entrypoint + command + args. An empty entrypoint keeps
  // the image's; command + args replace the image's default command when
  // either is set (args alone are appended to the image's entrypoint).
  std::vector<std::string> entrypoint;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string workdir;
  std::map<std::string, std::string> env;
  Labels labels;
  int64_t memoryBytes = 0;  // 0 = unlimited
  int64_t milliCpu = 0;     // 1000 = one CPU; 0 = unlimited
  Restart restart;
  bool privileged = false;  // only when the manifest asks for it
  std::vector<Mount> mounts;
  // "" (runtime default bridge) | "none" | "host" | "bridge" |
  // "container:<id>" to join another container's network namespace.
  std::string networkMode;
  // A network made by ensureNetwork() to attach to instead: the container's
  // address (ContainerInfo::ip) is one of its subnet. Excludes networkMode.
  // A network that does not exist fails start() (kNotFound), not create().
  std::string network;
  std::string hostname;  // not allowed with "container:<id>"
  // The container's resolver (resolv.conf): servers, search domains,
  // options such as "ndots:1". Empty: the runtime's default.
  std::vector<std::string> dns, dnsSearch, dnsOptions;
  std::vector<Port> exposedPorts;
  bool tty = false;  // logs of a TTY container are one raw stream
  bool operator==(const ContainerSpec&) const = default;
};

// Runtime words for ContainerInfo::state.
inline constexpr const char* kStateCreated = "created";
inline constexpr const char* kStateRunning = "running";
inline constexpr const char* kStateRestarting = "restarting";
inline constexpr const char* kStateExited = "exited";
inline constexpr const char* kStatePaused = "paused";
inline constexpr const char* kStateRemoving = "removing";
inline constexpr const char* kStateDead = "dead";

struct ContainerInfo {
  std::string id;
  std::string name;     // without docker's leading '/'
  std::string image;    // as requested in the spec
  std::string imageId;  // resolved digest ("sha256:...")
  std::string state;    // kState*
  int exitCode = 0;
  std::string error;       // runtime's error for the last start, if any
  std::string createdAt;   // RFC 3339 as the runtime gives it
  std::string startedAt;   // empty or RFC 3339
  std::string finishedAt;  // empty or RFC 3339
  std::string ip;  // the address on its network (spec.network's, else the first); "" without
  Labels labels;
  int restartCount = 0;
  // What the runtime runs, as inspect reports it (lists only, not the spec).
  std::string networkMode;
  int64_t memoryBytes = 0;
  int64_t milliCpu = 0;
  Restart restart;
  bool privileged = false;
  std::vector<Mount> mounts;
  bool running() const { return state == kStateRunning || state == kStateRestarting; }
};

struct ListOptions {
  Labels labels;    // every label must match (value "" = key present)
  bool all = true;  // include stopped containers
  // false: only id, name, image, state and labels are filled (docker: the
  // listing alone, no inspect per container).
  bool details = true;
};

enum class LogStream { kStdout = 1, kStderr = 2 };

struct LogChunk {
  LogStream stream = LogStream::kStdout;
  std::string data;  // bytes as written by the process; may split lines
};

struct LogOptions {
  bool follow = false;      // keep streaming until the container stops or cancel
  std::optional<int> tail;  // last N lines; nullopt = all
  bool stdoutStream = true;
  bool stderrStream = true;
  bool timestamps = false;  // runtime prefixes each line with an RFC 3339 time
  int64_t sinceUnix = 0;    // only lines after this time (seconds); 0 = all
};

// Returns false to stop the stream early (the call then returns OK).
using LogSink = std::function<bool(const LogChunk&)>;

struct Event {
  std::string type;             // "container"
  std::string action;           // "create" | "start" | "die" | "stop" | "destroy" | "oom" ...
  std::string id;               // container id
  std::string name;             // container name
  Labels labels;                // the container's labels
  std::optional<int> exitCode;  // for "die"
  int64_t timeNano = 0;         // unix time in nanoseconds
};

struct EventOptions {
  Labels labels;                     // every label must match
  std::vector<std::string> actions;  // empty = every action
  int64_t sinceUnix = 0;             // replay from this time (seconds); 0 = from now
  int64_t untilUnix = 0;             // stop at this time (seconds); 0 = never
};

using EventSink = std::function<bool(const Event&)>;

// A command run inside a running container (probes).
struct ExecOptions {
  std::vector<std::string> command;  // argv; not run through a shell
  // The whole run (create, output, exit code) must end within this;
  // kDeadlineExceeded otherwise. Zero = no limit.
  std::chrono::milliseconds timeout{0};
  size_t maxOutput = 4096;  // bytes of stdout+stderr kept (the first ones)
};

struct ExecResult {
  int exitCode = 0;
  std::string output;  // stdout and stderr interleaved, cut at maxOutput
};

// A command run inside a running container with its streams attached, as a
// user's shell (`lb service exec`): stdin in, output out as it comes, the
// terminal resized, the exit status at the end.
struct ExecSessionOptions {
  std::vector<std::string> command;  // argv; not run through a shell
  bool tty = false;                  // a terminal: one raw output stream
  bool input = false;                // the process reads what write() sends (its stdin)
};

class ExecSession {
 public:
  virtual ~ExecSession() = default;
  // The next output: stream 1 (stdout, or the terminal) or 2 (stderr) and
  // its bytes; nullopt once the process has closed its output.
  struct Output {
    int stream = 1;
    std::string data;
  };
  virtual StatusOr<std::optional<Output>> read() = 0;
  virtual Status write(std::string_view input) = 0;
  virtual void closeStdin() = 0;
  // The terminal's size (tty only; ignored otherwise).
  virtual Status resize(int rows, int cols) = 0;
  // After read() has said the end: the process's exit code (it may be
  // recorded a moment after its output closed).
  virtual StatusOr<int> exitCode() = 0;
  // Ends the process if it still runs (its client went away), from any
  // thread; a pending read() returns. Says what became of it.
  virtual std::string kill() = 0;
};

// A bridge network containers can join (ContainerSpec::network), made on a
// bridge device that exists already (the CNI's): the runtime hands out
// addresses of `subnet` to the containers on it and leaves the rest to the
// host: no NAT (traffic to other hosts' pods is routed with its pod source
// address), no bridge of its own.
struct NetworkSpec {
  std::string name;     // runtime network name ("lb"): letters, digits, '_', '.', '-'
  std::string bridge;   // the existing bridge device ("lb0")
  std::string subnet;   // "10.244.1.0/24"
  std::string gateway;  // the bridge's address, in the subnet ("10.244.1.1")
  int mtu = 0;          // of the containers' interfaces; 0 = the runtime's default
  Labels labels;
  bool operator==(const NetworkSpec&) const = default;
};

struct NetworkInfo {
  std::string id;
  NetworkSpec spec;  // as the runtime reports it
};

// OK, or kInvalidArgument (against `field`): a network name is 1 to 64
// bytes, a letter or digit, then letters, digits, '_', '.', '-'.
Status validateNetworkName(std::string_view name, std::string_view field);
// OK, or kInvalidArgument naming the field of `spec` that is wrong.
Status validateNetworkSpec(const NetworkSpec& spec);

struct RuntimeInfo {
  std::string driver;      // "docker"
  std::string version;     // daemon version ("20.10.24")
  std::string apiVersion;  // negotiated API version ("1.41")
  std::string os;
  std::string arch;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // Driver name, daemon version and negotiated API version.
  virtual StatusOr<RuntimeInfo> info() = 0;

  // Creates (does not start) a container; returns its id. kNotFound when the
  // image is not present (the runtime never pulls here: see CII),
  // kAlreadyExists when the name is taken, kInvalidArgument for a bad spec.
  virtual StatusOr<std::string> create(const ContainerSpec& spec) = 0;

  // Starts a created or stopped container. Starting a running one is OK.
  virtual Status start(const std::string& id) = 0;

  // Sends SIGTERM, then SIGKILL after `grace`. Stopping a stopped one is OK.
  virtual Status stop(const std::string& id, std::chrono::seconds grace) = 0;

  // Removes a container; `force` kills it first if running. kNotFound when
  // there is no such container (callers that reconcile treat it as done).
  virtual Status remove(const std::string& id, bool force) = 0;

  // Current state of one container, by id or name.
  virtual StatusOr<ContainerInfo> inspect(const std::string& id) = 0;

  // Containers whose labels match, with state, exit code and IP.
  virtual StatusOr<std::vector<ContainerInfo>> list(const ListOptions& options) = 0;

  // Blocks until the container is not running, and returns its exit code
  // (at once for a container that already stopped). kDeadlineExceeded after
  // `timeout` (zero = no limit).
  virtual StatusOr<int> wait(const std::string& id, std::chrono::milliseconds timeout) = 0;

  // Streams the container's output to `sink` (stdout and stderr apart, or
  // one stdout stream for a TTY container). Without follow it returns at
  // the end of the log; with follow when the container stops, `sink` returns
  // false, or `cancel` is cancelled (all OK).
  virtual Status logs(const std::string& id, const LogOptions& options, const LogSink& sink,
                      CancelToken* cancel = nullptr) = 0;

  // Runs `options.command` in the running container `id` and returns its
  // exit code once it ends. kNotFound: no such container; kConflict: the
  // container is not running; kDeadlineExceeded: not done within
  // options.timeout (the runtime cannot kill an exec: the process may go
  // on, its output is no longer read); kInvalidArgument: empty command;
  // kUnavailable when `cancel` fires.
  // A command that cannot be started (no such file) is an exit code
  // (docker: 126/127), not an error.
  virtual StatusOr<ExecResult> exec(const std::string& id, const ExecOptions& options,
                                    CancelToken* cancel = nullptr) = 0;

  // Starts `options.command` in the running container `id` with its streams
  // attached (ExecSession). Errors as exec(); kUnsupported from a runtime
  // that cannot attach.
  virtual StatusOr<std::unique_ptr<ExecSession>> openExec(const std::string& id,
                                                          const ExecSessionOptions& options) = 0;

  // Makes the network `spec` describes, or finds it made already with the
  // same bridge, subnet, gateway and MTU (an agent that restarts finds the
  // one it made). kConflict when a network of that name differs (the message
  // says how: remove its containers and the network, then ensure it anew);
  // kInvalidArgument for a bad spec. Creating containers on it is safe once
  // this returns.
  virtual StatusOr<NetworkInfo> ensureNetwork(const NetworkSpec& spec) = 0;

  // Removes a network (not its bridge device, which the runtime did not
  // make). kNotFound when there is none; kConflict while running containers
  // are attached.
  virtual Status removeNetwork(const std::string& name) = 0;

  // Streams container events (start, die, ...) to `sink` until `sink`
  // returns false, `untilUnix` passes, or `cancel` is cancelled.
  virtual Status events(const EventOptions& options, const EventSink& sink,
                        CancelToken* cancel = nullptr) = 0;
};

}  // namespace lb::runtime::cri
