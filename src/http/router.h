#pragma once

// Method + path-pattern routing. Patterns are literal segments and {params}:
// "/namespace/{namespace}/service/{service}". The raw path is split on '/'
// BEFORE each segment is percent-decoded, and a decoded segment may not
// contain '/', '%', NUL or control characters, nor be "." or "..": encoded
// path tricks (`..%2f`, `%00`, double encoding) are rejected as 400 instead
// of being normalised into something a handler might trust.
//
// Routes are registered before the server starts; match() is then read-only
// and safe from any thread.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/http/message.h"

namespace lb::http {

struct RouteOptions {
  bool isPublic = false;  // no token needed (e.g. /health)
};

struct RouteInfo {
  std::string method;
  std::string pattern;
  bool isPublic = false;
  bool websocket = false;
};

struct Route {
  RouteInfo info;
  std::vector<std::string> segments;  // "{name}" for params
  Handler handler;                    // plain routes
  WebSocketHandler wsHandler;         // websocket routes (method GET)
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;  // for kMethodNotAllowed, sorted
  bool pathIsPublic = false;         // some route on this path is public
  Status error;                      // for kBadPath
};

// Splits and decodes a raw path into safe segments (see above); a trailing
// '/' is ignored, "/" is zero segments. kInvalidArgument on any trick.
StatusOr<std::vector<std::string>> decodePathSegments(std::string_view rawPath);

class Router {
 public:
  // kInvalidArgument for a malformed pattern; kAlreadyExists for a duplicate
  // (method, pattern). A GET on a websocket pattern conflicts with a plain GET.
  Status add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  Status addWebSocket(std::string pattern, WebSocketHandler handler, RouteOptions options = {});

  Status get(std::string pattern, Handler h, RouteOptions o = {}) {
    return add("GET", std::move(pattern), std::move(h), o);
  }
  Status post(std::string pattern, Handler h, RouteOptions o = {}) {
    return add("POST", std::move(pattern), std::move(h), o);
  }
  Status put(std::string pattern, Handler h, RouteOptions o = {}) {
    return add("PUT", std::move(pattern), std::move(h), o);
  }
  Status del(std::string pattern, Handler h, RouteOptions o = {}) {
    return add("DELETE", std::move(pattern), std::move(h), o);
  }

  RouteMatch match(std::string_view method, std::string_view rawPath) const;

  // Every route in registration order (for OpenAPI comparison and docs).
  std::vector<RouteInfo> routes() const;

 private:
  Status addRoute(Route route);
  std::vector<Route> routes_;
};

}  // namespace lb::http
