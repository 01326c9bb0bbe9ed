#pragma once

// An in-memory ImageRuntime. Images are added by the test (addImage) or by
// pull when the ref was made "pullable" (addRemote); pulling anything else
// fails kNotFound like a registry would. Errors can be injected per method
// ("pull", "inspect", "exists", "list", "tag", "remove"). Thread-safe.

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fakes/runtime/error_injector.h"
#include "lastbackend/runtime/cii.h"

namespace lb::fakes {

class FakeImageRuntime : public runtime::cii::ImageRuntime {
 public:
  using ImageInfo = runtime::cii::ImageInfo;

  // Normalizes "busybox" to "busybox:latest" as a daemon would.
  static std::string canonical(const std::string& ref) {
    auto r = runtime::cii::parseImageRef(ref);
    return r ? r->str() : ref;
  }

  // A local image with this tag (id derived from the ref unless given).
  void addImage(const std::string& ref, std::string id = {}) {
    std::lock_guard lock(mu_);
    if (id.empty()) id = "sha256:" + std::to_string(std::hash<std::string>{}(ref));
    tags_[canonical(ref)] = id;
  }
  // An image the fake "registry" has: pull(ref) succeeds and adds it.
  void addRemote(const std::string& ref, std::string requiredUser = {}) {
    std::lock_guard lock(mu_);
    remote_[canonical(ref)] = std::move(requiredUser);
  }
  // Containers using an image make remove(force=false) fail with kConflict.
  void setInUse(const std::string& ref, bool inUse) {
    std::lock_guard lock(mu_);
    if (inUse) {
      inUse_.insert(canonical(ref));
    } else {
      inUse_.erase(canonical(ref));
    }
  }
  bool has(const std::string& ref) const {
    std::lock_guard lock(mu_);
    return tags_.count(canonical(ref)) > 0;
  }
  ErrorInjector& errors() { return errors_; }
  std::vector<std::string> pulled() const {
    std::lock_guard lock(mu_);
    return pulled_;
  }
  // Every pull call, failed or not.
  int pullAttempts() const {
    std::lock_guard lock(mu_);
    return pullAttempts_;
  }

  StatusOr<ImageInfo> pull(const std::string& ref, const runtime::cii::RegistryAuth& auth,
                           const runtime::cii::PullSink& progress,
                           runtime::CancelToken* cancel = nullptr) override {
    const std::string what = "fake: pull image '" + ref + "'";
    {
      std::lock_guard lock(mu_);
      ++pullAttempts_;
    }
    LB_RETURN_IF_ERROR(errors_.check("pull").withContext(what));
    auto parsed = runtime::cii::parseImageRef(ref);
    if (!parsed) return parsed.status().withContext(what);
    if (cancel && cancel->cancelled()) return unavailable(what + ": cancelled");
    {
      std::lock_guard lock(mu_);
      auto it = remote_.find(parsed->str());
      if (it == remote_.end()) return notFound(what + ": manifest unknown");
      if (!it->second.empty() && auth.username != it->second) {
        return Status(Code::kPermissionDenied, what + ": unauthorized");
      }
      pulled_.push_back(parsed->str());
    }
    if (progress) progress({"Pulling from " + parsed->repository, "", 0, 0});
    addImage(parsed->str());
    if (progress) progress({"Status: Downloaded newer image for " + parsed->str(), "", 1, 1});
    return inspect(parsed->str());
  }

  StatusOr<ImageInfo> inspect(const std::string& ref) override {
    LB_RETURN_IF_ERROR(errors_.check("inspect").withContext("fake: inspect image '" + ref + "'"));
    std::lock_guard lock(mu_);
    auto info = find(ref);
    if (!info) return notFound("fake: inspect image '" + ref + "': No such image");
    return *info;
  }

  StatusOr<bool> exists(const std::string& ref) override {
    LB_RETURN_IF_ERROR(errors_.check("exists").withContext("fake: image '" + ref + "'"));
    std::lock_guard lock(mu_);
    return find(ref).has_value();
  }

  StatusOr<std::vector<ImageInfo>> list() override {
    LB_RETURN_IF_ERROR(errors_.check("list").withContext("fake: list images"));
    std::lock_guard lock(mu_);
    std::map<std::string, ImageInfo> byId;
    for (const auto& [tag, id] : tags_) {
      byId[id].id = id;
      byId[id].repoTags.push_back(tag);
    }
    std::vector<ImageInfo> out;
    for (auto& [id, info] : byId) out.push_back(std::move(info));
    return out;
  }

  Status tag(const std::string& source, const std::string& target) override {
    const std::string what = "fake: tag image '" + source + "' as '" + target + "'";
    LB_RETURN_IF_ERROR(errors_.check("tag").withContext(what));
    std::lock_guard lock(mu_);
    auto info = find(source);
    if (!info) return notFound(what + ": No such image");
    tags_[canonical(target)] = info->id;
    return Status::ok();
  }

  Status remove(const std::string& ref, bool force) override {
    const std::string what = "fake: remove image '" + ref + "'";
    LB_RETURN_IF_ERROR(errors_.check("remove").withContext(what));
    std::lock_guard lock(mu_);
    std::string key = canonical(ref);
    if (!tags_.count(key)) return notFound(what + ": No such image");
    if (!force && inUse_.count(key)) return conflict(what + ": image is being used");
    tags_.erase(key);
    return Status::ok();
  }

 private:
  std::optional<ImageInfo> find(const std::string& ref) const {
    auto it = tags_.find(canonical(ref));
    std::string id;
    if (it != tags_.end()) {
      id = it->second;
    } else {
      for (const auto& [t, i] : tags_) {
        if (i == ref) id = i;
      }
    }
    if (id.empty()) return std::nullopt;
    ImageInfo info;
    info.id = id;
    for (const auto& [t, i] : tags_) {
      if (i == id) info.repoTags.push_back(t);
    }
    return info;
  }

  mutable std::mutex mu_;
  std::map<std::string, std::string> tags_;    // canonical ref -> id
  std::map<std::string, std::string> remote_;  // canonical ref -> required user
  std::set<std::string> inUse_;
  std::vector<std::string> pulled_;
  int pullAttempts_ = 0;
  ErrorInjector errors_;
};

}  // namespace lb::fakes
