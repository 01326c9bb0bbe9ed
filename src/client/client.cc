#include "client/client.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "client/url.h"
#include "lastbackend/http/errors.h"

namespace lb::client {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

StatusOr<Url> parseUrl(std::string_view s) {
  Url u;
  if (s.rfind("http://", 0) == 0) {
    s.remove_prefix(7);
  } else if (s.rfind("https://", 0) == 0) {
    u.tls = true;
    s.remove_prefix(8);
  } else {
    return invalidArgument("endpoint must start with http:// or https://", "endpoint");
  }
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  if (s.find('/') != std::string_view::npos) {
    return invalidArgument("endpoint must not have a path", "endpoint");
  }
  u.hostHeader = std::string(s);
  if (!s.empty() && s.front() == '[') {  // [v6]:port
    auto close = s.find(']');
    if (close == std::string_view::npos) return invalidArgument("bad IPv6 endpoint", "endpoint");
    u.host = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    if (!s.empty() && s.front() == ':') u.port = std::string(s.substr(1));
  } else {
    auto colon = s.rfind(':');
    u.host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(s.substr(colon + 1));
  }
  if (u.host.empty()) return invalidArgument("endpoint has no host", "endpoint");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (!std::all_of(u.port.begin(), u.port.end(), ::isdigit)) {
    return invalidArgument("bad port in endpoint", "endpoint");
  }
  return u;
}

namespace {

bool isIdempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

// Runs one asynchronous operation to completion on the connection's private
// io_context: the only way to get Beast's per-operation timeouts in a
// blocking API. `init` starts the op with the handler it is given.
template <class Init>
beast::error_code runSync(net::io_context& ioc, Init&& init) {
  beast::error_code result = net::error::would_block;
  bool done = false;
  init([&](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return result;
}

struct Connection {
  net::io_context ioc;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  template <class F>
  auto with(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }
};

// What went wrong in one attempt, and whether trying again is safe.
struct Failure {
  Status status;
  bool nothingSent = false;  // connect failed, or a stale pooled connection
};

Status transportError(const std::string& what, const beast::error_code& ec) {
  if (ec == beast::error::timeout) return Status(Code::kDeadlineExceeded, what + ": timed out");
  if (ec == bhttp::error::body_limit)
    return Status(Code::kTooLarge, what + ": response body too large");
  return unavailable(what + ": " + ec.message());
}

bool isStaleConnectionError(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

class Client::Impl {
 public:
  Impl(ClientOptions o, Url url) : opts_(std::move(o)), url_(std::move(url)) {}

  Status init() {
    if (!url_.tls) return Status::ok();
    sslCtx_.emplace(ssl::context::tls_client);
    auto& ctx = *sslCtx_;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (!opts_.caFile.empty()) {
      ctx.load_verify_file(opts_.caFile, ec);
      if (ec) return invalidArgument("load CA '" + opts_.caFile + "': " + ec.message(), "caFile");
    } else {
      ctx.set_default_verify_paths(ec);
    }
    if (opts_.certFile.empty() != opts_.keyFile.empty()) {
      return invalidArgument("a client certificate needs both certFile and keyFile", "certFile");
    }
    if (!opts_.certFile.empty()) {
      ctx.use_certificate_chain_file(opts_.certFile, ec);
      if (ec)
        return invalidArgument("load certificate '" + opts_.certFile + "': " + ec.message(),
                               "certFile");
      ctx.use_private_key_file(opts_.keyFile, ssl::context::pem, ec);
      if (ec)
        return invalidArgument("load key '" + opts_.keyFile + "': " + ec.message(), "keyFile");
    }
    ctx.set_verify_mode(opts_.tlsInsecure ? ssl::verify_none : ssl::verify_peer);
    return Status::ok();
  }

  StatusOr<HttpResponse> send(std::string_view method, std::string_view path,
                              const http::QueryParams& query, std::string_view body,
                              std::string_view contentType) {
    auto req = buildRequest(method, path, query, body, contentType);
    auto backoff = opts_.retryBackoff;
    for (int attempt = 0;; ++attempt) {
      bool last = attempt >= opts_.maxRetries;
      Failure failure;
      auto res = attemptOnce(req, failure);
      if (res) {
        if (res->status == 503 && isIdempotent(method) && !last) {
          sleepBackoff(backoff);
          continue;
        }
        return res;
      }
      if (!failure.nothingSent || last) return failure.status;
      sleepBackoff(backoff);
    }
  }

  Status stream(std::string_view path, const http::QueryParams& query,
                const std::function<bool(std::string_view)>& onChunk,
                runtime::CancelToken* cancel) {
    auto req = buildRequest("GET", path, query, {}, {});
    auto backoff = opts_.retryBackoff;
    std::unique_ptr<Connection> conn;
    for (int attempt = 0;; ++attempt) {
      Failure failure;
      conn = acquire(failure);
      if (conn) {
        conn->lowest().expires_after(opts_.requestTimeout);
        auto ec = conn->with([&](auto& s) {
          return runSync(conn->ioc, [&](auto h) { bhttp::async_write(s, req, std::move(h)); });
        });
        if (!ec) break;
        failure = {transportError("send request", ec), conn->reused && isStaleConnectionError(ec)};
      }
      if (!failure.nothingSent || attempt >= opts_.maxRetries) return failure.status;
      if (!conn || !conn->reused) sleepBackoff(backoff);
    }

    // Cancelling aborts the pending operation on this thread's io_context:
    // the posted cancel runs inside the next run_one of runSync.
    runtime::CancelRegistration onCancel(
        cancel, [c = conn.get()] { net::post(c->ioc, [c] { c->lowest().cancel(); }); });
    if (cancel && cancel->cancelled()) return Status::ok();
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);  // a follow stream has no natural end
    auto ec = conn->with([&](auto& s) {
      return runSync(conn->ioc, [&](auto h) {
        bhttp::async_read_header(s, conn->buffer, parser, std::move(h));
      });
    });
    if (ec) return transportError("read response", ec);
    int status = static_cast<int>(parser.get().result_int());
    bool ok = status >= 200 && status < 300;
    std::string errorBody;
    char buf[16384];
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof(buf);
      if (opts_.streamIdleTimeout.count() > 0) {
        conn->lowest().expires_after(opts_.streamIdleTimeout);
      } else if (ok) {
        conn->lowest().expires_never();
      }
      ec = conn->with([&](auto& s) {
        return runSync(conn->ioc, [&](auto h) {
          bhttp::async_read_some(s, conn->buffer, parser, std::move(h));
        });
      });
      if (ec == bhttp::error::need_buffer) ec = {};
      if (cancel && cancel->cancelled()) return Status::ok();  // conn dropped, not pooled
      if (ec) return transportError("read stream", ec);
      size_t n = sizeof(buf) - parser.get().body().size;
      if (n == 0) continue;
      if (!ok) {
        if (errorBody.size() + n > opts_.maxResponseBytes)
          return Status(Code::kTooLarge, "error body too large");
        errorBody.append(buf, n);
        continue;
      }
      if (!onChunk(std::string_view(buf, n))) return Status::ok();  // conn dropped, not pooled
    }
    if (!ok) return http::statusFromResponse(status, errorBody);
    if (parser.get().keep_alive()) release(std::move(conn));
    return Status::ok();
  }

  size_t idleConnections() const {
    std::lock_guard lock(mu_);
    return idle_.size();
  }
  size_t connectionsOpened() const { return opened_; }

 private:
  bhttp::request<bhttp::string_body> buildRequest(std::string_view method, std::string_view path,
                                                  const http::QueryParams& query,
                                                  std::string_view body,
                                                  std::string_view contentType) const {
    std::string target(path.empty() ? "/" : path);
    if (!query.empty())
      target += (target.find('?') == std::string::npos ? "?" : "&") + http::buildQuery(query);
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    auto verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(target);
    req.set(bhttp::field::host, url_.hostHeader);
    req.set(bhttp::field::user_agent, opts_.userAgent);
    req.set(bhttp::field::accept, "application/json");
    if (!opts_.token.empty()) req.set(bhttp::field::authorization, "Bearer " + opts_.token);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, contentType);
      req.body() = std::string(body);
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  StatusOr<HttpResponse> attemptOnce(const bhttp::request<bhttp::string_body>& req,
                                     Failure& failure) {
    auto conn = acquire(failure);
    if (!conn) return failure.status;
    conn->lowest().expires_after(opts_.requestTimeout);
    auto ec = conn->with([&](auto& s) {
      return runSync(conn->ioc, [&](auto h) { bhttp::async_write(s, req, std::move(h)); });
    });
    if (ec) {
      // A pooled connection the server closed while idle fails here or on
      // the first read; the request never reached a handler, so retry.
      failure = {transportError("send request", ec), conn->reused && isStaleConnectionError(ec)};
      return failure.status;
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(opts_.maxResponseBytes);
    ec = conn->with([&](auto& s) {
      return runSync(conn->ioc,
                     [&](auto h) { bhttp::async_read(s, conn->buffer, parser, std::move(h)); });
    });
    if (ec) {
      bool stale = conn->reused && isStaleConnectionError(ec) && parser.got_some() == false;
      failure = {transportError("read response", ec), stale};
      return failure.status;
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res)
      out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (res.keep_alive()) release(std::move(conn));
    return out;
  }

  std::unique_ptr<Connection> acquire(Failure& failure) {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        c->reused = true;
        return c;
      }
    }
    auto c = std::make_unique<Connection>();
    std::string where = url_.host + ":" + url_.port;
    tcp::resolver resolver(c->ioc);
    tcp::resolver::results_type endpoints;
    beast::error_code ec;
    bool done = false;
    resolver.async_resolve(url_.host, url_.port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             done = true;
                           });
    c->ioc.restart();
    while (!done && c->ioc.run_one() > 0) {
    }
    if (ec) {
      failure = {unavailable("resolve " + url_.host + ": " + ec.message()), true};
      return nullptr;
    }
    if (sslCtx_) {
      c->tls.emplace(c->ioc, *sslCtx_);
    } else {
      c->plain.emplace(c->ioc);
    }
    c->lowest().expires_after(opts_.connectTimeout);
    ec = runSync(c->ioc, [&](auto h) { c->lowest().async_connect(endpoints, std::move(h)); });
    if (ec) {
      failure = {transportError("connect to " + where, ec), true};
      return nullptr;
    }
    beast::error_code ignored;
    c->lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (c->tls) {
      beast::error_code addrEc;
      net::ip::make_address(url_.host, addrEc);
      if (addrEc && !SSL_set_tlsext_host_name(c->tls->native_handle(), url_.host.c_str())) {
        failure = {unavailable("TLS: cannot set SNI host name"), true};
        return nullptr;
      }
      if (!opts_.tlsInsecure) c->tls->set_verify_callback(ssl::host_name_verification(url_.host));
      c->lowest().expires_after(opts_.connectTimeout);
      ec = runSync(
          c->ioc, [&](auto h) { c->tls->async_handshake(ssl::stream_base::client, std::move(h)); });
      if (ec) {
        // The handshake may have reached the server: not "nothing sent", but
        // no request was, so a retry is still safe.
        failure = {transportError("TLS handshake with " + where, ec), true};
        if (ec.category() == net::error::get_ssl_category())
          failure.nothingSent = false;  // a verdict, not a blip
        return nullptr;
      }
    }
    ++opened_;
    return c;
  }

