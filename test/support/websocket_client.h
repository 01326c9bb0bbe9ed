#pragma once

// A blocking WebSocket client handshake for tests of the engine and of
// /events: connects to 127.0.0.1:port, presents `token` (if any) as a
// bearer token, and returns the handshake's error.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <string>

namespace lb::testing {

inline boost::beast::error_code openWebSocket(
    boost::beast::websocket::stream<boost::asio::ip::tcp::socket>& ws, uint16_t port,
    const std::string& target, const std::string& token,
    boost::beast::websocket::response_type* res = nullptr) {
  namespace beast = boost::beast;
  namespace websocket = boost::beast::websocket;
  ws.next_layer().connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
  }));
  beast::error_code ec;
  websocket::response_type ignored;
  ws.handshake(res ? *res : ignored, "127.0.0.1", target, ec);
  return ec;
}

}  // namespace lb::testing
