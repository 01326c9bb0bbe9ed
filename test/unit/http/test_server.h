#pragma once

// A server on 127.0.0.1:0 with a handful of routes, plus a raw-socket helper
// for requests the real client would refuse to send.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/server.h"
#include "client/client.h"

namespace lb::http::testing {

inline constexpr char kToken[] = "test-token-0123456789";

// Blocking TCP socket to 127.0.0.1 with a receive timeout.
class RawConn {
 public:
  explicit RawConn(uint16_t port, int timeoutMs = 3000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) throw std::runtime_error("connect");
  }
  ~RawConn() { ::close(fd_); }
  void send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Reads one response (head + Content-Length body); "" on EOF/timeout first.
  std::string readResponse() {
    size_t headEnd;
    while ((headEnd = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::exchange(buf_, {});
    }
    size_t len = 0;
    auto cl = lower(buf_.substr(0, headEnd)).find("content-length:");
    if (cl != std::string::npos) len = std::stoul(buf_.substr(cl + 15));
    while (buf_.size() < headEnd + 4 + len) {
      if (!fill()) break;
    }
    std::string out = buf_.substr(0, headEnd + 4 + len);
    buf_.erase(0, out.size());
    return out;
  }
  // True when the peer closed (recv returns 0) before the timeout.
  bool closedByPeer() {
    char c[256];
    for (;;) {
      ssize_t n = ::recv(fd_, c, sizeof(c), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(::tolower(c));
    return s;
  }
  bool fill() {
    char c[4096];
    ssize_t n = ::recv(fd_, c, sizeof(c), 0);
    if (n <= 0) return false;
    buf_.append(c, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

// A bounded wait (up to ~5 s) for what another thread does: a failure
// bound, not a timing assertion.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

inline int statusOf(const std::string& response) {
  if (response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { startServer(); }
  void TearDown() override {
    if (server_) server_->stop(std::chrono::seconds(5));
  }

  virtual void tweak(ServerOptions&) {}
  virtual void extraRoutes(Router&) {}

  void startServer() {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.token = kToken;
    o.ioThreads = 2;
    o.workerThreads = 4;
    o.metrics = metrics_;
    tweak(o);
    auto s = Server::create(o);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    server_ = std::move(*s);
    addRoutes(server_->router());
    extraRoutes(server_->router());
    ASSERT_TRUE(server_->start().isOk());
  }

  void addRoutes(Router& r) {
    auto echo = [](const Request& req) {
      nlohmann::json j;
      j["params"] = req.params;
      j["query"] = req.query;
      j["route"] = req.route;
      j["target"] = req.target;
      j["bodySize"] = req.body.size();
      return Response::json(200, j.dump());
    };
    ASSERT_TRUE(r.get("/health", [](const Request&) { return Response::text(200, "ok"); }, {.isPublic = true}).isOk());
    ASSERT_TRUE(r.get("/namespace/{namespace}", echo).isOk());
    ASSERT_TRUE(r.post("/namespace/{namespace}", echo).isOk());
    ASSERT_TRUE(r.get("/namespace/{namespace}/service/{service}", echo).isOk());
    ASSERT_TRUE(r.get("/boom", [](const Request&) -> Response { throw std::runtime_error("kaboom"); }).isOk());
    ASSERT_TRUE(r.get("/status/{code}", [](const Request& req) {
      auto code = static_cast<Code>(std::stoi(req.param("code")));
      return Response::error(Status(code, "failed with " + req.param("code"),
                                    code == Code::kInvalidArgument ? "spec.image" : ""));
    }).isOk());
    ASSERT_TRUE(r.get("/slow", [this](const Request&) {
      ++slowStarted_;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
      return Response::text(200, "slow-done");
    }).isOk());
    ASSERT_TRUE(r.get("/stream", [](const Request&) {
      return Response::streaming([](StreamWriter& w) {
        for (int i = 0; i < 5; ++i) {
          if (!w.write("line " + std::to_string(i) + "\n")) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      });
    }).isOk());
    ASSERT_TRUE(r.get("/follow", [this](const Request&) {
      return Response::streaming([this](StreamWriter& w) {
        while (w.write("tick\n")) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        followEnded_ = true;
      });
    }).isOk());
    // Parks the request; the test answers it through parked().
    ASSERT_TRUE(r.get("/later", [this](const Request&) {
      return Response::later([this](std::shared_ptr<Responder> responder) {
        std::lock_guard lock(parkedMu_);
        parked_.push_back(std::move(responder));
      });
    }).isOk());
    ASSERT_TRUE(r.get("/metrics", [this](const Request&) {
      Response res = Response::text(200, metrics_->render());
      res.contentType = kMetricsContentType;
      return res;
    }).isOk());
    ASSERT_TRUE(r.addWebSocket("/events", [](const Request& req, WebSocketConnection& ws) {
      for (int i = 0; i < 3; ++i) {
        if (!ws.sendText(nlohmann::json{{"seq", i}, {"route", req.route}}.dump())) return;
      }
    }).isOk());
    // Duplex: each message comes back as a binary frame, upper-cased;
    // "close" closes from the server side.
    ASSERT_TRUE(r.addWebSocket("/echo", [](const Request&, WebSocketConnection& ws) {
      ws.keepMessages();
      while (auto m = ws.receive()) {
        if (*m == "close") {
          ws.close();
          continue;
        }
        for (auto& ch : *m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (!ws.sendBinary(*m)) return;
      }
    }).isOk());
  }

  std::unique_ptr<client::Client> makeClient(std::string token = kToken,
                                             std::function<void(client::ClientOptions&)> f = {}) {
    client::ClientOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port());
    o.token = std::move(token);
    o.retryBackoff = std::chrono::milliseconds(1);
    if (f) f(o);
    auto c = client::Client::create(o);
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return std::move(*c);
  }

  // The responder of the n-th parked /later request, waiting (bounded) for it.
  std::shared_ptr<Responder> parked(size_t n = 0) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(parkedMu_);
        if (parked_.size() > n) return parked_[n];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return nullptr;
  }

  std::mutex parkedMu_;
  std::vector<std::shared_ptr<Responder>> parked_;
  std::shared_ptr<MetricsRegistry> metrics_ = std::make_shared<MetricsRegistry>();
  std::unique_ptr<Server> server_;
  std::atomic<int> slowStarted_{0};
  std::atomic<bool> followEnded_{false};
};

}  // namespace lb::http::testing
