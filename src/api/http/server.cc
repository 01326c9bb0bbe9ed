#include "api/http/server.h"

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <sys/socket.h>
#include <cerrno>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/http/auth.h"
#include "lastbackend/http/errors.h"
#include "lastbackend/http/uri.h"

namespace lb::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class S>
constexpr bool kIsTls = std::is_same_v<S, TlsStream>;

constexpr char kServerName[] = "lastbackend";
constexpr size_t kLingerBytes = 1u << 20;
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr auto kTlsShutdownTime = std::chrono::seconds(1);

// Errors without an lb::Code of their own (405, 431) keep the same JSON shape.
Response httpError(int status, const char* name, const std::string& message) {
  nlohmann::json j{{"code", status}, {"status", name}, {"message", message}};
  return Response::json(status, j.dump());
}

bool isHttpParseError(const beast::error_code& ec) {
  static const auto& cat = bhttp::make_error_code(bhttp::error::bad_target).category();
  return &ec.category() == &cat;
}

std::string endpointString(const tcp::socket& s) {
  beast::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// What the router and auth decided from the request head alone.
struct Dispatch {
  Request request;
  const Route* route = nullptr;
  std::optional<Response> immediate;  // answer without calling a handler
};

}  // namespace

// Base of every connection the server tracks for stop().
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  explicit SessionBase(Server::Impl& srv) : srv_(srv) {}
  virtual ~SessionBase();
  // Both post onto the session's strand; callable from any thread.
  virtual void onServerStop() = 0;
  virtual void forceClose() = 0;

 protected:
  Server::Impl& srv_;
};

class Server::Impl {
 public:
  explicit Impl(ServerOptions o)
      : opts_(std::move(o)),
        metrics_(opts_.metrics),
        work_(net::make_work_guard(ioc_)),
        acceptor_(net::make_strand(ioc_)),
        acceptRetry_(acceptor_.get_executor()) {}

  Status init();
  Status start();
  void stop(std::chrono::milliseconds drain);

  void registerSession(const std::shared_ptr<SessionBase>& s) {
    std::lock_guard lock(mu_);
    live_[s.get()] = s;
  }
  void unregisterSession(SessionBase* s) {
    std::lock_guard lock(mu_);
    live_.erase(s);
    cv_.notify_all();
  }
  // Runs a long-lived stream/WebSocket callback on its own thread; stop()
  // waits for all of them, so `fn` must return once its writer reports false.
  void spawnLongLived(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      ++longLived_;
    }
    std::thread([this, fn = std::move(fn)]() mutable {
      {
        auto f = std::move(fn);
        f();
      }  // captured sessions are released while stop() still waits for us
      std::lock_guard lock(mu_);
      --longLived_;
      cv_.notify_all();
    }).detach();
  }
  template <class F>
  void runOnWorker(F&& f) {
    net::post(*workers_, std::forward<F>(f));
  }

  Dispatch route(const bhttp::request<bhttp::string_body>& head, std::string remote, bool upgrade) const;
  Response invoke(const Route& route, const Request& request) const;
  void record(const std::string& method, const std::string& route, int status,
              SteadyClock::time_point start) const;

  ServerOptions opts_;
  Router router_;
  std::optional<TokenAuth> auth_;
  std::shared_ptr<MetricsRegistry> metrics_;
  std::optional<ssl::context> sslCtx_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> live_;
  size_t longLived_ = 0;

  // Declared after the bookkeeping above: sessions still queued in the
  // io_context are destroyed with it and unregister themselves.
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  tcp::acceptor acceptor_;
  net::steady_timer acceptRetry_;
  std::optional<net::thread_pool> workers_;
  std::vector<std::thread> ioThreads_;
  uint16_t port_ = 0;

  std::mutex stopMu_;
  bool started_ = false;
  bool stopped_ = false;

 private:
  void doAccept();
  void onAccept(tcp::socket socket);
};

SessionBase::~SessionBase() { srv_.unregisterSession(this); }

