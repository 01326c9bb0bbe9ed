#pragma once

// Private to lb_http (included by server.cc only): one HTTP/1.1 connection.
// Reads requests in a keep-alive loop, hands them to the worker pool,
// writes responses, parks long-polls, streams chunked responses, or
// upgrades to a WebSocket (websocket_session.h).

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <future>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "http/server_impl.h"
#include "http/websocket_session.h"
#include "lastbackend/runtime/cancel.h"

namespace lb::http {

inline constexpr size_t kLingerBytes = 1u << 20;
inline constexpr auto kLingerTime = std::chrono::seconds(1);
inline constexpr auto kTlsShutdownTime = std::chrono::seconds(1);

inline bool isHttpParseError(const beast::error_code& ec) {
  static const auto& cat = bhttp::make_error_code(bhttp::error::bad_target).category();
  return &ec.category() == &cat;
}

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
      if (self->streamCancel_) self->streamCancel_->cancel();
      // An idle connection (waiting for a request or a TLS handshake) is cut
      // now; a busy one finishes its response and then closes (doRead checks).
      if (!self->busy_) lowest(self->stream_).cancel();
    });
  }
  void forceClose() override {
    net::post(stream_.get_executor(), [self = self()] {
      if (self->handedOff_) return;
      if (self->streamCancel_) self->streamCancel_->cancel();
      self->dropPark();
      self->closed_ = true;
      beast::error_code ec;
      lowest(self->stream_).socket().close(ec);
    });
  }

 private:
  class Writer : public StreamWriter {
   public:
    explicit Writer(std::shared_ptr<HttpSession> s) : s_(std::move(s)), cancel_(s_->streamCancel_) {}
    bool write(std::string_view chunk) override {
      if (cancelled()) return false;
      if (chunk.empty()) return true;
      return s_->writeChunk(std::make_shared<std::string>(chunk));
    }
    bool cancelled() const override { return cancel_->cancelled() || s_->srv_.stopping_; }
    uint64_t onCancel(std::function<void()> fn) override { return cancel_->onCancel(std::move(fn)); }
    void removeOnCancel(uint64_t id) override { cancel_->remove(id); }

   private:
    std::shared_ptr<HttpSession> s_;
    std::shared_ptr<runtime::CancelToken> cancel_;
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
      return writeResponse(protocolError(ProtocolError::kHeadersTooLarge, "request header too large"), true, true);
    }
    // A clean EOF between requests, a timeout or a reset: nothing to answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        !isHttpParseError(ec)) {
      return doClose();
    }
    writeResponse(Response::error(invalidArgument("malformed HTTP request: " + ec.message())), true, true);
  }

  void upgradeToWebSocket() {
    if (auto busy = srv_.reserveStream()) return writeResponse(std::move(*busy), true, false);
    handedOff_ = true;
    auto ws = std::make_shared<WsSession<Stream>>(srv_, std::move(stream_), std::move(dispatch_.request),
                                                  dispatch_.route->wsHandler);
    srv_.registerSession(ws);
    ws->start(parser_->release(), started_);
  }

  void writeResponse(Response r, bool closeAfter, bool linger) {
    if (closed_) return;
    if (r.stream) return startStream(std::move(r));
    if (r.deferred) return park(r.deferred);
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

  void park(const DeferredCallback& cb) {
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
    if (auto busy = srv_.reserveStream()) return writeResponse(std::move(*busy), true, false);
    streamCancel_ = std::make_shared<runtime::CancelToken>();
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
          if (ec) {
            self->srv_.releaseStream();
            return self->closeSocket();
          }
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
        self->streamCancel_->cancel();
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
      if (self->closed_ || self->streamCancel_->cancelled()) {
        done->set_value(false);
        return;
      }
      self->armWriteTimer();
      net::async_write(self->stream_, bhttp::make_chunk(net::buffer(*data)),
                       [self, data, done](beast::error_code ec, size_t) {
                         self->timer_.cancel();
                         if (ec) self->streamCancel_->cancel();
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
      self->streamCancel_->cancel();
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
  std::shared_ptr<runtime::CancelToken> streamCancel_;  // set once streaming
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


}  // namespace lb::http
