#pragma once

// Private to lb_http: the server's shared state (Server::Impl) and what its
// sessions (http_session.h, websocket_session.h) and dispatch.cc share.
// Only lb_http's own sources include this header: it pulls in Beast/Asio.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http/auth.h"
#include "http/server.h"
#include "http/stream_threads.h"
#include "lastbackend/http/errors.h"

namespace lb::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class S>
constexpr bool kIsTls = std::is_same_v<S, TlsStream>;

inline constexpr char kServerName[] = "lastbackend";

template <class Stream>
auto& lowest(Stream& s) {
  return beast::get_lowest_layer(s);
}

// An answer of the engine itself with no lb::Code (405, 431): status and
// body from the one error map all the same.
inline Response protocolError(ProtocolError error, const std::string& message) {
  return Response::json(httpStatusFor(error), errorBody(error, message));
}

// What the router and auth decided from the request head alone.
struct Dispatch {
  Request request;
  const Route* route = nullptr;
  std::optional<Response> immediate;  // answer without calling a handler
};

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
        streams_(opts_.maxStreams),
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
  // A slot for a stream/WebSocket thread, or the 503 to answer instead.
  std::optional<Response> reserveStream();
  // Runs a long-lived stream/WebSocket callback on its own thread in a slot
  // reserveStream() took; stop() waits for it, so `fn` must return once its
  // writer is cancelled.
  void spawnLongLived(std::function<void()> fn) { streams_.run(std::move(fn)); }
  void releaseStream() { streams_.release(); }
  template <class F>
  void runOnWorker(F&& f) {
    net::post(*workers_, std::forward<F>(f));
  }

  Dispatch route(const bhttp::request<bhttp::string_body>& head, std::string remote, bool upgrade) const;
  Response invoke(const Route& route, const Request& request) const;
  void record(std::string_view method, const std::string& route, int status,
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
  StreamThreads streams_;

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
  std::vector<std::shared_ptr<SessionBase>> liveSessions();
  void waitForStreams(SteadyClock::time_point deadline);
};

}  // namespace lb::http
