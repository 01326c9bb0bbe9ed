#pragma once

// A blocking WebSocket client (ws:// over the endpoint's host and port), for
// the duplex streams of `lb service exec` (the CLI to the api, the api to a
// node agent): messages are sent whole, received whole, in order. One
// thread may receive while others send. Beast stays in websocket.cc.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/client.h"

namespace lb::client {

class WebSocket {
 public:
  // Connects to `options.endpoint` and opens `target` (path and query),
  // presenting options.token. kUnavailable when the endpoint cannot be
  // reached; the server's error (its status and message) when it declines
  // the upgrade; kUnsupported for https:// (not in this build).
  static StatusOr<std::unique_ptr<WebSocket>> open(const ClientOptions& options,
                                                   const std::string& target);
  virtual ~WebSocket() = default;

  // Sends one message; false once the connection is closed.
  virtual bool send(std::string_view message, bool binary) = 0;
  // The next message, blocking; nullopt once the connection is closed.
  virtual std::optional<std::string> receive() = 0;
  // Closes (normal closure) from any thread; receive() then ends.
  virtual void close() = 0;
};

}  // namespace lb::client
