#pragma once

// An in-memory VolumeRuntime: volumes are maps of file name -> bytes, paths
// are "/fake/volumes/<name>" (never touched on disk). Names are checked with
// the same validateName() the real drivers use. Errors can be injected per
// method ("create", "remove", "path", "list", "writeFiles"). Thread-safe.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fakes/runtime/error_injector.h"
#include "lastbackend/runtime/csi.h"

namespace lb::fakes {

class FakeVolumeRuntime : public runtime::csi::VolumeRuntime {
 public:
  using Files = std::map<std::string, std::string>;

  ErrorInjector& errors() { return errors_; }

  // The files of a volume (empty when it does not exist).
  Files files(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = volumes_.find(name);
    return it == volumes_.end() ? Files{} : it->second;
  }

  StatusOr<std::string> create(const std::string& name) override {
    const std::string what = "fake csi: create volume '" + name + "'";
    LB_RETURN_IF_ERROR(errors_.check("create").withContext(what));
    LB_RETURN_IF_ERROR(runtime::csi::validateName(name, "volume").withContext(what));
    std::lock_guard lock(mu_);
    volumes_[name];
    return pathOf(name);
  }

  Status remove(const std::string& name) override {
    const std::string what = "fake csi: remove volume '" + name + "'";
    LB_RETURN_IF_ERROR(errors_.check("remove").withContext(what));
    LB_RETURN_IF_ERROR(runtime::csi::validateName(name, "volume").withContext(what));
    std::lock_guard lock(mu_);
    volumes_.erase(name);
    return Status::ok();
  }

  StatusOr<std::string> path(const std::string& name) override {
    const std::string what = "fake csi: volume '" + name + "'";
    LB_RETURN_IF_ERROR(errors_.check("path").withContext(what));
    LB_RETURN_IF_ERROR(runtime::csi::validateName(name, "volume").withContext(what));
    std::lock_guard lock(mu_);
    if (!volumes_.count(name)) return notFound(what + ": no such volume");
    return pathOf(name);
  }

  StatusOr<std::vector<std::string>> list() override {
    LB_RETURN_IF_ERROR(errors_.check("list").withContext("fake csi: list volumes"));
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [n, f] : volumes_) out.push_back(n);
    return out;
  }

  Status writeFiles(const std::string& name, const std::map<std::string, std::string>& data,
                    const std::vector<std::string>& keys) override {
    const std::string what = "fake csi: write files into volume '" + name + "'";
    LB_RETURN_IF_ERROR(errors_.check("writeFiles").withContext(what));
    LB_RETURN_IF_ERROR(runtime::csi::validateName(name, "volume").withContext(what));
    std::set<std::string> wanted(keys.begin(), keys.end());
    if (keys.empty()) {
      for (const auto& [k, v] : data) wanted.insert(k);
    }
    for (const auto& k : wanted) {
      LB_RETURN_IF_ERROR(runtime::csi::validateName(k, "file").withContext(what));
      if (!data.count(k)) return notFound(what + ": no key '" + k + "' in the data");
    }
    std::lock_guard lock(mu_);
    auto it = volumes_.find(name);
    if (it == volumes_.end()) return notFound(what + ": no such volume");
    Files files;
    for (const auto& k : wanted) files[k] = data.at(k);
    it->second = std::move(files);
    return Status::ok();
  }

 private:
  static std::string pathOf(const std::string& name) { return "/fake/volumes/" + name; }

  mutable std::mutex mu_;
  std::map<std::string, Files> volumes_;
  ErrorInjector errors_;
};

}  // namespace lb::fakes
