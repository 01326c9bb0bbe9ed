// What a client can grow is bounded: metric label sets under made-up
// methods, open streams and WebSockets (a cap, 503 past it), and stream
// threads that end when their client leaves or the server stops.

#include <fstream>
#include <future>
#include <random>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "test_server.h"

namespace lb::http::testing {
namespace {

// Resident set of this process, from /proc/self/status (kB -> bytes).
size_t residentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

class LimitsTest : public ServerFixture {
 protected:
  void tweak(ServerOptions& o) override {
    o.maxStreams = 2;
    o.workerThreads = 2;
  }
  // A follow on a quiet source: writes nothing, returns once cancelled.
  void extraRoutes(Router& r) override {
    ASSERT_TRUE(r.get("/quiet", [this](const Request&) {
      return Response::streaming([this](StreamWriter& w) {
        ++quietOpen_;
        std::promise<void> cancelled;
        uint64_t id = w.onCancel([&cancelled] { cancelled.set_value(); });
        cancelled.get_future().wait();
        w.removeOnCancel(id);
        --quietOpen_;
        ++quietEnded_;
      });
    }).isOk());
  }

  // Opens a /quiet stream; returns its connection once the head arrived.
  std::unique_ptr<RawConn> openQuiet(int* status = nullptr) {
    auto c = std::make_unique<RawConn>(server_->port());
    c->send(std::string("GET /quiet HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ") + kToken + "\r\n\r\n");
    std::string head = c->readResponse();
    if (status) *status = statusOf(head);
    lastHead_ = head;
    return c;
  }

  std::atomic<int> quietOpen_{0};
  std::atomic<int> quietEnded_{0};
  std::string lastHead_;
};

TEST_F(LimitsTest, RandomMethodsWithoutTokenKeepMetricSeriesAndMemoryFlat) {
  RawConn conn(server_->port());
  std::mt19937 rng(42);
  auto randomMethod = [&] {
    std::string m;
    for (int i = 0, n = 4 + static_cast<int>(rng() % 8); i < n; ++i) m.push_back(static_cast<char>('A' + rng() % 26));
    return m;
  };
  auto request = [&](const std::string& method) {
    conn.send(method + " /namespace/x HTTP/1.1\r\nHost: t\r\n\r\n");
    return statusOf(conn.readResponse());
  };
  auto series = [&] { return metrics_->seriesCount(kRequestsMetric) + metrics_->seriesCount(kLatencyMetric); };
  for (int i = 0; i < 200; ++i) ASSERT_EQ(request(randomMethod()), 401);
  const size_t seriesBefore = series();
  const size_t rssBefore = residentBytes();
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(request(randomMethod()), 401) << "request " << i;
  EXPECT_EQ(series(), seriesBefore);
  EXPECT_LE(series(), 2u) << metrics_->render();
  const size_t rssAfter = residentBytes();
  EXPECT_LT(rssAfter, rssBefore + (8u << 20)) << "RSS grew from " << rssBefore << " to " << rssAfter;
  // Recorded once the answer is written: the last may trail our read.
  EXPECT_TRUE(eventually([&] {
    return metrics_->counterValue(kRequestsMetric, {{"code", "401"}, {"method", "other"}, {"route", "unmatched"}}) ==
           10'200;
  }));
}

TEST_F(LimitsTest, MethodsMapToAFixedSet) {
  EXPECT_EQ(methodLabel("GET"), "GET");
  EXPECT_EQ(methodLabel("PATCH"), "PATCH");
  EXPECT_EQ(methodLabel("OPTIONS"), "OPTIONS");
  EXPECT_EQ(methodLabel("get"), "other");
  EXPECT_EQ(methodLabel("BREW"), "other");
}

TEST_F(LimitsTest, StreamsPastTheCapAre503AndALeavingClientFreesItsSlot) {
  int status = 0;
  auto a = openQuiet(&status);
  ASSERT_EQ(status, 200) << lastHead_;
  auto b = openQuiet(&status);
  ASSERT_EQ(status, 200) << lastHead_;
  ASSERT_TRUE(eventually([&] { return quietOpen_ == 2; }));
  auto c = openQuiet(&status);
  EXPECT_EQ(status, 503) << lastHead_;
  EXPECT_NE(lastHead_.find("too many open streams (limit 2)"), std::string::npos) << lastHead_;
  EXPECT_EQ(metrics_->counterValue(kStreamsRejectedMetric, {}), 1);

  a.reset();  // the client goes away: its handler is cancelled at once
  EXPECT_TRUE(eventually([&] { return quietEnded_ == 1; }));
  EXPECT_TRUE(eventually([&] {
    int s = 0;
    auto d = openQuiet(&s);
    return s == 200;
  }));
}

TEST_F(LimitsTest, WebSocketsCountTowardsTheStreamCap) {
  int status = 0;
  auto a = openQuiet(&status);
  auto b = openQuiet(&status);
  ASSERT_TRUE(eventually([&] { return quietOpen_ == 2; }));
  namespace ws_ns = boost::beast::websocket;
  boost::asio::io_context ioc;
  ws_ns::stream<boost::asio::ip::tcp::socket> ws(ioc);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  ws.set_option(ws_ns::stream_base::decorator([](ws_ns::request_type& req) {
    req.set(boost::beast::http::field::authorization, std::string("Bearer ") + kToken);
  }));
  ws_ns::response_type res;
  boost::beast::error_code ec;
  ws.handshake(res, "127.0.0.1", "/events", ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_NE(res.body().find("too many open streams"), std::string::npos) << res.body();
}

TEST_F(LimitsTest, StopCancelsQuietStreamsAndJoinsTheirThreads) {
  int status = 0;
  auto a = openQuiet(&status);
  auto b = openQuiet(&status);
  ASSERT_TRUE(eventually([&] { return quietOpen_ == 2; }));
  server_->stop(std::chrono::seconds(5));
  // stop() returned, so the stream threads are joined: both handlers ended.
  EXPECT_EQ(quietEnded_, 2);
  EXPECT_EQ(quietOpen_, 0);
}

}  // namespace
}  // namespace lb::http::testing
