#pragma once

// Private to lb_http (included by server.cc only): a connection after the
// WebSocket upgrade. The handler runs on a stream thread of its own (a slot
// of Server::Impl's stream cap, taken before the upgrade); reads stay
// pending on the strand so pings are answered and a peer's close is seen.

#include <spdlog/spdlog.h>

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <future>

#include "http/server_impl.h"
#include "lastbackend/http/inbox.h"

namespace lb::http {

namespace websocket = boost::beast::websocket;

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
      net::post(self->ws_.get_executor(),
                [self] { self->closeNormally(websocket::close_code::normal); });
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

  bool sendText(std::string_view message) override { return send(message, true); }
  bool sendBinary(std::string_view message) override { return send(message, false); }

  void keepMessages() override { keep_ = true; }

  std::optional<std::string> receive() override {
    if (!accept()) return std::nullopt;
    bool resume = false;
    auto m = inbox_.take(&resume);
    if (resume) net::post(ws_.get_executor(), [self = self()] { self->doRead(); });
    return m;
  }

  void close() override {
    net::post(ws_.get_executor(),
              [self = self()] { self->closeNormally(websocket::close_code::normal); });
  }

 private:
  bool send(std::string_view message, bool text) {
    if (!accept() || !open_) return false;
    auto data = std::make_shared<std::string>(message);
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    net::post(ws_.get_executor(), [self = self(), data, done, text] {
      if (!self->open_ || self->closeSent_) {
        done->set_value(false);
        return;
      }
      self->ws_.text(text);
      self->ws_.async_write(net::buffer(*data), [self, data, done](beast::error_code ec, size_t) {
        if (ec) self->open_ = false;
        done->set_value(!ec);
      });
    });
    return fut.get();
  }

 public:
  bool isOpen() const override { return open_ && !srv_.stopping_; }

  void onServerStop() override {
    net::post(ws_.get_executor(),
              [self = self()] { self->closeNormally(websocket::close_code::going_away); });
  }
  void forceClose() override {
    net::post(ws_.get_executor(), [self = self()] {
      self->open_ = false;
      self->wakeReceiver();
      beast::error_code ec;
      lowest(self->ws_).socket().close(ec);
    });
  }

 private:
  std::shared_ptr<WsSession> self() {
    return std::static_pointer_cast<WsSession>(shared_from_this());
  }

  // Keeps a read pending: Beast answers pings and notices the peer's close
  // only while reading. Incoming messages are dropped, or kept for
  // receive() (keepMessages), reading pausing while the inbox is full.
  void doRead() {
    if (closeSent_ || !open_) return;  // a resumed read after close() began
    ws_.async_read(buffer_, [self = self()](beast::error_code ec, size_t n) {
      if (ec) {
        self->open_ = false;
        self->wakeReceiver();
        return;
      }
      std::string message = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(n);
      if (self->keep_ && !self->inbox_.put(std::move(message))) return;  // full: take() resumes
      self->doRead();
    });
  }

  void wakeReceiver() { inbox_.end(); }

  void closeNormally(websocket::close_code code) {
    wakeReceiver();
    if (closeSent_) return;  // a close already under way (close(), then the handler's return)
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
  // keepMessages: the peer's messages waiting for receive().
  std::atomic<bool> keep_{false};
  Inbox inbox_{kKeptMessages};
};

}  // namespace lb::http
