#pragma once

// A blocking Docker Engine API client over the daemon's unix socket, shared
// by the docker CRI and CII drivers. Boost.Beast HTTP/1.1 on an asio local
// stream socket: one connection per call (the daemon is local, and it keeps
// calls independent and the client thread-safe), a deadline per call, and
// streamed bodies (chunked or close-delimited) handed to a sink as they come.
// Beast/asio exceptions and errors stop here and become Status values.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cancel.h"

namespace lb::runtime::docker {

// The socket path from an explicit host, else $DOCKER_HOST, else
// /var/run/docker.sock. Accepts "unix:///path" and "/path"; tcp:// (and any
// other scheme) is kInvalidArgument: only local sockets are supported for now.
StatusOr<std::string> resolveSocket(std::string_view explicitHost);

enum class Method { kGet, kPost, kDelete, kHead };

struct Request {
  Request() = default;
  Request(Method m, std::string t) : method(m), target(std::move(t)) {}

  Method method = Method::kGet;
  std::string target;  // "/containers/json?all=1", without the version prefix
  std::string body;    // JSON, sent with Content-Type application/json
  std::vector<std::pair<std::string, std::string>> headers;
  bool versioned = true;  // prefix "/v<api>"
  // 0 = the client's default. For streams it bounds connect + headers only.
  std::chrono::milliseconds timeout{0};
  // Streams only: the whole exchange, body included, ends with
  // kDeadlineExceeded after this (exec output). 0 = the body has no limit.
  std::chrono::milliseconds streamLimit{0};
};

struct Response {
  int status = 0;    // 0 when a stream was cancelled before the daemon answered
  std::string body;  // whole body of a call; of a stream, only an error body (status >= 300)
};

// Returns false to stop reading (the stream call then returns OK).
using BodySink = std::function<bool(std::string_view)>;

// A connection the daemon has handed over to a raw byte stream both ways
// (POST /exec/{id}/start with Upgrade: tcp): what the process writes comes
// in, what is written goes to its stdin. One thread may read while another
// writes; close() from any thread ends a pending read. Closed on destruction.
class Hijacked {
 public:
  Hijacked(int fd, std::string early) : fd_(fd), early_(std::move(early)) {}
  ~Hijacked();
  Hijacked(const Hijacked&) = delete;
  Hijacked& operator=(const Hijacked&) = delete;

  // Up to `n` bytes into `buf`; 0 at the end of the stream (or once closed).
  StatusOr<size_t> read(char* buf, size_t n);
  Status write(std::string_view data);
  // No more input: the process sees the end of its stdin.
  void closeWrite();
  void close();

 private:
  int fd_;
  std::string early_;  // bytes read with the answer's header
};

class Client {
 public:
  struct Options {
    std::string socketPath;
    std::string apiVersion;  // "" = negotiate on connect()
    std::chrono::milliseconds timeout{std::chrono::seconds(60)};
    size_t maxBody = 64 << 20;  // bodies of calls (not streams)
  };

  // Checks the socket answers (GET /version) and settles the API version.
  static StatusOr<std::shared_ptr<Client>> connect(Options options);

  // One request, whole body. Transport errors: kUnavailable ("docker:
  // connect unix:///x.sock: No such file or directory"), kDeadlineExceeded.
  // HTTP error statuses are returned as responses, not errors.
  StatusOr<Response> call(const Request& request) const;

  // One request whose 2xx body goes to `sink` piece by piece as it arrives,
  // until the body ends, `sink` returns false, or `cancel` fires (all OK).
  StatusOr<Response> stream(const Request& request, const BodySink& sink,
                            CancelToken* cancel) const;

  // One request whose connection the daemon upgrades (101, or 200 from an
  // older daemon): the raw stream, or the daemon's error for any other status.
  StatusOr<std::unique_ptr<Hijacked>> hijack(const Request& request) const;

  const std::string& apiVersion() const { return apiVersion_; }
  const std::string& socketPath() const { return options_.socketPath; }
  // What GET /version said (Version, ApiVersion, Os, Arch...), as JSON text.
  const std::string& versionJson() const { return versionJson_; }

 private:
  explicit Client(Options options) : options_(std::move(options)) {}
  StatusOr<Response> exchange(const Request& request, const BodySink* sink,
                              CancelToken* cancel) const;

  Options options_;
  std::string apiVersion_;
  std::string versionJson_;
};

// client.call(), with an HTTP error status (>= 300 but 304, "already
// done") as the Status errorFromResponse() makes of it; `what` is the
// context of every error.
StatusOr<Response> callOk(const Client& client, const Request& request, const std::string& what);

}  // namespace lb::runtime::docker
