#pragma once

// The frames of an exec stream (`lb service exec`), the same on both hops
// (the CLI to the api, the api to the node agent), over a WebSocket.
//
// The client's first message is a text frame, the start, as JSON:
//   {"pod": "...", "container": "...", "command": ["sh"], "tty": true,
//    "stdin": true, "rows": 24, "cols": 80}
// (the api picks a ready pod when "pod" is empty; the agent takes the pod
// from its path). Every message after it is binary: one byte naming the
// channel, then the payload.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace lb::http::exec {

enum class Channel : char {
  kStdin = 0,     // client -> server: bytes for the process's stdin
  kStdout = 1,    // server -> client: the process's output (a terminal's all of it)
  kStderr = 2,    // server -> client
  kResize = 3,    // client -> server: "ROWS COLS"
  kExit = 4,      // server -> client, last: the exit status, in decimal
  kError = 5,     // server -> client, last: why the command could not run
  kStdinEnd = 6,  // client -> server: no more input
};

inline std::string frame(Channel c, std::string_view payload) {
  std::string out(1, static_cast<char>(c));
  out.append(payload);
  return out;
}

// The channel and payload of a binary message; nullopt when it is empty or
// names no channel.
inline std::optional<std::pair<Channel, std::string_view>> parse(std::string_view m) {
  if (m.empty() || m[0] < 0 || m[0] > static_cast<char>(Channel::kStdinEnd)) return std::nullopt;
  return std::make_pair(static_cast<Channel>(m[0]), m.substr(1));
}

}  // namespace lb::http::exec