namespace {

template <class Stream>
auto& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// ---------------------------------------------------------------------------
// WebSocket connection (after the upgrade).

template <class Stream>
class WsSession : public SessionBase, public WebSocketConnection {
 public:
  WsSession(Server::Impl& srv, Stream&& stream, Request request, WebSocketHandler handler)
      : SessionBase(srv),
        ws_(std::move(stream)),
        request_(std::move(request)),
        handler_(std::move(handler)) {}

  void start(bhttp::request<bhttp::string_body> req, SteadyClock::time_point started) {
    lowest(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(bhttp::field::server, kServerName); }));
    ws_.read_message_max(64 * 1024);
    upgrade_ = std::move(req);
    started_ = started;
    srv_.spawnLongLived([self = self()] {
      try {
        self->handler_(self->request_, *self);
      } catch (const std::exception& e) {
        spdlog::error("websocket handler for {} threw: {}", self->request_.route, e.what());
      } catch (...) {
        spdlog::error("websocket handler for {} threw", self->request_.route);
      }
      self->accept();
      net::post(self->ws_.get_executor(), [self] { self->closeNormally(websocket::close_code::normal); });
    });
  }

  bool accept() override {
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    net::post(ws_.get_executor(), [self = self(), done] {
      if (self->acceptState_ != AcceptState::kNone) {
        done->set_value(self->open_);
        return;
      }
      if (self->srv_.stopping_) {
        self->acceptState_ = AcceptState::kDone;
        beast::error_code ec;
        lowest(self->ws_).socket().close(ec);
        done->set_value(false);
        return;
      }
      self->acceptState_ = AcceptState::kPending;
      self->ws_.async_accept(self->upgrade_, [self, done](beast::error_code ec) {
        self->acceptState_ = AcceptState::kDone;
        self->srv_.record("GET", self->request_.route, ec ? 400 : 101, self->started_);
        if (!ec) {
          self->open_ = true;
          self->doRead();
        }
        done->set_value(!ec);
      });
    });
    return fut.get();
  }

  bool sendText(std::string_view message) override {
    if (!accept() || !open_) return false;
    auto data = std::make_shared<std::string>(message);
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    net::post(ws_.get_executor(), [self = self(), data, done] {
      if (!self->open_ || self->closeSent_) {
        done->set_value(false);
        return;
      }
      self->ws_.text(true);
      self->ws_.async_write(net::buffer(*data), [self, data, done](beast::error_code ec, size_t) {
        if (ec) self->open_ = false;
        done->set_value(!ec);
      });
    });
    return fut.get();
  }
  bool isOpen() const override { return open_ && !srv_.stopping_; }

  void onServerStop() override {
    net::post(ws_.get_executor(), [self = self()] { self->closeNormally(websocket::close_code::going_away); });
  }
  void forceClose() override {
    net::post(ws_.get_executor(), [self = self()] {
      self->open_ = false;
      beast::error_code ec;
      lowest(self->ws_).socket().close(ec);
    });
  }

 private:
  std::shared_ptr<WsSession> self() { return std::static_pointer_cast<WsSession>(shared_from_this()); }

  // Keeps a read pending: Beast answers pings and notices the peer's close
  // only while reading. Incoming messages are ignored (push-only channel).
  void doRead() {
    ws_.async_read(buffer_, [self = self()](beast::error_code ec, size_t n) {
      if (ec) {
        self->open_ = false;
        return;
      }
      self->buffer_.consume(n);
      self->doRead();
    });
  }

  void closeNormally(websocket::close_code code) {
    if (acceptState_ != AcceptState::kDone || !open_) {
      // Not (or no longer) a WebSocket: a pending accept fails with the socket.
      open_ = false;
      beast::error_code ec;
      lowest(ws_).socket().close(ec);
      return;
    }
    if (closeSent_ || !ws_.is_open()) {
      open_ = false;
      return;
    }
    closeSent_ = true;
    open_ = false;
    lowest(ws_).expires_after(std::chrono::seconds(2));
    ws_.async_close(code, [self = self()](beast::error_code) {});
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
  Request request_;
  WebSocketHandler handler_;
  bhttp::request<bhttp::string_body> upgrade_;
  SteadyClock::time_point started_;
  enum class AcceptState { kNone, kPending, kDone };
  AcceptState acceptState_ = AcceptState::kNone;  // strand only
  std::atomic<bool> open_{false};
  bool closeSent_ = false;  // strand only
};

