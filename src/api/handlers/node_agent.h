#pragma once

// Private to the REST API: what the node agents need beyond plain CRUD
// (docs/node-protocol.md) — the long-poll of a node's spec and the proxy of
// service logs to the node agents that run the service's pods.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/context.h"
#include "lastbackend/http/message.h"

namespace lb::api {

// Waiting nodes of the spec long-poll. One store watch on /manifest/node/
// and /manifests/cluster/ (one thread, which alone calls the store: wait()
// runs on the HTTP I/O threads and only takes a short lock) serves every
// waiting node: it records the revision of each node's last manifest
// change and of the cluster network's (the subnet and endpoint manifests,
// part of every node's answer), and answers the requests parked on that
// node, or on every node when the cluster network changed
// (http::Response::later: no thread, no worker per waiting node). The watch
// starts, on the first wait, from the oldest revision the store still has,
// so a request's "after revision N" is exact for any N the history holds;
// an older N (or a watch that had to restart) answers at once, as the
// protocol allows.
class NodeSpecWaiters {
 public:
  // The group the ingresses wait in: woken by route manifests
  // (/manifests/cluster/route/) and, like every node, by the cluster network.
  // No node has this name (node names are never empty).
  static inline const std::string kIngresses{};

  explicit NodeSpecWaiters(storage::Storage* store);
  ~NodeSpecWaiters();
  NodeSpecWaiters(const NodeSpecWaiters&) = delete;
  NodeSpecWaiters& operator=(const NodeSpecWaiters&) = delete;

  // Answers `responder` with `answer()` (run on a server worker) once a key
  // under /manifest/node/<node>/, /manifests/cluster/endpoint/ or
  // /manifests/cluster/subnet/ changed after `revision`, or at `deadline`.
  // Thread-safe, does not block on other waiters.
  void wait(const std::string& node, int64_t revision,
            std::chrono::steady_clock::time_point deadline,
            std::shared_ptr<http::Responder> responder, std::function<http::Response()> answer);

  // Ends the watch thread; waiting requests are answered (their listing).
  void stop();

  // Parked requests (for tests and metrics).
  size_t waiting() const;

 private:
  struct Waiter {
    int64_t revision = 0;
    std::chrono::steady_clock::time_point deadline;
    std::shared_ptr<http::Responder> responder;
    std::function<http::Response()> answer;
  };
  struct OpenedWatch {
    std::unique_ptr<storage::WatchStream> stream;
    int64_t since = -1;
  };
  StatusOr<OpenedWatch> openWatch();
  bool ensureWatch();
  std::chrono::milliseconds nextWaitLocked(std::chrono::steady_clock::time_point now) const;
  void collectLocked(const std::vector<storage::Event>& events,
                     std::chrono::steady_clock::time_point now, std::vector<Waiter>& ready);
  // Under mu_: each waiter is kept, answered (moved to `ready`) or dropped
  // (its client went away), as `decide` says.
  enum Sweep { kKeep, kAnswer, kDrop };
  template <class Decide>
  void sweepLocked(Decide decide, std::vector<Waiter>& ready);
  void run();

  storage::Storage* store_;
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::unique_ptr<storage::WatchStream> watch_;
  int64_t since_ = -1;  // every change after this revision reaches lastChange_
  std::unordered_map<std::string, int64_t> lastChange_;  // node -> revision
  int64_t lastClusterChange_ = 0;                        // subnets and endpoints
  std::unordered_map<std::string, std::vector<Waiter>> waiting_;
  size_t count_ = 0;
  std::thread thread_;
};

// GET /cluster/node/{node}/spec?revision=N&timeout=25s (and the ingresses'
// /ingress/{ingress}/spec, `node` = NodeSpecWaiters::kIngresses): answers
// once a manifest of the node, or a subnet or endpoint of the cluster,
// changed after store revision N, or when the timeout (default 25 s, at
// most 60 s) passes, with the listing `body` produces. The request is parked
// in `waiters` meanwhile (no thread of its own).
http::Response longPollNodeSpec(NodeSpecWaiters& waiters, const http::Request& req,
                                std::string node, std::function<StatusOr<std::string>()> body);

// "25s", "500ms", "25" (seconds) -> milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parseWait(const std::string& text);
// A store revision given in a query ("123"); nullopt unless only digits.
std::optional<int64_t> parseRevision(const std::string& text);

// GET /namespace/{ns}/service/{svc}/logs?follow=&tail=: the output of the
// service's pods, streamed from the node agents that run them (the node
// label "lastbackend.node.host" when the node server is bound to one
// address, else their internal IP; port from the label
// "lastbackend.node.port", default 2965), with the caller's bearer token. One pod: its lines as
// they are; several: each line prefixed "[<pod>] ". 503 when no pod runs on a node.
http::Response serviceLogs(const Context& ctx, const http::Request& req, const std::string& ns,
                           const std::string& service);

// Where node `node`'s agent answers (http://ip:port, as for logs); nullopt
// when the node is unknown or has no address.
std::optional<std::string> agentEndpoint(const Context& ctx, const std::string& node);

// WebSocket /namespace/{ns}/service/{svc}/exec (handlers/exec.cc).
void serviceExec(const Context& ctx, const http::Request& req, http::WebSocketConnection& ws);

}  // namespace lb::api
