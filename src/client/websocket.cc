#include "client/websocket.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <future>
#include <thread>

#include "client/url.h"
#include "lastbackend/http/errors.h"
#include "lastbackend/http/inbox.h"

namespace lb::client {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

constexpr size_t kInbox = 64;

// The stream's reads and writes run on one io_context thread; callers wait
// for their result.
class BeastWebSocket final : public WebSocket {
 public:
  BeastWebSocket() : ws_(ioc_), work_(net::make_work_guard(ioc_)) {}
  ~BeastWebSocket() override {
    close();
    work_.reset();
    if (thread_.joinable()) thread_.join();
  }

  Status open(const ClientOptions& o, const Url& url, const std::string& target) {
    const std::string where = url.host + ":" + url.port;
    beast::error_code ec;
    tcp::resolver resolver(ioc_);
    auto found = resolver.resolve(url.host, url.port, ec);
    if (ec) return unavailable("resolve " + url.host + ": " + ec.message());
    beast::get_lowest_layer(ws_).expires_after(o.connectTimeout);
    beast::get_lowest_layer(ws_).connect(found, ec);
    if (ec) return unavailable("connect to " + where + ": " + ec.message());
    ws_.set_option(websocket::stream_base::decorator([&o](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, o.userAgent);
      if (!o.token.empty()) req.set(beast::http::field::authorization, "Bearer " + o.token);
    }));
    ws_.read_message_max(1 << 20);
    websocket::response_type res;
    ws_.handshake(res, url.hostHeader, target, ec);
    if (ec == websocket::error::upgrade_declined)
      return http::statusFromResponse(static_cast<int>(res.result_int()), res.body())
          .withContext(target);
    if (ec) return unavailable("websocket to " + where + target + ": " + ec.message());
    beast::get_lowest_layer(ws_).expires_never();
    open_ = true;
    read();
    thread_ = std::thread([this] { ioc_.run(); });
    return Status::ok();
  }

  bool send(std::string_view message, bool binary) override {
    if (!open_) return false;
    auto data = std::make_shared<std::string>(message);
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    net::post(ioc_, [this, data, done, binary] {
      if (!open_ || closing_) return done->set_value(false);
      writes_.push_back({data, binary, done});
      if (writes_.size() == 1) writeNext();
    });
    return result.get();
  }

  std::optional<std::string> receive() override {
    bool resume = false;
    auto m = inbox_.take(&resume);
    if (resume) net::post(ioc_, [this] { read(); });
    return m;
  }

  void close() override {
    net::post(ioc_, [this] {
      if (!open_ || closing_) return;
      closing_ = true;
      beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
      ws_.async_close(websocket::close_code::normal, [this](beast::error_code) { ended(); });
    });
  }

 private:
  struct Write {
    std::shared_ptr<std::string> data;
    bool binary;
    std::shared_ptr<std::promise<bool>> done;
  };

  void read() {
    if (!open_) return;
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t n) {
      if (ec) return ended();
      std::string m = beast::buffers_to_string(buffer_.data());
      buffer_.consume(n);
      if (inbox_.put(std::move(m))) read();
    });
  }

  void writeNext() {
    Write& w = writes_.front();
    ws_.binary(w.binary);
    ws_.async_write(net::buffer(*w.data), [this](beast::error_code ec, size_t) {
      writes_.front().done->set_value(!ec);
      writes_.pop_front();
      if (ec) return ended();
      if (!writes_.empty()) writeNext();
    });
  }

  void ended() {
    open_ = false;
    inbox_.end();
    for (auto& w : writes_) w.done->set_value(false);
    writes_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  net::io_context ioc_;
  websocket::stream<beast::tcp_stream> ws_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
  beast::flat_buffer buffer_;
  http::Inbox inbox_{kInbox};
  std::deque<Write> writes_;  // io thread only
  std::atomic<bool> open_{false};
  bool closing_ = false;  // io thread only
};

}  // namespace

StatusOr<std::unique_ptr<WebSocket>> WebSocket::open(const ClientOptions& options,
                                                     const std::string& target) {
  auto url = parseUrl(options.endpoint);
  if (!url.isOk()) return url.status();
  if (url->tls)
    return Status(Code::kUnsupported,
                  "WebSocket streams to an https:// endpoint are not in this build");
  auto ws = std::make_unique<BeastWebSocket>();
  LB_RETURN_IF_ERROR(ws->open(options, *url, target));
  return std::unique_ptr<WebSocket>(std::move(ws));
}

}  // namespace lb::client