// ---------------------------------------------------------------------------
// One HTTP/1.1 connection: reads requests in a keep-alive loop, hands them to
// the worker pool, writes responses, streams, or upgrades to a WebSocket.

template <class Stream>
class HttpSession : public SessionBase {
 public:
  template <class... Args>
  HttpSession(Server::Impl& srv, std::string remote, Args&&... args)
      : SessionBase(srv), stream_(std::forward<Args>(args)...), remote_(std::move(remote)),
        timer_(stream_.get_executor()) {}

  void run() {
    net::dispatch(stream_.get_executor(), [self = self()] { self->begin(); });
  }

  void onServerStop() override {
    net::post(stream_.get_executor(), [self = self()] {
      if (self->handedOff_ || self->closed_) return;
      if (self->parked_) {
        // A parked request is answered now, so its client retries elsewhere.
        return self->unpark(Response::error(unavailable("the server is stopping")));
      }
      if (self->streamCancelled_) self->streamCancelled_->store(true);
      // An idle connection (waiting for a request or a TLS handshake) is cut
      // now; a busy one finishes its response and then closes (doRead checks).
      if (!self->busy_) lowest(self->stream_).cancel();
    });
  }
  void forceClose() override {
    net::post(stream_.get_executor(), [self = self()] {
      if (self->handedOff_) return;
      if (self->streamCancelled_) self->streamCancelled_->store(true);
      self->dropPark();
      self->closed_ = true;
      beast::error_code ec;
      lowest(self->stream_).socket().close(ec);
    });
  }

 private:
  class Writer : public StreamWriter {
   public:
    explicit Writer(std::shared_ptr<HttpSession> s) : s_(std::move(s)), cancelled_(s_->streamCancelled_) {}
    bool write(std::string_view chunk) override {
      if (cancelled()) return false;
      if (chunk.empty()) return true;
      return s_->writeChunk(std::make_shared<std::string>(chunk));
    }
    bool cancelled() const override { return cancelled_->load() || s_->srv_.stopping_; }

   private:
    std::shared_ptr<HttpSession> s_;
    std::shared_ptr<std::atomic<bool>> cancelled_;
  };

  // Answers a parked request (Response::later) from any thread.
  class ParkedResponder : public Responder {
   public:
    ParkedResponder(const std::shared_ptr<HttpSession>& s, std::shared_ptr<std::atomic<bool>> gone)
        : s_(s), gone_(std::move(gone)) {}
    void respond(Response r) override {
      if (answered_.exchange(true)) return;
      auto s = s_.lock();
      if (!s) return;
      net::post(s->stream_.get_executor(), [s, r = std::move(r)]() mutable { s->unpark(std::move(r)); });
    }
    void respondFrom(std::function<Response()> make) override {
      if (answered_.exchange(true)) return;
      auto s = s_.lock();
      if (!s) return;
      s->srv_.runOnWorker([s, make = std::move(make)] {
        Response r;
        try {
          r = make();
        } catch (const std::exception& e) {
          spdlog::error("deferred answer for {} threw: {}", s->routeLabel_, e.what());
          r = Response::error(internalError("internal server error"));
        }
        net::post(s->stream_.get_executor(), [s, r = std::move(r)]() mutable { s->unpark(std::move(r)); });
      });
    }
    bool cancelled() const override { return answered_.load() || gone_->load() || s_.expired(); }

   private:
    std::weak_ptr<HttpSession> s_;
    std::shared_ptr<std::atomic<bool>> gone_;
    std::atomic<bool> answered_{false};
  };

  std::shared_ptr<HttpSession> self() { return std::static_pointer_cast<HttpSession>(shared_from_this()); }

