#pragma once

// A scripted HTTP server on a unix socket standing in for dockerd in unit
// tests: each accepted connection's request is parsed and handed, with the
// raw socket, to the test's handler, which writes whatever bytes it likes
// (chunked bodies split anywhere, pauses, nothing at all).

#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace lb::test {

class FakeDockerServer {
 public:
  using Socket = boost::asio::local::stream_protocol::socket;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Handler = std::function<void(const Request&, Socket&)>;

  explicit FakeDockerServer(Handler handler)
      : path_("/tmp/lb-fake-docker-" + std::to_string(::getpid()) + "-" +
              std::to_string(counter()++) + ".sock"),
        handler_(std::move(handler)) {
    ::unlink(path_.c_str());
    acceptor_.open();
    acceptor_.bind(boost::asio::local::stream_protocol::endpoint(path_));
    acceptor_.listen();
    thread_ = std::thread([this] { run(); });
  }
  ~FakeDockerServer() {
    stop_ = true;
    {
      // Unblock accept() with one last connection.
      boost::asio::io_context io;
      Socket s(io);
      boost::system::error_code ec;
      s.connect(boost::asio::local::stream_protocol::endpoint(path_), ec);
    }
    thread_.join();
    for (auto& t : conns_) t.join();
    ::unlink(path_.c_str());
  }

  const std::string& path() const { return path_; }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  static void write(Socket& s, const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(bytes), ec);
  }
  // A whole response with a Content-Length body.
  static void respond(Socket& s, int status, const std::string& body,
                      const std::string& type = "application/json") {
    write(s, "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + type +
                 "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  }
  // The head of a chunked response; then chunk() each piece and end().
  static void beginChunked(Socket& s, int status = 200) {
    write(s, "HTTP/1.1 " + std::to_string(status) + " OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  static void chunk(Socket& s, const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    write(s, size + data + "\r\n");
  }
  static void endChunked(Socket& s) { write(s, "0\r\n\r\n"); }

 private:
  static std::atomic<int>& counter() {
    static std::atomic<int> c{0};
    return c;
  }

  void run() {
    while (true) {
      Socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (stop_ || ec) return;
      conns_.emplace_back([this, s = std::move(s)]() mutable {
        boost::beast::flat_buffer buf;
        Request req;
        boost::system::error_code rec;
        boost::beast::http::read(s, buf, req, rec);
        if (rec) return;
        {
          std::lock_guard lock(mu_);
          targets_.push_back(std::string(req.target()));
          requests_.push_back(req);
        }
        handler_(req, s);
        boost::system::error_code ignored;
        s.shutdown(Socket::shutdown_both, ignored);
      });
    }
  }

  std::string path_;
  Handler handler_;
  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::acceptor acceptor_{io_};
  std::thread thread_;
  std::vector<std::thread> conns_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> targets_;
  std::vector<Request> requests_;
};

// The body of one log frame: [stream][0 0 0][size BE][payload].
inline std::string logFrame(int stream, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + payload;
}

}  // namespace lb::test
