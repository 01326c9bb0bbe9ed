#pragma once

// Blocking HTTP/1.1 client for the REST API, used by every component and the
// `lb` CLI. Safe to share between threads: each request borrows a keep-alive
// connection from a small pool (one connection per concurrent request,
// returned afterwards), so 64 threads can call one Client at once.
//
//   ClientOptions o; o.endpoint = "https://127.0.0.1:2967"; o.token = "...";
//   o.caFile = "ca.pem";                      // verify the server (and its name)
//   auto c = Client::create(o);
//   StatusOr<std::string> body = (*c)->get("/namespace/demo");
//   // a non-2xx answer comes back as the server's Status (code, message, field)
//   (*c)->stream("/namespace/demo/service/web/logs", {{"follow", "true"}},
//                [](std::string_view chunk) { fwrite(...); return true; });
//
// Retries: connection failures (nothing was sent) and stale pooled
// connections are retried for every method; 503 only for idempotent ones
// (GET, HEAD, PUT, DELETE, OPTIONS), with exponential backoff.
// Beast/Asio stay in client.cc.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"
#include "lastbackend/http/message.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/runtime/cancel.h"

namespace lb::client {

struct ClientOptions {
  std::string endpoint = "http://127.0.0.1:2967";  // http:// or https://, host[:port]
  std::string token;                               // sent as "Authorization: Bearer"; may be empty

  // TLS (https:// only). The server certificate and host name are verified
  // against caFile, or the system trust store when caFile is empty, unless
  // tlsInsecure. certFile/keyFile: client certificate for mutual TLS.
  std::string caFile;
  std::string certFile;
  std::string keyFile;
  bool tlsInsecure = false;

  std::chrono::milliseconds connectTimeout{5'000};   // TCP connect + TLS handshake
  std::chrono::milliseconds requestTimeout{30'000};  // write request + read whole response
  // Max silence between chunks of a stream(); zero waits forever (log follow).
  std::chrono::milliseconds streamIdleTimeout{0};
  int maxRetries = 3;
  std::chrono::milliseconds retryBackoff{100};  // doubled per attempt, capped at 2 s
  size_t maxResponseBytes = 64u << 20;          // larger: kTooLarge
  size_t maxIdleConnections = 64;
  std::string userAgent = "lastbackend-client";
};

struct HttpResponse {
  int status = 0;
  http::Headers headers;
  std::string body;
  std::optional<std::string> header(std::string_view name) const {
    return http::findHeader(headers, name);
  }
};

class Client {
 public:
  // kInvalidArgument for a bad endpoint URL or unreadable TLS files.
  static StatusOr<std::unique_ptr<Client>> create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request; any HTTP status is a value. Errors are transport failures:
  // kUnavailable (connect/TLS/IO), kDeadlineExceeded (timeout), kTooLarge.
  // `path` is sent as given (encode names with http::percentEncode).
  StatusOr<HttpResponse> send(std::string_view method, std::string_view path,
                              const http::QueryParams& query = {}, std::string_view body = {},
                              std::string_view contentType = "application/json");

  // API call: the body of a 2xx response, or the Status the server reported.
  StatusOr<std::string> call(std::string_view method, std::string_view path,
                             const http::QueryParams& query = {}, std::string_view body = {});
  StatusOr<std::string> get(std::string_view path, const http::QueryParams& query = {}) {
    return call("GET", path, query);
  }
  StatusOr<std::string> post(std::string_view path, std::string_view body) {
    return call("POST", path, {}, body);
  }
  StatusOr<std::string> put(std::string_view path, std::string_view body) {
    return call("PUT", path, {}, body);
  }
  StatusOr<std::string> del(std::string_view path) { return call("DELETE", path); }

  // Streaming GET: calls onChunk with the body as it arrives until the
  // server ends the response (OK), onChunk returns false (OK, the connection
  // is dropped), `cancel` is cancelled (OK, at once even while the stream is
  // silent; the connection is dropped), or an error. A non-2xx answer
  // returns its Status.
  Status stream(std::string_view path, const http::QueryParams& query,
                const std::function<bool(std::string_view)>& onChunk,
                runtime::CancelToken* cancel = nullptr);

  // Pool figures, for tests and benchmarks.
  size_t idleConnections() const;
  size_t connectionsOpened() const;

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lb::client
