#include "http/router.h"

#include <algorithm>

#include "lastbackend/http/uri.h"

namespace lb::http {
namespace {

bool isParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// Splits "/a/b/" into {"a","b"} without decoding; empty inner segments kept.
std::vector<std::string_view> splitRaw(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return out;
  size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                      : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

StatusOr<std::vector<std::string>> decodePathSegments(std::string_view rawPath) {
  if (rawPath.empty() || rawPath.front() != '/') return invalidArgument("request path must start with '/'");
  std::vector<std::string> out;
  for (auto raw : splitRaw(rawPath)) {
    if (raw.empty()) return invalidArgument("empty path segment");
    auto decoded = percentDecode(raw);
    if (!decoded) return invalidArgument("malformed percent-encoding in path");
    const std::string& s = *decoded;
    if (s == "." || s == "..") return invalidArgument("relative path segment");
    for (unsigned char c : s) {
      // '%' after one decode means double encoding; '/' and '\\' would let a
      // param span segments once some layer decodes or normalises again.
      if (c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '%') {
        return invalidArgument("forbidden character in path segment");
      }
    }
    out.push_back(std::move(*decoded));
  }
  return out;
}

Status Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (!handler) return invalidArgument("route " + pattern + " has no handler");
  Route r;
  r.info = {std::move(method), std::move(pattern), options.isPublic, false};
  r.handler = std::move(handler);
  return addRoute(std::move(r));
}

Status Router::addWebSocket(std::string pattern, WebSocketHandler handler, RouteOptions options) {
  if (!handler) return invalidArgument("route " + pattern + " has no handler");
  Route r;
  r.info = {"GET", std::move(pattern), options.isPublic, true};
  r.wsHandler = std::move(handler);
  return addRoute(std::move(r));
}

Status Router::addRoute(Route r) {
  const std::string& pattern = r.info.pattern;
  if (r.info.method.empty()) return invalidArgument("route " + pattern + " has no method");
  if (pattern.empty() || pattern.front() != '/') {
    return invalidArgument("route pattern must start with '/': " + pattern);
  }
  for (auto seg : splitRaw(pattern)) {
    std::string s(seg);
    if (s.empty()) return invalidArgument("empty segment in route pattern " + pattern);
    bool hasBrace = s.find_first_of("{}") != std::string::npos;
    if (hasBrace && !isParam(s)) return invalidArgument("bad parameter in route pattern " + pattern);
    r.segments.push_back(std::move(s));
  }
  for (const auto& existing : routes_) {
    if (existing.info.method == r.info.method && existing.segments.size() == r.segments.size()) {
      bool same = true;
      for (size_t i = 0; i < r.segments.size() && same; ++i) {
        bool pa = isParam(existing.segments[i]), pb = isParam(r.segments[i]);
        same = (pa && pb) || (!pa && !pb && existing.segments[i] == r.segments[i]);
      }
      if (same) {
        return Status(Code::kAlreadyExists, "duplicate route " + r.info.method + " " + pattern);
      }
    }
  }
  routes_.push_back(std::move(r));
  return Status::ok();
}

RouteMatch Router::match(std::string_view method, std::string_view rawPath) const {
  RouteMatch m;
  auto segs = decodePathSegments(rawPath);
  if (!segs.isOk()) {
    m.kind = RouteMatch::Kind::kBadPath;
    m.error = segs.status();
    return m;
  }
  // Among routes matching the path, a literal segment beats a parameter at
  // the first position where they differ ("/node/self" before "/node/{node}").
  const Route* best = nullptr;
  std::vector<bool> bestShape;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs->size()) continue;
    std::vector<bool> shape;  // true = literal
    bool ok = true;
    for (size_t i = 0; i < r.segments.size() && ok; ++i) {
      if (isParam(r.segments[i])) {
        shape.push_back(false);
      } else {
        ok = r.segments[i] == (*segs)[i];
        shape.push_back(true);
      }
    }
    if (!ok) continue;
    if (r.info.isPublic) m.pathIsPublic = true;
    if (r.info.method != method) {
      m.allowed.push_back(r.info.method);
      continue;
    }
    if (!best || shape > bestShape) {
      best = &r;
      bestShape = std::move(shape);
    }
  }
  if (best) {
    m.kind = RouteMatch::Kind::kFound;
    m.route = best;
    m.pathIsPublic = best->info.isPublic;
    for (size_t i = 0; i < best->segments.size(); ++i) {
      const auto& s = best->segments[i];
      if (isParam(s)) m.params[s.substr(1, s.size() - 2)] = (*segs)[i];
    }
    m.allowed.clear();
    return m;
  }
  if (!m.allowed.empty()) {
    std::sort(m.allowed.begin(), m.allowed.end());
    m.allowed.erase(std::unique(m.allowed.begin(), m.allowed.end()), m.allowed.end());
    m.kind = RouteMatch::Kind::kMethodNotAllowed;
    return m;
  }
  m.kind = RouteMatch::Kind::kNotFound;
  return m;
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.info);
  return out;
}

}  // namespace lb::http
