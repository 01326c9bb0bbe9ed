// GET /events: a WebSocket of store changes.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "support/websocket_client.h"

#include "support/api_fixture.h"

namespace lb::api::testing {

using namespace lb::testing;  // the shared fixture and manifests (test/support)
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

class EventsTest : public ApiFixture {
 protected:
  beast::error_code open(websocket::stream<tcp::socket>& ws, const std::string& target,
                         const std::string& token, websocket::response_type* res = nullptr) {
    return lb::testing::openWebSocket(ws, api_->port(), target, token, res);
  }

  Json readFrame(websocket::stream<tcp::socket>& ws) {
    beast::flat_buffer b;
    beast::error_code ec;
    ws.read(b, ec);
    if (ec) return Json();
    return Json::parse(beast::buffers_to_string(b.data()), nullptr, false);
  }

  net::io_context ioc_;
};

TEST_F(EventsTest, FrameAfterCreate) {
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/events", kToken));
  createNamespace("demo");
  Json frame = readFrame(ws);
  ASSERT_TRUE(frame.is_object());
  EXPECT_EQ(frame["type"], "put");
  EXPECT_EQ(frame["kind"], "namespace");
  EXPECT_EQ(frame["key"], "/namespace/demo");
  EXPECT_EQ(frame["object"]["meta"]["name"], "demo");
  EXPECT_EQ(frame["object"]["meta"]["revision"], frame["revision"]);

  ASSERT_EQ(send("POST", "/namespace/demo/service", serviceManifest("web").dump()).status, 201);
  frame = readFrame(ws);
  EXPECT_EQ(frame["kind"], "service");
  EXPECT_EQ(frame["object"]["meta"]["selflink"], "demo:web");

  ASSERT_EQ(send("DELETE", "/namespace/demo/service/web").status, 200);
  frame = readFrame(ws);
  EXPECT_EQ(frame["type"], "delete");
  EXPECT_EQ(frame["key"], "/service/demo:web");
  EXPECT_TRUE(frame["object"].is_null());
}

TEST_F(EventsTest, ReplaysFromARevision) {
  createNamespace("a");
  createNamespace("b");
  int64_t first = getJson("/namespace/a")["meta"]["revision"];
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/events?revision=" + std::to_string(first - 1), kToken));
  EXPECT_EQ(readFrame(ws)["key"], "/namespace/a");
  EXPECT_EQ(readFrame(ws)["key"], "/namespace/b");
}

TEST_F(EventsTest, BadRevisionGetsAnErrorFrame) {
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/events?revision=abc", kToken));
  Json frame = readFrame(ws);
  EXPECT_EQ(frame["type"], "error");
  EXPECT_EQ(frame["status"], "InvalidArgument");
}

TEST_F(EventsTest, TokenRequiredHeaderOrQuery) {
  websocket::stream<tcp::socket> ws(ioc_);
  websocket::response_type res;
  EXPECT_EQ(open(ws, "/events", "", &res), websocket::error::upgrade_declined);
  EXPECT_EQ(res.result_int(), 401u);
  websocket::stream<tcp::socket> ws2(ioc_);
  ASSERT_FALSE(open(ws2, std::string("/events?x-lastbackend=") + kToken, ""));
  createNamespace("q");
  EXPECT_EQ(readFrame(ws2)["key"], "/namespace/q");
}

TEST_F(EventsTest, StopClosesOpenStreams) {
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/events", kToken));
  auto start = std::chrono::steady_clock::now();
  api_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  beast::flat_buffer b;
  beast::error_code ec;
  ws.read(b, ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace lb::api::testing
