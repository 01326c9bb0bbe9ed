// The server's lifecycle: options and TLS (init), listen and threads
// (start), accept with the connection cap, and the draining stop(). The
// sessions live in http_session.h and websocket_session.h, routing in
// dispatch.cc.

#include "http/server.h"

#include <future>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "http/http_session.h"
#include "http/server_impl.h"

namespace lb::http {

namespace {

// How long stop() waits, after the drain and the forced close, for stream
// handlers to see their cancelled writer and return.
constexpr auto kStreamStopGrace = std::chrono::seconds(2);

std::string endpointString(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

SessionBase::~SessionBase() { srv_.unregisterSession(this); }

std::optional<Response> Server::Impl::reserveStream() {
  if (streams_.reserve()) return std::nullopt;
  if (metrics_) metrics_->incrementCounter(kStreamsRejectedMetric, {});
  return Response::error(unavailable("too many open streams (limit " + std::to_string(opts_.maxStreams) +
                                     "); try again later"));
}

Status Server::Impl::init() {
  auto auth = TokenAuth::create(opts_.token);
  if (!auth.isOk()) return auth.status().withContext("HTTP server");
  auth_ = *auth;
  if (opts_.ioThreads < 1 || opts_.workerThreads < 1 || opts_.maxStreams < 1) {
    return invalidArgument("HTTP server needs at least one io thread, one worker thread and one stream");
  }
  if (opts_.tlsCertFile.empty() != opts_.tlsKeyFile.empty()) {
    return invalidArgument("TLS needs both a certificate and a key file", "tls");
  }
  if (!opts_.tlsCaFile.empty() && opts_.tlsCertFile.empty()) {
    return invalidArgument("a client CA file requires a server certificate and key", "tls");
  }
  if (!opts_.tlsCertFile.empty()) {
    sslCtx_.emplace(ssl::context::tls_server);
    auto& ctx = *sslCtx_;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    beast::error_code ec;
    ctx.use_certificate_chain_file(opts_.tlsCertFile, ec);
    if (ec) return invalidArgument("load TLS certificate '" + opts_.tlsCertFile + "': " + ec.message(), "tls");
    ctx.use_private_key_file(opts_.tlsKeyFile, ssl::context::pem, ec);
    if (ec) return invalidArgument("load TLS key '" + opts_.tlsKeyFile + "': " + ec.message(), "tls");
    if (!opts_.tlsCaFile.empty()) {
      ctx.load_verify_file(opts_.tlsCaFile, ec);
      if (ec) return invalidArgument("load TLS CA '" + opts_.tlsCaFile + "': " + ec.message(), "tls");
      ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  if (metrics_) {
    metrics_->describeCounter(kRequestsMetric, "HTTP requests by route pattern, method and status code.");
    metrics_->describeHistogram(kLatencyMetric, "HTTP request latency in seconds.",
                                MetricsRegistry::defaultLatencyBuckets());
    metrics_->describeCounter(kStreamsRejectedMetric, "Streams and WebSockets refused (503) at the stream cap.");
  }
  return Status::ok();
}

Status Server::Impl::start() {
  std::lock_guard sl(stopMu_);
  if (started_) return Status(Code::kConflict, "HTTP server already started");
  beast::error_code ec;
  auto address = net::ip::make_address(opts_.address, ec);
  if (ec) return invalidArgument("bad bind address '" + opts_.address + "'", "address");
  tcp::endpoint ep(address, opts_.port);
  auto where = opts_.address + ":" + std::to_string(opts_.port);
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return unavailable("listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  workers_.emplace(static_cast<size_t>(opts_.workerThreads));
  started_ = true;
  net::dispatch(acceptor_.get_executor(), [this] { doAccept(); });
  for (int i = 0; i < opts_.ioThreads; ++i) {
    ioThreads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("HTTP io thread: unexpected exception: {}", e.what());
        }
      }
    });
  }
  spdlog::info("HTTP server listening on {}:{}{}", opts_.address, port_, sslCtx_ ? " (TLS)" : "");
  return Status::ok();
}

void Server::Impl::doAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open() || stopping_) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning on the error.
      spdlog::warn("HTTP accept failed: {}", ec.message());
      acceptRetry_.expires_after(std::chrono::milliseconds(50));
      acceptRetry_.async_wait([this](beast::error_code e) {
        if (!e) doAccept();
      });
      return;
    }
    onAccept(std::move(socket));
    doAccept();
  });
}

