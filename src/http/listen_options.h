#pragma once

// The one translation of a listener's configuration (--bind-address,
// --bind-port, --tls-*) into ServerOptions: the api, the node's server and
// `lastbackend server` all build their listener here.

#include <string>

#include "http/server.h"
#include "lastbackend/common/status.h"
#include "lastbackend/config/config.h"

namespace lb::http {

// Address (empty: 0.0.0.0), port, TLS files and the token; the rest keeps
// the ServerOptions defaults. kInvalidArgument when the port is outside
// 0..65535 (0: any free port).
StatusOr<ServerOptions> listenOptions(const config::Listen& listen, std::string token);

}  // namespace lb::http
