#pragma once

// Private to lb_client: an endpoint URL ("http[s]://host[:port]") taken apart.

#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb::client {

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  std::string hostHeader;
};

// kInvalidArgument (field "endpoint") naming what is wrong.
StatusOr<Url> parseUrl(std::string_view s);

}  // namespace lb::client
