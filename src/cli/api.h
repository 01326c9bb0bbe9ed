#pragma once

// The REST API as the CLI uses it: one Client, paths built from names, typed
// reads via the lb::types codec, and errors turned into one-line reasons.
// A transport failure reads "cannot reach cluster at URL: ..."; an HTTP error
// is the Status the server sent (its message, e.g. "namespace `x` not found").

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/endpoint.h"
#include "client/client.h"
#include "client/websocket.h"
#include "lastbackend/common/status.h"
#include "lastbackend/http/uri.h"
#include "lastbackend/types/codec.h"

namespace lb::cli {

class Api {
 public:
  static StatusOr<std::unique_ptr<Api>> connect(const ResolvedEndpoint& endpoint);

  // The body of a 2xx answer, or the error.
  StatusOr<std::string> call(std::string_view method, const std::string& path,
                             std::string_view body = {},
                             std::string_view contentType = "application/json",
                             const http::QueryParams& query = {});
  Status stream(const std::string& path, const http::QueryParams& query,
                const std::function<bool(std::string_view)>& onChunk);

  template <typename T>
  StatusOr<T> getObject(const std::string& path);
  template <typename T>
  StatusOr<std::vector<T>> getList(const std::string& path);

  // A WebSocket to `path` with the same endpoint and token.
  StatusOr<std::unique_ptr<client::WebSocket>> openWebSocket(const std::string& path);

  const std::string& url() const { return url_; }

 private:
  Api(std::unique_ptr<client::Client> client, client::ClientOptions options)
      : client_(std::move(client)), options_(std::move(options)), url_(options_.endpoint) {}
  std::unique_ptr<client::Client> client_;
  client::ClientOptions options_;
  std::string url_;
};

// Splits a JSON array (or an {"items": [...]} object) into element texts.
StatusOr<std::vector<std::string>> splitJsonList(std::string_view body);

// "/namespace/<ns>", "/namespace/<ns>/<collection>[/<name>]", names percent-encoded.
std::string namespacePath(std::string_view ns);
std::string collectionPath(std::string_view ns, std::string_view collection);
std::string objectPath(std::string_view ns, std::string_view collection, std::string_view name);

template <typename T>
StatusOr<T> Api::getObject(const std::string& path) {
  auto body = call("GET", path);
  if (!body.isOk()) return body.status();
  T value;
  Status s = types::fromJson(*body, &value);
  if (!s.isOk()) return s.withContext("unexpected answer from " + path);
  return value;
}

template <typename T>
StatusOr<std::vector<T>> Api::getList(const std::string& path) {
  auto body = call("GET", path);
  if (!body.isOk()) return body.status();
  auto items = splitJsonList(*body);
  if (!items.isOk()) return items.status().withContext("unexpected answer from " + path);
  std::vector<T> out;
  for (const auto& text : *items) {
    T value;
    Status s = types::fromJson(text, &value);
    if (!s.isOk()) return s.withContext("unexpected answer from " + path);
    out.push_back(std::move(value));
  }
  return out;
}

}  // namespace lb::cli