void Server::Impl::onAccept(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  size_t active;
  {
    std::lock_guard lock(mu_);
    active = live_.size();
  }
  if (active >= opts_.maxConnections) {
    static const std::string kBusy = [] {
      Response r = Response::error(unavailable("too many connections"));
      return "HTTP/1.1 " + std::to_string(r.status) + " Service Unavailable\r\nContent-Type: " + r.contentType +
             "\r\nConnection: close\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n\r\n" + r.body;
    }();
    auto s = std::make_shared<tcp::socket>(std::move(socket));
    net::async_write(*s, net::buffer(kBusy), [s](beast::error_code, size_t) {
      beast::error_code e;
      s->shutdown(tcp::socket::shutdown_both, e);
      s->close(e);
    });
    return;
  }
  std::string remote = endpointString(socket);
  if (sslCtx_) {
    auto s = std::make_shared<HttpSession<TlsStream>>(*this, std::move(remote), std::move(socket), *sslCtx_);
    registerSession(s);
    s->run();
  } else {
    auto s = std::make_shared<HttpSession<PlainStream>>(*this, std::move(remote), std::move(socket));
    registerSession(s);
    s->run();
  }
}

std::vector<std::shared_ptr<SessionBase>> Server::Impl::liveSessions() {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(mu_);
  for (auto& [p, w] : live_) {
    if (auto s = w.lock()) out.push_back(std::move(s));
  }
  return out;
}

// Stream/WebSocket callbacks see their writer cancelled and return; their
// threads touch this object, so they must be gone before it is. A handler
// that ignores cancellation is a bug: it is named in the log, then waited for.
void Server::Impl::waitForStreams(SteadyClock::time_point deadline) {
  if (streams_.waitAll(deadline)) return;
  spdlog::error("HTTP server on port {}: {} stream handler(s) ignore cancellation; waiting for them", port_,
                streams_.active());
  streams_.waitAll(SteadyClock::time_point::max());
}

void Server::Impl::stop(std::chrono::milliseconds drain) {
  std::lock_guard sl(stopMu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (!started_) return;
  std::promise<void> closed;
  net::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    acceptRetry_.cancel();
    closed.set_value();
  });
  closed.get_future().wait();

  for (auto& s : liveSessions()) s->onServerStop();
  auto deadline = SteadyClock::now() + drain;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [this] { return live_.empty(); })) {
      spdlog::warn("HTTP server: {} connection(s) still busy after the drain deadline; closing them",
                   live_.size());
    }
  }
  for (auto& s : liveSessions()) s->forceClose();
  workers_->join();  // handlers that are still running finish here
  waitForStreams(SteadyClock::now() + kStreamStopGrace);
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return live_.empty(); });
  }
  work_.reset();
  ioc_.stop();
  for (auto& t : ioThreads_) t.join();
  ioThreads_.clear();
  spdlog::info("HTTP server on port {} stopped", port_);
}

// ---------------------------------------------------------------------------

StatusOr<std::unique_ptr<Server>> Server::create(ServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  LB_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() {
  try {
    stop();
  } catch (const std::exception& e) {
    spdlog::error("http: stopping the server: {}", e.what());
  }
}
Router& Server::router() { return impl_->router_; }
Status Server::start() { return impl_->start(); }
uint16_t Server::port() const { return impl_->port_; }
bool Server::tls() const { return impl_->sslCtx_.has_value(); }
void Server::stop(std::chrono::milliseconds drain) { impl_->stop(drain); }

}  // namespace lb::http
