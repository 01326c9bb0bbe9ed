#pragma once

// The HTTP/1.1 (+TLS, +WebSocket) server engine under the REST API.
//
// Threads: `ioThreads` run all socket I/O (Asio); handlers run on a pool of
// `workerThreads` so a slow store call never stalls I/O; streaming and
// WebSocket handlers each get a thread of their own because they live as
// long as the client listens (at most `maxStreams`, each joined by stop());
// a parked request (Response::later, the long-poll) holds neither a thread
// nor a worker. Beast/Asio stay in the .cc files and the private headers
// (server_impl.h, http_session.h, websocket_session.h): pimpl.
//
// Usage:
//   ServerOptions o; o.port = 0; o.token = "secret";
//   auto s = Server::create(o);                 // validates options, loads TLS files
//   (*s)->router().get("/health", h, {.isPublic = true});
//   (*s)->start();  (*s)->port();  ...  (*s)->stop();

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/metrics_registry.h"
#include "http/router.h"
#include "lastbackend/common/status.h"

namespace lb::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 2967;  // 0: pick a free port, read it back with Server::port()
  int ioThreads = 2;
  int workerThreads = 8;

  // Required and non-empty: requests to non-public routes must present it.
  std::string token;

  // TLS when both are set. With a CA file, clients must present a
  // certificate signed by it (mutual TLS).
  std::string tlsCertFile;
  std::string tlsKeyFile;
  std::string tlsCaFile;

  size_t maxBodyBytes = 8u << 20;    // larger bodies: 413 before the body is read
  size_t maxHeaderBytes = 16u << 10;  // larger headers: 431
  // More: 503 and close. Parked long-polls (Response::later) count, so this
  // bounds waiting nodes too; each costs a socket, no thread.
  size_t maxConnections = 16384;
  // Whole request head (and TLS handshake) must arrive within this — a
  // trickling client cannot hold a connection by sending a byte a minute.
  std::chrono::milliseconds headerTimeout{10'000};
  // Streams and WebSockets open at once (each holds a thread). More: 503
  // with "too many open streams", counted in kStreamsRejectedMetric.
  size_t maxStreams = 1024;
  std::chrono::milliseconds bodyTimeout{60'000};   // whole body
  std::chrono::milliseconds idleTimeout{60'000};   // keep-alive wait for the next request
  std::chrono::milliseconds writeTimeout{30'000};  // each response / chunk write

  // Optional: where request counters and latencies go. The server also uses
  // describe* on it. Shared so the API can render it on /metrics.
  std::shared_ptr<MetricsRegistry> metrics;
};

class Server {
 public:
  // kInvalidArgument for an empty token or half a TLS configuration;
  // kInvalidArgument (with the file in the message) when TLS files fail to load.
  static StatusOr<std::unique_ptr<Server>> create(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Register routes here before start(); the table is read-only afterwards.
  Router& router();

  // Binds, listens and starts the threads. kUnavailable when the address
  // cannot be bound. Not restartable after stop().
  Status start();

  // The bound port (after start()).
  uint16_t port() const;
  bool tls() const;

  // Stops accepting, closes idle keep-alive connections, cancels streams and
  // WebSockets, lets in-flight requests finish for up to `drain`, then
  // closes what is left and joins all threads. Idempotent; the destructor
  // calls it.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds(10));

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Request metrics the server records (names for dashboards and tests).
inline constexpr char kRequestsMetric[] = "lb_http_requests_total";
inline constexpr char kLatencyMetric[] = "lb_http_request_duration_seconds";
inline constexpr char kStreamsRejectedMetric[] = "lb_http_streams_rejected_total";

// The method as a metrics label: GET, POST, PUT, PATCH, DELETE, HEAD,
// OPTIONS or "other", so a client sending made-up methods cannot grow the
// label space (unauthenticated answers are recorded too).
std::string_view methodLabel(std::string_view method);

}  // namespace lb::http
