#pragma once

// How a component (node, discovery) reaches the api: --api-uri, the token
// and the --api-tls-* files. Timeouts and retries are the caller's.

#include <string>

#include "client/client.h"
#include "lastbackend/config/config.h"

namespace lb::client {

inline ClientOptions apiLinkOptions(const config::ApiClient& api, const std::string& token) {
  ClientOptions o;
  o.endpoint = api.uri;
  o.token = token;
  o.caFile = api.tls.ca;
  o.certFile = api.tls.cert;
  o.keyFile = api.tls.key;
  return o;
}

}  // namespace lb::client
