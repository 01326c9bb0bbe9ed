#pragma once

// CII — the container image interface: pull, inspect, list, tag and remove
// images on a node. A driver (docker) is chosen by name from the table in
// src/runtime/drivers.h. Errors are lb::Status with context
// ("docker: pull image 'localhost:1/x:y': 500 Get \"https://localhost:1/v2/\": ...").
// Every method is thread-safe; pull blocks the calling thread.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"
#include "lastbackend/runtime/cancel.h"

namespace lb::runtime::cii {

// Credentials for a private registry (from an "auth" secret).
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string serverAddress;  // "registry.example.com"; empty = from the image name
  std::string identityToken;  // instead of username/password
  bool empty() const { return username.empty() && password.empty() && identityToken.empty(); }
};

// The X-Registry-Auth header value Docker expects: the credentials as JSON
// ({"username","password","serveraddress"} or {"identitytoken"}), base64url.
std::string encodeRegistryAuth(const RegistryAuth& auth);

// "registry:5000/team/app:1.2@sha256:..." split into its parts. A missing tag
// (and no digest) means "latest".
struct ImageRef {
  std::string repository;   // "registry:5000/team/app"
  std::string tag;          // "1.2" (empty only with a digest)
  std::string digest;       // "sha256:..." or empty
  std::string str() const;  // repository[:tag][@digest]
};
StatusOr<ImageRef> parseImageRef(std::string_view ref);

enum class PullPolicy { kAlways, kIfNotPresent, kNever };

// "Always" | "IfNotPresent" | "Never" (case-insensitive, "-"/"_" ignored);
// "" = IfNotPresent. kInvalidArgument lists the valid words.
StatusOr<PullPolicy> parsePullPolicy(std::string_view text);
const char* pullPolicyName(PullPolicy policy);
// Whether a pull is due under `policy` given that the image is (not) present.
bool shouldPull(PullPolicy policy, bool present);

struct ImageInfo {
  std::string id;  // "sha256:..."
  std::vector<std::string> repoTags;
  std::vector<std::string> repoDigests;
  int64_t size = 0;
  std::string created;  // RFC 3339 (inspect) or unix seconds as text (list)
  std::map<std::string, std::string> labels;
};

// One progress message of a pull ("Downloading", current/total bytes).
struct PullProgress {
  std::string status;
  std::string id;  // layer id
  int64_t current = 0;
  int64_t total = 0;
};
using PullSink = std::function<void(const PullProgress&)>;

class ImageRuntime {
 public:
  virtual ~ImageRuntime() = default;

  // Pulls `ref` (auth may be empty) and returns the pulled image. Progress
  // messages go to `progress` (may be empty). Fails with the registry's
  // message (kNotFound for an unknown image/tag, kUnavailable when the
  // registry cannot be reached, kPermissionDenied for bad credentials);
  // cancelling returns kUnavailable "cancelled".
  virtual StatusOr<ImageInfo> pull(const std::string& ref, const RegistryAuth& auth,
                                   const PullSink& progress, CancelToken* cancel = nullptr) = 0;

  // The image by name, tag or id; kNotFound when not present.
  virtual StatusOr<ImageInfo> inspect(const std::string& ref) = 0;

  // Whether the image is present (false, not an error, when it is not).
  virtual StatusOr<bool> exists(const std::string& ref) = 0;

  // Every image on the node (tagged or not, no intermediate layers).
  virtual StatusOr<std::vector<ImageInfo>> list() = 0;

  // Adds tag `target` ("repo:tag") to the image `source`.
  virtual Status tag(const std::string& source, const std::string& target) = 0;

  // Removes the tag or image `ref`; kConflict when a container uses it
  // (unless force), kNotFound when absent.
  virtual Status remove(const std::string& ref, bool force) = 0;
};

// Applies `policy` for `ref`: pulls when due; kNotFound for Never with the
// image absent. Shared by every driver (uses only the interface).
Status ensureImage(ImageRuntime& images, const std::string& ref, PullPolicy policy,
                   const RegistryAuth& auth, const PullSink& progress = {},
                   CancelToken* cancel = nullptr);

}  // namespace lb::runtime::cii
