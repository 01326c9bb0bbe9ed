#include "runtime/docker/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "runtime/docker/wire.h"

namespace lb::runtime::docker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Stream = beast::basic_stream<asio::local::stream_protocol>;

constexpr const char* kDefaultSocket = "/var/run/docker.sock";

bhttp::verb toVerb(Method m) {
  switch (m) {
    case Method::kGet:
      return bhttp::verb::get;
    case Method::kPost:
      return bhttp::verb::post;
    case Method::kDelete:
      return bhttp::verb::delete_;
    case Method::kHead:
      return bhttp::verb::head;
  }
  return bhttp::verb::get;
}

// The HTTP request of `request` for `target`, with the JSON body if any.
bhttp::request<bhttp::string_body> httpRequest(const Request& request, const std::string& target) {
  bhttp::request<bhttp::string_body> req{toVerb(request.method), target, 11};
  req.set(bhttp::field::host, "docker");
  req.set(bhttp::field::user_agent, "lastbackend");
  for (const auto& [k, v] : request.headers) req.set(k, v);
  if (!request.body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = request.body;
  }
  req.prepare_payload();
  return req;
}

}  // namespace

StatusOr<std::string> resolveSocket(std::string_view explicitHost) {
  std::string host(explicitHost);
  std::string source = "docker host option";
  if (host.empty()) {
    const char* env = std::getenv("DOCKER_HOST");
    if (env && *env) {
      host = env;
      source = "DOCKER_HOST";
    }
  }
  if (host.empty()) return std::string(kDefaultSocket);
  if (host.starts_with("unix://")) {
    std::string path = host.substr(7);
    if (path.empty() || path[0] != '/') {
      return invalidArgument(source + " '" + host + "': a unix socket needs an absolute path");
    }
    return path;
  }
  if (host[0] == '/') return host;
  return invalidArgument(
      source + " '" + host +
      "': only unix:// sockets are supported (tcp:// and other schemes are not)");
}

StatusOr<std::shared_ptr<Client>> Client::connect(Options options) {
  std::shared_ptr<Client> client(new Client(std::move(options)));
  Request req;
  req.target = "/version";
  req.versioned = false;
  auto resp = client->call(req);
  if (!resp) return resp.status();
  if (resp->status != 200) {
    return errorFromResponse(resp->status, resp->body).withContext("GET /version");
  }
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  if (!j.is_object()) return unavailable("GET /version: the answer is not JSON");
  client->versionJson_ = resp->body;
  if (!client->options_.apiVersion.empty()) {
    ApiVersion pinned = parseApiVersion(client->options_.apiVersion);
    if (pinned == ApiVersion{}) {
      return invalidArgument("API version '" + client->options_.apiVersion +
                             "' is not of the form 1.41");
    }
    client->apiVersion_ = pinned.str();
    return client;
  }
  auto v = negotiateApiVersion(j.value("ApiVersion", ""));
  if (!v) return v.status();
  client->apiVersion_ = v->str();
  return client;
}

StatusOr<Response> Client::call(const Request& request) const {
  return exchange(request, nullptr, nullptr);
}

StatusOr<Response> callOk(const Client& client, const Request& request, const std::string& what) {
  auto resp = client.call(request);
  if (!resp) return resp.status().withContext(what);
  if (resp->status >= 300 && resp->status != 304)
    return errorFromResponse(resp->status, resp->body).withContext(what);
  return resp;
}

StatusOr<Response> Client::stream(const Request& request, const BodySink& sink,
                                  CancelToken* cancel) const {
  return exchange(request, &sink, cancel);
}

