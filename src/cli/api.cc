#include "cli/api.h"

#include <nlohmann/json.hpp>

#include "lastbackend/http/errors.h"

namespace lb::cli {

StatusOr<std::unique_ptr<Api>> Api::connect(const ResolvedEndpoint& endpoint) {
  client::ClientOptions o;
  o.endpoint = endpoint.url;
  o.token = endpoint.token;
  o.caFile = endpoint.caFile;
  o.certFile = endpoint.certFile;
  o.keyFile = endpoint.keyFile;
  o.maxRetries = 2;
  o.userAgent = "lb";
  auto c = client::Client::create(o);
  if (!c.isOk()) return c.status().withContext("cannot use cluster at " + endpoint.url);
  return std::unique_ptr<Api>(new Api(std::move(*c), std::move(o)));
}

StatusOr<std::unique_ptr<client::WebSocket>> Api::openWebSocket(const std::string& path) {
  auto ws = client::WebSocket::open(options_, path);
  if (!ws.isOk() && ws.status().code() == Code::kUnavailable)
    return Status(Code::kUnavailable,
                  "cannot reach cluster at " + url_ + ": " + ws.status().message());
  return ws;
}

StatusOr<std::string> Api::call(std::string_view method, const std::string& path,
                                std::string_view body, std::string_view contentType,
                                const http::QueryParams& query) {
  auto r = client_->send(method, path, query, body, contentType);
  if (!r.isOk())
    return Status(r.status().code(),
                  "cannot reach cluster at " + url_ + ": " + r.status().message());
  if (r->status < 200 || r->status > 299) return http::statusFromResponse(r->status, r->body);
  return std::move(r->body);
}

Status Api::stream(const std::string& path, const http::QueryParams& query,
                   const std::function<bool(std::string_view)>& onChunk) {
  return client_->stream(path, query, onChunk);
}

StatusOr<std::vector<std::string>> splitJsonList(std::string_view body) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalidArgument("the list is not JSON");
  if (doc.is_object() && doc.contains("items")) doc = doc["items"];
  if (doc.is_null()) return std::vector<std::string>{};
  if (!doc.is_array()) return invalidArgument("expected a JSON array");
  std::vector<std::string> out;
  for (const auto& item : doc) out.push_back(item.dump());
  return out;
}

std::string namespacePath(std::string_view ns) { return "/namespace/" + http::percentEncode(ns); }

std::string collectionPath(std::string_view ns, std::string_view collection) {
  return namespacePath(ns) + "/" + std::string(collection);
}

std::string objectPath(std::string_view ns, std::string_view collection, std::string_view name) {
  return collectionPath(ns, collection) + "/" + http::percentEncode(name);
}

}  // namespace lb::cli
