#pragma once

// The value types handlers see: no Beast/Asio here, so handler code compiles
// without the heavy networking headers.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; nullopt when absent.
std::optional<std::string> findHeader(const Headers& headers, std::string_view name);

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // request target, e.g. "/namespace/demo?x=1" (any token removed)
  std::string path;    // raw (still encoded) path part of target
  std::map<std::string, std::string> query;   // decoded; the auth token is removed
  std::map<std::string, std::string> params;  // decoded path params from the route pattern
  Headers headers;
  std::string body;
  std::string route;          // the matched pattern, e.g. "/namespace/{namespace}"
  std::string remoteAddress;  // "ip:port"

  // Path parameter, or "" when the route has none by that name.
  const std::string& param(const std::string& name) const;
  std::optional<std::string> queryParam(const std::string& name) const;
  std::optional<std::string> header(std::string_view name) const {
    return findHeader(headers, name);
  }
};

// Given to a streaming handler. Runs on a dedicated thread, not an io thread,
// so the callback may block between writes (e.g. waiting for new log lines).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends one chunk (an empty one is ignored). Blocks until written; false
  // when the client went away, the write timed out or the server is stopping:
  // the callback should then return.
  virtual bool write(std::string_view chunk) = 0;
  // True once writing is pointless (peer gone or server stopping); lets a
  // callback that waits for data poll without writing.
  virtual bool cancelled() const = 0;
  // Runs `fn` once when the stream is cancelled (peer gone, write failed,
  // server stopping), at once when it already is: a callback blocked on a
  // quiet source (a proxied stream, a log follow) registers what unblocks it.
  // `fn` runs on a server thread and must not block. Returns an id for
  // removeOnCancel, which must be called before what `fn` captures dies.
  virtual uint64_t onCancel(std::function<void()> fn) = 0;
  virtual void removeOnCancel(uint64_t id) = 0;
};
using StreamCallback = std::function<void(StreamWriter&)>;

struct Response;

// The answer to a parked request (Response::later): a long-poll waits with no
// thread of its own, and whoever sees the awaited change answers it.
class Responder {
 public:
  virtual ~Responder() = default;
  // Answers the request; only the first answer (of either kind) counts.
  // Thread-safe, never blocks: the write happens on the connection's strand.
  virtual void respond(Response response) = 0;
  // Runs `make` on a handler worker and answers with its result (for answers
  // that read the store: the caller, e.g. a watch thread, does not wait).
  virtual void respondFrom(std::function<Response()> make) = 0;
  // True once an answer is pointless: the client went away, the server is
  // stopping, or the request was answered. The holder may then drop it.
  virtual bool cancelled() const = 0;
};
using DeferredCallback = std::function<void(std::shared_ptr<Responder>)>;

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  Headers headers;
  // When set, the response is streamed with chunked encoding: `stream` runs
  // until it returns, then the connection is closed. `body` is ignored.
  StreamCallback stream;
  // When set, the request is parked: the connection keeps no thread and no
  // worker, `deferred` is called once (on the connection's strand; it must
  // not block) with the Responder that answers it later. The connection then
  // continues (keep-alive). Whoever holds the Responder owns the timeout.
  DeferredCallback deferred;

  static Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static Response text(int status, std::string body) {
    Response r;
    r.status = status;
    r.contentType = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
  }
  // The JSON error body of errors.h with the mapped HTTP status.
  static Response error(const Status& status);
  static Response later(DeferredCallback cb) {
    Response r;
    r.deferred = std::move(cb);
    return r;
  }
  static Response streaming(StreamCallback cb,
                            std::string contentType = "text/plain; charset=utf-8") {
    Response r;
    r.contentType = std::move(contentType);
    r.stream = std::move(cb);
    return r;
  }
};

using Handler = std::function<Response(const Request&)>;

// A server-side WebSocket. The handler runs on a dedicated thread before the
// upgrade is answered, so it can fix its starting point (say, a store
// revision) before the client sees the connection open; it then calls
// accept(), or just sends, and pushes text frames until it returns or the
// peer goes away. A duplex handler (keepMessages) also reads the peer's.
class WebSocketConnection {
 public:
  virtual ~WebSocketConnection() = default;
  // Answers the upgrade (101); blocks until sent. Idempotent; the first
  // sendText() and the handler's return call it too. False when the
  // connection is gone.
  virtual bool accept() = 0;
  // Sends one text frame; blocks until written. False when the connection is
  // closed (peer gone, server stopping): the handler should return.
  virtual bool sendText(std::string_view message) = 0;
  // Sends one binary frame, as sendText.
  virtual bool sendBinary(std::string_view message) = 0;
  // False once the peer closed or the server is stopping.
  virtual bool isOpen() const = 0;

  // From now on the peer's messages are kept for receive() (otherwise they
  // are read and dropped): at most kKeptMessages wait, and reading pauses
  // while that many do. Call it before accept() so that none is missed.
  static constexpr size_t kKeptMessages = 64;
  virtual void keepMessages() = 0;
  // The peer's next message (text or binary), blocking (accepting first);
  // nullopt once the connection is closed (by the peer, the server, or
  // close()).
  virtual std::optional<std::string> receive() = 0;
  // Closes the connection (normal closure) from any thread.
  virtual void close() = 0;
};
using WebSocketHandler = std::function<void(const Request&, WebSocketConnection&)>;

}  // namespace lb::http