StatusOr<Response> Client::exchange(const Request& request, const BodySink* sink,
                                    CancelToken* cancel) const {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  const std::string target =
      request.versioned ? "/v" + apiVersion_ + request.target : request.target;
  const std::string what = std::string(bhttp::to_string(toVerb(request.method))) + " " + target;

  asio::io_context ioc;
  Stream stream(ioc);
  Response out;
  Status failure;
  std::atomic<bool> cancelled{false};

  auto body = [&]() -> asio::awaitable<void> {
    beast::error_code ec;
    auto onError = asio::redirect_error(asio::use_awaitable, ec);
    const auto began = std::chrono::steady_clock::now();
    const bool limited = sink != nullptr && request.streamLimit.count() > 0;
    auto fail = [&](const std::string& step) {
      if (cancelled) return;
      if (ec == beast::error::timeout) {
        auto limit = limited ? std::min(timeout, request.streamLimit) : timeout;
        failure = Status(Code::kDeadlineExceeded,
                         step + ": no answer within " + std::to_string(limit.count()) + "ms");
      } else {
        failure = unavailable(step + ": " + ec.message());
      }
    };

    stream.expires_after(limited ? std::min(timeout, request.streamLimit) : timeout);
    co_await stream.async_connect(asio::local::stream_protocol::endpoint(options_.socketPath),
                                  onError);
    if (ec) co_return fail("connect unix://" + options_.socketPath);
    if (cancelled) co_return;

    auto req = httpRequest(request, target);
    co_await bhttp::async_write(stream, req, onError);
    if (ec) co_return fail(what + ": write");

    beast::flat_buffer buf;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (request.method == Method::kHead) parser.skip(true);
    co_await bhttp::async_read_header(stream, buf, parser, onError);
    if (ec) co_return fail(what + ": read header");
    if (cancelled) co_return;
    out.status = parser.get().result_int();

    const bool streaming = sink != nullptr && out.status < 300;
    if (streaming) {
      if (limited) {
        stream.expires_at(began + request.streamLimit);
      } else {
        stream.expires_never();
      }
    }
    char tmp[16384];
    while (!parser.is_done()) {
      parser.get().body().data = tmp;
      parser.get().body().size = sizeof(tmp);
      co_await bhttp::async_read_some(stream, buf, parser, onError);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return fail(what + ": read body");
      if (cancelled) co_return;
      size_t n = sizeof(tmp) - parser.get().body().size;
      if (n == 0) continue;
      std::string_view piece(tmp, n);
      if (streaming) {
        if (!(*sink)(piece)) co_return;
      } else {
        if (out.body.size() + n > options_.maxBody) {
          failure = Status(Code::kTooLarge,
                           what + ": body over " + std::to_string(options_.maxBody) + " bytes");
          co_return;
        }
        out.body.append(piece);
      }
    }
  };

  std::exception_ptr crashed;
  asio::co_spawn(ioc, body, [&](std::exception_ptr e) { crashed = std::move(e); });
  {
    // Cancelling closes the socket from the io_context's own thread, which
    // ends whatever read is pending; the coroutine then returns.
    CancelRegistration reg(cancel, [&] {
      asio::post(ioc, [&] {
        cancelled = true;
        beast::error_code ignored;
        stream.socket().shutdown(asio::socket_base::shutdown_both, ignored);
        stream.cancel();
      });
    });
    try {
      ioc.run();
    } catch (const std::exception& e) {
      return internalError(what + ": " + e.what());
    }
  }
  if (crashed) {
    try {
      std::rethrow_exception(crashed);
    } catch (const std::exception& e) {
      // A sink that throws, or Beast on a malformed message.
      return internalError(what + ": " + e.what());
    }
  }
  if (!failure.isOk()) return failure;
  return out;
}

Hijacked::~Hijacked() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<size_t> Hijacked::read(char* buf, size_t n) {
  if (!early_.empty()) {
    const size_t k = std::min(n, early_.size());
    std::memcpy(buf, early_.data(), k);
    early_.erase(0, k);
    return k;
  }
  while (true) {
    const ssize_t got = ::recv(fd_, buf, n, 0);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    if (errno == ENOTCONN || errno == ECONNRESET) return size_t{0};
    return unavailable(std::string("docker: reading an attached stream: ") + std::strerror(errno));
  }
}

Status Hijacked::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t put = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0)
      return unavailable(std::string("docker: writing an attached stream: ") +
                         std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(put));
  }
  return Status::ok();
}

void Hijacked::closeWrite() { ::shutdown(fd_, SHUT_WR); }
void Hijacked::close() { ::shutdown(fd_, SHUT_RDWR); }

StatusOr<std::unique_ptr<Hijacked>> Client::hijack(const Request& request) const {
  const auto timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  const std::string target =
      request.versioned ? "/v" + apiVersion_ + request.target : request.target;
  const std::string what = "POST " + target;
  asio::io_context ioc;
  Stream stream(ioc);
  beast::error_code ec;
  stream.expires_after(timeout);
  stream.socket().connect(asio::local::stream_protocol::endpoint(options_.socketPath), ec);
  if (ec) return unavailable("connect unix://" + options_.socketPath + ": " + ec.message());
  auto req = httpRequest(request, target);
  req.set(bhttp::field::connection, "Upgrade");
  req.set(bhttp::field::upgrade, "tcp");
  bhttp::write(stream.socket(), req, ec);
  if (ec) return unavailable(what + ": write: " + ec.message());
  // The answer's header within the timeout (sync reads know no deadline
  // but the socket's); the stream after it has none.
  auto recvTimeout = [&](std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000),
               static_cast<suseconds_t>(t.count() % 1000 * 1000)};
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  };
  recvTimeout(timeout);
  beast::flat_buffer buf;
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);  // the body, if any, is the raw stream
  bhttp::read_header(stream.socket(), buf, parser, ec);
  if (ec) return unavailable(what + ": read header: " + ec.message());
  recvTimeout(std::chrono::milliseconds(0));
  const int status = parser.get().result_int();
  if (status != 101 && status != 200) {
    std::string body = beast::buffers_to_string(buf.data());
    return errorFromResponse(status, body).withContext(what);
  }
  std::string early = beast::buffers_to_string(buf.data());
  return std::make_unique<Hijacked>(stream.release_socket().release(), std::move(early));
}

}  // namespace lb::runtime::docker

#include "runtime/docker/open.h"

namespace lb::runtime::docker {

StatusOr<std::shared_ptr<Client>> openClient(const DockerOptions& options) {
  auto path = resolveSocket(options.host);
  if (!path) return path.status().withContext("docker");
  Client::Options o;
  o.socketPath = *path;
  o.apiVersion = options.apiVersion;
  o.timeout = options.timeout;
  auto c = Client::connect(std::move(o));
  if (!c) return c.status().withContext("docker");
  return c;
}

}  // namespace lb::runtime::docker
