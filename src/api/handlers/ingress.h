#pragma once

// Private to the REST API: what the ingresses need (docs/ingress.md).

#include <string>
#include <vector>

#include "api/context.h"
#include "lastbackend/types/component.h"

namespace lb::api {

// The ingress manifest: {"revision": N, "routes": {selflink: route},
// "endpoints": {selflink: endpoint}, "secrets": {selflink: secret}} — every
// route manifest, every endpoint manifest, and the secrets HTTPS routes
// name (the certificates, nothing else).
StatusOr<std::string> ingressSpecBody(const Context& ctx);

// The states an ingress reported, written to the routes they name where they
// differ (a route the controller finds incomplete stays "provision"; one
// that is gone is skipped). kInvalidArgument for a state other than ready
// or error, or a bad selflink.
Status applyRouteStates(const Context& ctx, const std::vector<types::IngressRouteState>& states);

}  // namespace lb::api
