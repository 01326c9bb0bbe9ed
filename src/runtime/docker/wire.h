#pragma once

// Pure helpers of the Docker Engine API wire format, with no I/O so unit
// tests feed them bytes split at every position: the 8-byte multiplexed log
// frames, newline-delimited JSON streams, error bodies, API versions, filters.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::runtime::docker {

// Demultiplexes the body of /containers/{id}/logs (and attach) for a
// container without a TTY: frames of [stream:1][0:3][size:4 big-endian]
// [payload:size]. Payload bytes are passed on as soon as they arrive, so a
// frame may reach `out` in several pieces. With tty=true the body is one raw
// stdout stream and is passed through as is.
class LogDemuxer {
 public:
  // stream: 1 stdout, 2 stderr (0, stdin, is reported as stdout). Return
  // false to stop; feed() then returns OK and ignores the rest.
  using Out = std::function<bool(int stream, std::string_view payload)>;

  explicit LogDemuxer(bool tty) : tty_(tty) {}

  // kInternal on a malformed header (unknown stream byte) or when the daemon
  // sends a system-error frame (stream 3), whose text becomes the message.
  Status feed(std::string_view data, const Out& out);
  // Whether the bytes fed so far end on a frame boundary.
  bool atBoundary() const { return tty_ || (headerLen_ == 0 && remaining_ == 0); }
  bool stopped() const { return stopped_; }

 private:
  bool tty_;
  bool stopped_ = false;
  unsigned char header_[8] = {};
  size_t headerLen_ = 0;
  uint32_t remaining_ = 0;
  int stream_ = 1;
  std::string sysErr_;  // payload of a stream-3 frame being collected
};

// Splits a byte stream into lines ('\n', with a trailing '\r' dropped),
// skipping blank ones; used for the JSON messages of /events and image pulls.
class LineSplitter {
 public:
  using Out = std::function<bool(std::string_view line)>;
  // Returns false when `out` did.
  bool feed(std::string_view data, const Out& out);
  // Passes on a last line that had no newline (at the end of the body).
  bool finish(const Out& out);
  size_t pending() const { return buf_.size(); }

 private:
  std::string buf_;
};

// An HTTP error status and body from the daemon as a Status:
// "<status> <message>" where message is the body's JSON "message" (or the
// trimmed body). 400 kInvalidArgument, 401/403 kPermissionDenied, 404
// kNotFound, 409 kConflict (kAlreadyExists when the name is in use), 503
// kUnavailable, 5xx kInternal.
Status errorFromResponse(int status, std::string_view body);

// "1.41" -> {1, 41}; {0,0} when malformed.
struct ApiVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ApiVersion&) const = default;  // NOLINT(modernize-use-nullptr)
  std::string str() const;
};
ApiVersion parseApiVersion(std::string_view text);

inline constexpr ApiVersion kMinApiVersion{1, 25};  // Docker 17.05
inline constexpr ApiVersion kMaxApiVersion{1, 41};  // Docker 20.10

// The version to speak: min(daemon's ApiVersion, kMaxApiVersion).
// kUnavailable when the daemon is older than kMinApiVersion or answered
// something unreadable.
StatusOr<ApiVersion> negotiateApiVersion(std::string_view daemonApiVersion);

// The JSON of the `filters` query parameter: {"label":["k=v","k"],...}.
// Keys map to lists; empty lists are left out.
std::string filtersJson(const std::map<std::string, std::vector<std::string>>& filters);
// Label selector as filter values: "k=v", or "k" for an empty value.
std::vector<std::string> labelFilterValues(const std::map<std::string, std::string>& labels);

// Percent-encodes a path segment that may contain '/', ':' and '@' (image
// references); those stay as they are, since the daemon's routes take them.
std::string escapeRef(std::string_view ref);

// Docker's zero time "0001-01-01T00:00:00Z" as "", any other as is.
std::string normalizeTime(std::string_view t);

}  // namespace lb::runtime::docker