  void release(std::unique_ptr<Connection> c) {
    c->buffer.clear();
    std::lock_guard lock(mu_);
    if (idle_.size() < opts_.maxIdleConnections) idle_.push_back(std::move(c));
  }

  void sleepBackoff(std::chrono::milliseconds& backoff) {
    thread_local std::mt19937 rng{std::random_device{}()};
    auto jitter =
        std::uniform_int_distribution<long>(0, std::max<long>(1, backoff.count() / 4))(rng);
    std::this_thread::sleep_for(backoff + std::chrono::milliseconds(jitter));
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(2));
  }

  ClientOptions opts_;
  Url url_;
  std::optional<ssl::context> sslCtx_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::atomic<size_t> opened_{0};
};

StatusOr<std::unique_ptr<Client>> Client::create(ClientOptions options) {
  auto url = parseUrl(options.endpoint);
  if (!url.isOk()) return url.status();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*url));
  LB_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

StatusOr<HttpResponse> Client::send(std::string_view method, std::string_view path,
                                    const http::QueryParams& query, std::string_view body,
                                    std::string_view contentType) {
  return impl_->send(method, path, query, body, contentType);
}

StatusOr<std::string> Client::call(std::string_view method, std::string_view path,
                                   const http::QueryParams& query, std::string_view body) {
  auto res = send(method, path, query, body);
  if (!res.isOk()) return res.status();
  if (res->status < 200 || res->status >= 300)
    return http::statusFromResponse(res->status, res->body);
  return std::move(res->body);
}

Status Client::stream(std::string_view path, const http::QueryParams& query,
                      const std::function<bool(std::string_view)>& onChunk,
                      runtime::CancelToken* cancel) {
  return impl_->stream(path, query, onChunk, cancel);
}

size_t Client::idleConnections() const { return impl_->idleConnections(); }
size_t Client::connectionsOpened() const { return impl_->connectionsOpened(); }

}  // namespace lb::client
