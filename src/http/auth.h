#pragma once

// Bearer-token authentication. The configured token is kept only as its
// SHA-256 digest, and a presented token is hashed the same way before a
// constant-time compare: the comparison takes the same time whatever the
// presented length or the position of the first wrong byte.

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"
#include "lastbackend/http/message.h"

namespace lb::http {

// Query parameter that may carry the token (for clients that cannot set
// headers, e.g. a browser WebSocket).
inline constexpr std::string_view kTokenQueryParam = "x-lastbackend";

class TokenAuth {
 public:
  // kInvalidArgument for an empty token: an empty token never disables auth.
  static StatusOr<TokenAuth> create(std::string_view token);

  // OK, or kUnauthenticated ("missing token" / "invalid token"). Looks at
  // `Authorization: Bearer <token>` first, then the query parameter.
  Status check(const Headers& headers, const std::map<std::string, std::string>& query) const;
  bool matches(std::string_view presented) const;

 private:
  TokenAuth() = default;
  std::array<unsigned char, 32> digest_{};
};

}  // namespace lb::http