  void begin() {
    if constexpr (kIsTls<Stream>) {
      lowest(stream_).expires_after(srv_.opts_.headerTimeout);
      stream_.async_handshake(ssl::stream_base::server, [self = self()](beast::error_code ec) {
        if (ec) {
          spdlog::debug("TLS handshake with {} failed: {}", self->remote_, ec.message());
          return self->closeSocket();
        }
        self->doRead();
      });
    } else {
      doRead();
    }
  }

  void doRead() {
    busy_ = false;
    if (srv_.stopping_) return doClose();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(srv_.opts_.maxHeaderBytes));
    parser_->body_limit(srv_.opts_.maxBodyBytes);
    lowest(stream_).expires_after(first_ ? srv_.opts_.headerTimeout : srv_.opts_.idleTimeout);
    first_ = false;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = self()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    busy_ = true;
    started_ = SteadyClock::now();
    method_ = "UNKNOWN";
    routeLabel_ = "unmatched";
    version_ = 11;
    if (ec) return onReadError(ec);
    auto& head = parser_->get();
    method_ = std::string(head.method_string());
    version_ = head.version();
    keepAlive_ = head.keep_alive();
    bool upgrade = websocket::is_upgrade(head);
    dispatch_ = srv_.route(head, remote_, upgrade);
    if (dispatch_.route) routeLabel_ = dispatch_.route->info.pattern;
    if (dispatch_.immediate) {
      // Not reading an unwanted body (e.g. an unauthenticated 8 MiB upload):
      // answer and close instead.
      bool bodyPending = !parser_->is_done();
      return writeResponse(std::move(*dispatch_.immediate), bodyPending, bodyPending);
    }
    if (upgrade && dispatch_.route->info.websocket) return upgradeToWebSocket();
    if (!parser_->is_done() && beast::iequals(head[bhttp::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      lowest(stream_).expires_after(srv_.opts_.writeTimeout);
      return net::async_write(stream_, net::buffer(kContinue),
                              [self = self()](beast::error_code ec, size_t) {
                                if (ec) return self->doClose();
                                self->readBody();
                              });
    }
    readBody();
  }

  void readBody() {
    if (parser_->is_done()) return onBody({});
    lowest(stream_).expires_after(srv_.opts_.bodyTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = self()](beast::error_code ec, size_t) { self->onBody(ec); });
  }

