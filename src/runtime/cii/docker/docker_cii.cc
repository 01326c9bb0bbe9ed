#include "runtime/cii/docker/docker_cii.h"

#include <nlohmann/json.hpp>

#include "lastbackend/http/uri.h"
#include "runtime/docker/wire.h"

namespace lb::runtime::cii::docker {
namespace {

using json = nlohmann::json;
using runtime::docker::Client;
using runtime::docker::Method;
using runtime::docker::Request;
using runtime::docker::Response;
namespace wire = runtime::docker;

bool contains(std::string_view text, std::initializer_list<std::string_view> words) {
  for (auto w : words) {
    if (text.find(w) != std::string_view::npos) return true;
  }
  return false;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

ImageInfo imageFrom(const json& j) {
  ImageInfo info;
  info.id = j.value("Id", "");
  info.repoTags = strings(j, "RepoTags");
  info.repoDigests = strings(j, "RepoDigests");
  info.size = j.value("Size", int64_t{0});
  const json& created = j.value("Created", json());
  info.created = created.is_string()   ? created.get<std::string>()
                 : created.is_number() ? std::to_string(created.get<int64_t>())
                                       : "";
  const json& config = j.value("Config", json::object());
  const json& labels = j.contains("Labels") ? j["Labels"] : config.value("Labels", json());
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      if (it.value().is_string()) info.labels[it.key()] = it.value().get<std::string>();
    }
  }
  return info;
}

class DockerImages final : public ImageRuntime {
 public:
  explicit DockerImages(std::shared_ptr<Client> client) : client_(std::move(client)) {}

  StatusOr<ImageInfo> pull(const std::string& ref, const RegistryAuth& auth,
                           const PullSink& progress, CancelToken* cancel) override {
    const std::string what = "docker: pull image '" + ref + "'";
    auto parsed = parseImageRef(ref);
    if (!parsed) return parsed.status().withContext(what);
    http::QueryParams q;
    q["fromImage"] = parsed->repository;
    q["tag"] = parsed->digest.empty() ? parsed->tag : parsed->digest;
    Request req{Method::kPost, "/images/create?" + http::buildQuery(q)};
    // The daemon wants the header even for public images (an empty object).
    req.headers.emplace_back("X-Registry-Auth", encodeRegistryAuth(auth));

    wire::LineSplitter lines;
    std::string pullError;
    auto onLine = [&](std::string_view line) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_object()) return true;  // not ours to judge; the final inspect decides
      if (j.contains("error")) {
        pullError = j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
        return false;
      }
      if (progress) {
        PullProgress p;
        p.status = j.value("status", "");
        p.id = j.value("id", "");
        const json& d = j.value("progressDetail", json::object());
        p.current = d.value("current", int64_t{0});
        p.total = d.value("total", int64_t{0});
        progress(p);
      }
      return true;
    };
    auto resp = client_->stream(
        req, [&](std::string_view data) { return lines.feed(data, onLine); }, cancel);
    if (!resp) return resp.status().withContext(what);
    if (resp->status >= 300) {
      Status s = wire::errorFromResponse(resp->status, resp->body);
      if (resp->status >= 500) s = Status(classifyPullError(s.message()), s.message());
      return s.withContext(what);
    }
    if (cancel && cancel->cancelled()) return unavailable(what + ": cancelled");
    if (pullError.empty()) lines.finish(onLine);
    if (!pullError.empty())
      return Status(classifyPullError(pullError), pullError).withContext(what);
    auto info = inspect(parsed->str());
    if (!info) return info.status().withContext(what + ": after the pull");
    return info;
  }

  StatusOr<ImageInfo> inspect(const std::string& ref) override {
    const std::string what = "docker: inspect image '" + ref + "'";
    auto resp = call({Method::kGet, "/images/" + wire::escapeRef(ref) + "/json"}, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_object()) return internalError(what + ": the answer is not JSON");
    return imageFrom(j);
  }

  StatusOr<bool> exists(const std::string& ref) override {
    auto info = inspect(ref);
    if (info) return true;
    if (info.status().code() == Code::kNotFound) return false;
    return info.status();
  }

  StatusOr<std::vector<ImageInfo>> list() override {
    const std::string what = "docker: list images";
    auto resp = call({Method::kGet, "/images/json"}, what);
    if (!resp) return resp.status();
    auto j = json::parse(resp->body, nullptr, false);
    if (!j.is_array()) return internalError(what + ": the answer is not a JSON array");
    std::vector<ImageInfo> out;
    for (const auto& i : j) out.push_back(imageFrom(i));
    return out;
  }

  Status tag(const std::string& source, const std::string& target) override {
    const std::string what = "docker: tag image '" + source + "' as '" + target + "'";
    auto parsed = parseImageRef(target);
    if (!parsed) return parsed.status().withContext(what);
    if (!parsed->digest.empty()) return invalidArgument(what + ": a tag cannot carry a digest");
    http::QueryParams q{{"repo", parsed->repository}, {"tag", parsed->tag}};
    return call({Method::kPost,
                 "/images/" + wire::escapeRef(source) + "/tag?" + http::buildQuery(q)},
                what)
        .status();
  }

  Status remove(const std::string& ref, bool force) override {
    const std::string what = "docker: remove image '" + ref + "'";
    return call({Method::kDelete,
                 "/images/" + wire::escapeRef(ref) + (force ? "?force=1" : "?force=0")},
                what)
        .status();
  }

 private:
  StatusOr<Response> call(const Request& req, const std::string& what) {
    auto resp = client_->call(req);
    if (!resp) return resp.status().withContext(what);
    if (resp->status >= 300) {
      return wire::errorFromResponse(resp->status, resp->body).withContext(what);
    }
    return resp;
  }

  std::shared_ptr<Client> client_;
};

}  // namespace

Code classifyPullError(std::string_view message) {
  if (contains(message, {"unauthorized", "denied", "authentication required"})) {
    return Code::kPermissionDenied;
  }
  if (contains(message, {"manifest unknown", "not found", "does not exist"})) {
    return Code::kNotFound;
  }
  if (contains(message, {"connection refused", "no such host", "i/o timeout", "dial ",
                         "network is unreachable", "TLS handshake", "timeout"})) {
    return Code::kUnavailable;
  }
  return Code::kInternal;
}

std::unique_ptr<ImageRuntime> fromClient(std::shared_ptr<runtime::docker::Client> client) {
  return std::make_unique<DockerImages>(std::move(client));
}

}  // namespace lb::runtime::cii::docker
