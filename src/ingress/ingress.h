#pragma once

// `lastbackend ingress`: outside traffic into the cluster through HAProxy.
// It registers at /ingress/<name>, long-polls the ingress manifest
// (GET /ingress/<name>/spec: routes, endpoints, certificates), turns it into
// HAProxy's config (haproxy_config.h) and keeps HAProxy equal to it: server
// changes through the Runtime API, route changes by a checked, hitless
// reload (haproxy.h). It reports every route it follows as ready or error
// on its status. Several may serve the same routes; `lastbackend server`
// runs one when HAProxy is installed. See docs/ingress.md.

#include <memory>
#include <string>

#include "lastbackend/common/status.h"
#include "lastbackend/config/config.h"

namespace lb::ingress {

struct IngressOptions {
  std::string name;            // "" = the host name
  std::string fallbackDomain;  // routes without a domain: <route>.<ns>.<this>
  std::string bindHost;        // HAProxy's listeners; "" = every address
};

class IngressProcess {
 public:
  // kInvalidArgument: no --api-uri or no haproxy at the configured path.
  static StatusOr<std::unique_ptr<IngressProcess>> start(const config::IngressConfig& config,
                                                         IngressOptions options);
  ~IngressProcess();
  // Ends the long-poll at once and stops HAProxy softly (a kill -9 of the
  // process never stops HAProxy).
  void stop();
  const std::string& name() const;

  class Impl;

 private:
  explicit IngressProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Blocks until SIGTERM/SIGINT. Exit codes: 0 clean stop, 1 runtime failure,
// 2 configuration error.
int run(const config::IngressConfig& config);

}  // namespace lb::ingress