  void onBody(beast::error_code ec) {
    if (ec) return onReadError(ec);
    dispatch_.request.body = std::move(parser_->get().body());
    parser_.reset();
    auto route = dispatch_.route;
    srv_.runOnWorker([self = self(), route, req = std::move(dispatch_.request)]() mutable {
      Response res = self->srv_.invoke(*route, req);
      net::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
        self->writeResponse(std::move(res), false, false);
      });
    });
  }

  void onReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return writeResponse(Response::error(Status(Code::kTooLarge, "request body exceeds " +
                                                  std::to_string(srv_.opts_.maxBodyBytes) + " bytes")),
                           true, true);
    }
    if (ec == bhttp::error::header_limit) {
      return writeResponse(httpError(431, "TooLarge", "request header too large"), true, true);
    }
    // A clean EOF between requests, a timeout or a reset: nothing to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        !isHttpParseError(ec)) {
      return doClose();
    }
    writeResponse(Response::error(invalidArgument("malformed HTTP request: " + ec.message())), true, true);
  }

  void upgradeToWebSocket() {
    handedOff_ = true;
    auto ws = std::make_shared<WsSession<Stream>>(srv_, std::move(stream_), std::move(dispatch_.request),
                                                  dispatch_.route->wsHandler);
    srv_.registerSession(ws);
    ws->start(parser_->release(), started_);
  }

  void writeResponse(Response r, bool closeAfter, bool linger) {
    if (closed_) return;
    if (r.stream) return startStream(std::move(r));
    if (r.deferred) return park(std::move(r.deferred));
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, kServerName);
    if (!r.body.empty() || !r.contentType.empty()) res->set(bhttp::field::content_type, r.contentType);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keepAlive_ && !closeAfter && !srv_.stopping_);
    res->prepare_payload();
    lowest(stream_).expires_after(srv_.opts_.writeTimeout);
    int status = r.status;
    bhttp::async_write(stream_, *res, [self = self(), res, status, linger](beast::error_code ec, size_t) {
      self->srv_.record(self->method_, self->routeLabel_, status, self->started_);
      spdlog::debug("{} {} {} -> {}", self->remote_, self->method_, self->routeLabel_, status);
      if (ec) return self->closeSocket();
      if (!res->keep_alive()) return linger ? self->lingerClose() : self->doClose();
      self->doRead();
    });
  }

  // Closing a socket with unread input makes the kernel send a RST, which
  // can destroy the error response we just wrote before the client reads it.
  // So: half-close, drain (bounded) until the client closes, then close.
  void lingerClose() {
    beast::error_code ec;
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    lingerDeadline_ = SteadyClock::now() + kLingerTime;
    lingerLeft_ = kLingerBytes;
    drain();
  }
  void drain() {
    auto buf = std::make_shared<std::array<char, 16384>>();
    lowest(stream_).expires_at(lingerDeadline_);
    lowest(stream_).async_read_some(net::buffer(*buf), [self = self(), buf](beast::error_code ec, size_t n) {
      if (ec || n >= self->lingerLeft_) return self->closeSocket();
      self->lingerLeft_ -= n;
      self->drain();
    });
  }

  // --- parked requests (Response::later) -------------------------------
  // No thread and no worker wait: the session holds itself (parkedSelf_)
  // until the Responder answers, the peer goes away or the server stops.

  void park(DeferredCallback cb) {
    if (srv_.stopping_) return writeResponse(Response::error(unavailable("the server is stopping")), true, false);
    parked_ = true;
    parkedSelf_ = self();
    parkGone_ = std::make_shared<std::atomic<bool>>(false);
    lowest(stream_).expires_never();
    watchParkedPeer();
    auto responder = std::make_shared<ParkedResponder>(self(), parkGone_);
    try {
      cb(responder);
    } catch (const std::exception& e) {
      spdlog::error("deferred handler for {} threw: {}", routeLabel_, e.what());
      responder->respond(Response::error(internalError("internal server error")));
    }
  }

  // Waits for the socket to become readable without reading: EOF (or an
  // error) means the client is gone; bytes (a pipelined request, TLS data)
  // stay in the socket for the next read.
  void watchParkedPeer() {
    lowest(stream_).socket().async_wait(tcp::socket::wait_read, [self = self()](beast::error_code ec) {
      if (!self->parked_ || ec == net::error::operation_aborted) return;
      if (!ec) {
        char c;
        ssize_t n = ::recv(lowest(self->stream_).socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // data waits for the next request read
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return self->watchParkedPeer();
      }
      self->dropPark();
      self->closeSocket();
    });
  }

  void unpark(Response r) {
    if (!parked_) return;
    if (closed_) return dropPark();
    auto keep = std::move(parkedSelf_);
    parked_ = false;
    parkGone_->store(true);
    beast::error_code ec;
    lowest(stream_).socket().cancel(ec);  // the peer watch
    if (r.deferred || r.stream) r = Response::error(internalError("a deferred answer cannot defer again"));
    writeResponse(std::move(r), false, false);
  }

  void dropPark() {
    if (!parked_) return;
    parked_ = false;
    parkGone_->store(true);
    parkedSelf_.reset();
  }

  // --- streaming --------------------------------------------------------

  void startStream(Response r) {
    streamCancelled_ = std::make_shared<std::atomic<bool>>(false);
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, kServerName);
    res->set(bhttp::field::content_type, r.contentType);
    for (auto& [k, v] : r.headers) res->insert(k, v);
    res->chunked(true);
    // The connection ends with the stream: no request can follow, so a read
    // can watch for the client going away without eating a next request.
    res->keep_alive(false);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    lowest(stream_).expires_after(srv_.opts_.writeTimeout);
    int status = r.status;
    bhttp::async_write_header(
        stream_, *sr, [self = self(), res, sr, status, cb = std::move(r.stream)](beast::error_code ec, size_t) mutable {
          self->srv_.record(self->method_, self->routeLabel_, status, self->started_);
          if (ec) return self->closeSocket();
          lowest(self->stream_).expires_never();
          self->watchPeer();
          self->srv_.spawnLongLived([self, cb = std::move(cb)] {
            Writer w(self);
            try {
              cb(w);
            } catch (const std::exception& e) {
              spdlog::error("stream handler for {} threw: {}", self->routeLabel_, e.what());
            } catch (...) {
              spdlog::error("stream handler for {} threw", self->routeLabel_);
            }
            net::post(self->stream_.get_executor(), [self] { self->finishStream(); });
          });
        });
  }

  void watchPeer() {
    auto buf = std::make_shared<std::array<char, 512>>();
    lowest(stream_).socket().async_read_some(net::buffer(*buf), [self = self(), buf](beast::error_code ec, size_t) {
      if (ec) {
        self->streamCancelled_->store(true);
        return;
      }
      self->watchPeer();
    });
  }

  // Called from the stream thread; blocks until the chunk is on the wire.
  bool writeChunk(std::shared_ptr<std::string> data) {
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    net::post(stream_.get_executor(), [self = self(), data, done] {
      if (self->closed_ || self->streamCancelled_->load()) {
        done->set_value(false);
        return;
      }
      self->armWriteTimer();
      net::async_write(self->stream_, bhttp::make_chunk(net::buffer(*data)),
                       [self, data, done](beast::error_code ec, size_t) {
                         self->timer_.cancel();
                         if (ec) self->streamCancelled_->store(true);
                         done->set_value(!ec);
                       });
    });
    return fut.get();
  }

  // A per-write deadline independent of tcp_stream's, which the peer watch
  // read shares: a client that stops reading cannot pin the stream thread.
  void armWriteTimer() {
    timer_.expires_after(srv_.opts_.writeTimeout);
    timer_.async_wait([self = self()](beast::error_code ec) {
      if (ec) return;
      self->streamCancelled_->store(true);
      beast::error_code ignored;
      lowest(self->stream_).socket().close(ignored);
    });
  }

  void finishStream() {
    if (closed_ || !lowest(stream_).socket().is_open()) return closeSocket();
    armWriteTimer();
    net::async_write(stream_, bhttp::make_chunk_last(), [self = self()](beast::error_code, size_t) {
      self->timer_.cancel();
      self->doClose();
    });
  }

  // --- closing ----------------------------------------------------------

  void doClose() {
    if (closed_) return;
    closed_ = true;
    if constexpr (kIsTls<Stream>) {
      lowest(stream_).expires_after(kTlsShutdownTime);
      stream_.async_shutdown([self = self()](beast::error_code) { self->closeSocket(); });
    } else {
      closeSocket();
    }
  }
  void closeSocket() {
    closed_ = true;
    beast::error_code ec;
    lowest(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest(stream_).socket().close(ec);
  }

  Stream stream_;
  std::string remote_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Dispatch dispatch_;
  std::shared_ptr<std::atomic<bool>> streamCancelled_;
  std::shared_ptr<std::atomic<bool>> parkGone_;  // set when the parked answer is pointless
  // Strand-only state.
  bool parked_ = false;
  std::shared_ptr<HttpSession> parkedSelf_;
  bool first_ = true;
  bool busy_ = false;
  bool closed_ = false;
  bool handedOff_ = false;
  bool keepAlive_ = true;
  unsigned version_ = 11;
  std::string method_;
  std::string routeLabel_;
  SteadyClock::time_point started_;
  SteadyClock::time_point lingerDeadline_;
  size_t lingerLeft_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------

Dispatch Server::Impl::route(const bhttp::request<bhttp::string_body>& head, std::string remote,
                             bool upgrade) const {
  Dispatch d;
  Request& r = d.request;
  r.method = std::string(head.method_string());
  r.target = std::string(head.target());
  auto target = splitTarget(r.target);
  r.path = std::move(target.path);
  r.remoteAddress = std::move(remote);
  for (const auto& f : head) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  auto query = parseQuery(target.query);
  if (!query.isOk()) {
    d.immediate = Response::error(query.status());
    return d;
  }
  r.query = std::move(*query);

  RouteMatch m = router_.match(r.method, r.path);
  if (m.kind == RouteMatch::Kind::kBadPath) {
    d.immediate = Response::error(m.error.withContext("bad request path"));
    return d;
  }
  // Authentication comes before 404/405 so that route existence is not
  // disclosed to anonymous clients; only public paths skip it.
  if (!m.pathIsPublic) {
    Status s = auth_->check(r.headers, r.query);
    if (!s.isOk()) {
      d.immediate = Response::error(s);
      d.immediate->headers.emplace_back("WWW-Authenticate", "Bearer");
      return d;
    }
  }
  if (r.query.erase(std::string(kTokenQueryParam)) > 0) {
    // Handlers may log the target; it must not carry the token.
    r.target = r.query.empty() ? r.path : r.path + "?" + buildQuery(r.query);
  }
  if (m.kind == RouteMatch::Kind::kNotFound) {
    d.immediate = Response::error(notFound("no such API path"));
    return d;
  }
  if (m.kind == RouteMatch::Kind::kMethodNotAllowed) {
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    d.immediate = httpError(405, "MethodNotAllowed", "method " + r.method + " not allowed; allowed: " + allow);
    d.immediate->headers.emplace_back("Allow", allow);
    return d;
  }
  d.route = m.route;
  r.params = std::move(m.params);
  r.route = m.route->info.pattern;
  if (m.route->info.websocket && !upgrade) {
    d.immediate = Response::error(invalidArgument("this endpoint requires a WebSocket upgrade"));
  }
  return d;
}

Response Server::Impl::invoke(const Route& route, const Request& request) const {
  // A throwing handler is a bug, but one request must not take the server down.
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("handler {} {} threw: {}", request.method, route.info.pattern, e.what());
  } catch (...) {
    spdlog::error("handler {} {} threw a non-exception", request.method, route.info.pattern);
  }
  return Response::error(internalError("internal server error"));
}

