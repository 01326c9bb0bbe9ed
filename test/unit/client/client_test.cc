#include "client/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_server.h"

namespace lb::client {
namespace {

using http::testing::kToken;

// Routes only these tests need are registered on a second server so the
// shared fixture stays small.
class FlakyServer {
 public:
  FlakyServer() {
    http::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.token = kToken;
    server_ = http::Server::create(o).value();
    auto& r = server_->router();
    auto flaky = [this](const http::Request&) {
      if (calls_++ < failures_) return http::Response::error(unavailable("warming up"));
      return http::Response::text(200, "finally");
    };
    EXPECT_TRUE(r.get("/flaky", flaky).isOk());
    EXPECT_TRUE(r.post("/flaky", flaky).isOk());
    EXPECT_TRUE(r.get("/big", [](const http::Request&) { return http::Response::text(200, std::string(5000, 'b')); }).isOk());
    EXPECT_TRUE(r.get("/slow", [](const http::Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      return http::Response::text(200, "late");
    }).isOk());
    EXPECT_TRUE(r.get("/echo/{x}", [](const http::Request& q) { return http::Response::text(200, q.param("x")); }).isOk());
    EXPECT_TRUE(server_->start().isOk());
  }
  std::unique_ptr<Client> client(std::function<void(ClientOptions&)> f = {}) {
    ClientOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(server_->port());
    o.token = kToken;
    o.retryBackoff = std::chrono::milliseconds(1);
    if (f) f(o);
    return Client::create(o).value();
  }
  std::atomic<int> calls_{0};
  int failures_ = 2;
  std::unique_ptr<http::Server> server_;
};

TEST(ClientOptionsTest, RejectsBadEndpoints) {
  for (const char* e : {"127.0.0.1:80", "ftp://x", "http://", "http://host:port", "http://h/path"}) {
    ClientOptions o;
    o.endpoint = e;
    EXPECT_EQ(Client::create(o).status().code(), Code::kInvalidArgument) << e;
  }
  ClientOptions o;
  o.endpoint = "https://127.0.0.1:1";
  o.caFile = "/nonexistent-ca.pem";
  EXPECT_EQ(Client::create(o).status().code(), Code::kInvalidArgument);
}

TEST(ClientRetryTest, Retries503ForIdempotentMethodsOnly) {
  FlakyServer s;
  auto c = s.client();
  auto res = c->get("/flaky");
  ASSERT_TRUE(res.isOk()) << res.status().toString();
  EXPECT_EQ(*res, "finally");
  EXPECT_EQ(s.calls_, 3);

  s.calls_ = 0;
  auto post = c->post("/flaky", "{}");
  EXPECT_EQ(post.status().code(), Code::kUnavailable);
  EXPECT_EQ(post.status().message(), "warming up");
  EXPECT_EQ(s.calls_, 1);

  s.calls_ = 0;
  s.failures_ = 10;
  auto gaveUp = s.client([](ClientOptions& o) { o.maxRetries = 2; })->get("/flaky");
  EXPECT_EQ(gaveUp.status().code(), Code::kUnavailable);
  EXPECT_EQ(s.calls_, 3);
}

TEST(ClientRetryTest, ConnectionRefusedIsUnavailableAfterRetries) {
  uint16_t port;
  {
    FlakyServer s;
    port = s.server_->port();
  }  // stopped: nothing listens there now
  ClientOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.maxRetries = 2;
  o.retryBackoff = std::chrono::milliseconds(1);
  auto c = Client::create(o);
  auto res = (*c)->post("/x", "{}");  // connect failures are safe to retry even for POST
  EXPECT_EQ(res.status().code(), Code::kUnavailable);
  EXPECT_NE(res.status().message().find("connect to 127.0.0.1"), std::string::npos) << res.status().message();
}

TEST(ClientLimitsTest, TimeoutAndBodyLimit) {
  FlakyServer s;
  auto fast = s.client([](ClientOptions& o) { o.requestTimeout = std::chrono::milliseconds(100); });
  EXPECT_EQ(fast->get("/slow").status().code(), Code::kDeadlineExceeded);
  auto small = s.client([](ClientOptions& o) { o.maxResponseBytes = 1000; });
  EXPECT_EQ(small->get("/big").status().code(), Code::kTooLarge);
  EXPECT_TRUE(small->get("/echo/ok").isOk());
}

TEST(ClientConcurrencyTest, SixtyFourThreadsShareOneClient) {
  FlakyServer s;
  auto c = s.client();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string v = std::to_string(t) + "-" + std::to_string(i);
        auto res = c->get("/echo/" + v);
        if (res.isOk() && *res == v) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 64 * 20);
  EXPECT_LE(c->connectionsOpened(), 64u);
  EXPECT_GE(c->idleConnections(), 1u);
}

}  // namespace
}  // namespace lb::client
