#include "http/listen_options.h"

namespace lb::http {

StatusOr<ServerOptions> listenOptions(const config::Listen& listen, std::string token) {
  if (listen.port < 0 || listen.port > 65535)
    return invalidArgument("bind port " + std::to_string(listen.port) + " is out of range");
  ServerOptions o;
  o.address = listen.host.empty() ? "0.0.0.0" : listen.host;
  o.port = static_cast<uint16_t>(listen.port);
  o.token = std::move(token);
  o.tlsCertFile = listen.tls.cert;
  o.tlsKeyFile = listen.tls.key;
  o.tlsCaFile = listen.tls.ca;
  return o;
}

}  // namespace lb::http