void Server::Impl::record(const std::string& method, const std::string& route, int status,
                          SteadyClock::time_point start) const {
  if (!metrics_) return;
  double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
  metrics_->incrementCounter(kRequestsMetric, {{"code", std::to_string(status)}, {"method", method}, {"route", route}});
  metrics_->observeHistogram(kLatencyMetric, {{"method", method}, {"route", route}}, secs);
}

Status Server::Impl::init() {
  auto auth = TokenAuth::create(opts_.token);
  if (!auth.isOk()) return auth.status().withContext("HTTP server");
  auth_ = std::move(*auth);
  if (opts_.ioThreads < 1 || opts_.workerThreads < 1) {
    return invalidArgument("HTTP server needs at least one io and one worker thread");
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
      std::string body = httpError(503, "Unavailable", "too many connections").body;
      return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
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

  auto snapshot = [this] {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard lock(mu_);
    for (auto& [p, w] : live_) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  };
  for (auto& s : snapshot()) s->onServerStop();
  auto deadline = SteadyClock::now() + drain;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_until(lock, deadline, [this] { return live_.empty() && longLived_ == 0; })) {
      spdlog::warn("HTTP server: {} connection(s) still busy after the drain deadline; closing them",
                   live_.size());
    }
  }
  for (auto& s : snapshot()) s->forceClose();
  workers_->join();  // handlers that are still running finish here
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return live_.empty(); });
    // Stream/WebSocket callbacks see their writer fail and return; their
    // threads touch this object, so they must be gone before it is.
    cv_.wait(lock, [this] { return longLived_ == 0; });
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
Server::~Server() { stop(); }
Router& Server::router() { return impl_->router_; }
Status Server::start() { return impl_->start(); }
uint16_t Server::port() const { return impl_->port_; }
bool Server::tls() const { return impl_->sslCtx_.has_value(); }
void Server::stop(std::chrono::milliseconds drain) { impl_->stop(drain); }

}  // namespace lb::http
