#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "support/websocket_client.h"

#include "test_server.h"

namespace lb::http::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

class WebSocketTest : public ServerFixture {
 protected:
  // Connects and handshakes; returns the handshake error (if any).
  beast::error_code open(websocket::stream<tcp::socket>& ws, const std::string& target,
                         const std::string& token, websocket::response_type* res = nullptr) {
    return lb::testing::openWebSocket(ws, server_->port(), target, token, res);
  }
  net::io_context ioc_;
};

TEST_F(WebSocketTest, ReceivesJsonFrames) {
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/events", kToken));
  for (int i = 0; i < 3; ++i) {
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_TRUE(ws.got_text());
    auto j = nlohmann::json::parse(beast::buffers_to_string(b.data()));
    EXPECT_EQ(j["seq"], i);
    EXPECT_EQ(j["route"], "/events");
  }
  beast::flat_buffer b;
  beast::error_code ec;
  ws.read(b, ec);  // the handler returned: the server closes normally
  EXPECT_EQ(ec, websocket::error::closed);
}

// A duplex handler reads the peer's messages in order, even many sent
// before it reads (kept, reading paused while the inbox is full), and its
// receive() ends when the connection does.
TEST_F(WebSocketTest, ADuplexHandlerReadsThePeersMessages) {
  websocket::stream<tcp::socket> ws(ioc_);
  ASSERT_FALSE(open(ws, "/echo", kToken));
  constexpr int kMany = 200;  // past the inbox's 64
  for (int i = 0; i < kMany; ++i) ws.write(net::buffer("m" + std::to_string(i)));
  for (int i = 0; i < kMany; ++i) {
    beast::flat_buffer b;
    ws.read(b);
    EXPECT_TRUE(ws.got_binary());
    ASSERT_EQ(beast::buffers_to_string(b.data()), "M" + std::to_string(i));
  }
  ws.write(net::buffer(std::string("close")));
  beast::flat_buffer b;
  beast::error_code ec;
  ws.read(b, ec);
  EXPECT_EQ(ec, websocket::error::closed);
}

TEST_F(WebSocketTest, AuthIsCheckedBeforeTheUpgrade) {
  websocket::stream<tcp::socket> ws(ioc_);
  websocket::response_type res;
  auto ec = open(ws, "/events", "", &res);
  EXPECT_EQ(ec, websocket::error::upgrade_declined);
  EXPECT_EQ(res.result_int(), 401u);

  websocket::stream<tcp::socket> ws2(ioc_);
  EXPECT_FALSE(open(ws2, std::string("/events?x-lastbackend=") + kToken, ""));
}

TEST_F(WebSocketTest, PlainGetOnWebSocketRouteIs400) {
  auto c = makeClient();
  EXPECT_EQ(c->send("GET", "/events")->status, 400);
}

}  // namespace
}  // namespace lb::http::testing
