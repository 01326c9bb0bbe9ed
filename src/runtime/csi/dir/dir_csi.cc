#include "runtime/csi/dir/dir_csi.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

namespace lb::runtime::csi::dir {
namespace {

namespace fs = std::filesystem;

Status errnoStatus(const std::string& what, int err) {
  Code code = Code::kInternal;
  if (err == EACCES || err == EPERM || err == EROFS) code = Code::kPermissionDenied;
  if (err == ENOENT) code = Code::kNotFound;
  if (err == ENOSPC || err == EDQUOT) code = Code::kTooLarge;
  return Status(code, what + ": " + std::strerror(err));
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class DirVolumes final : public VolumeRuntime {
 public:
  explicit DirVolumes(std::string root) : root_(std::move(root)) {}

  StatusOr<std::string> create(const std::string& name) override {
    const std::string what = "csi dir: create volume '" + name + "'";
    LB_RETURN_IF_ERROR(validateName(name, "volume").withContext(what));
    std::lock_guard lock(mu_);
    std::string p = root_ + "/" + name;
    if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
      return errnoStatus(what + ": mkdir " + p, errno);
    }
    LB_RETURN_IF_ERROR(checkInside(p, name).withContext(what));
    return p;
  }

  Status remove(const std::string& name) override {
    const std::string what = "csi dir: remove volume '" + name + "'";
    LB_RETURN_IF_ERROR(validateName(name, "volume").withContext(what));
    std::lock_guard lock(mu_);
    std::string p = root_ + "/" + name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::ok();
      return errnoStatus(what + ": lstat " + p, errno);
    }
    // remove_all unlinks symlinks instead of following them, so nothing
    // outside the volume is touched even if the container planted links.
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec) return errnoStatus(what + ": remove " + p, ec.value());
    return Status::ok();
  }

  StatusOr<std::string> path(const std::string& name) override {
    const std::string what = "csi dir: volume '" + name + "'";
    LB_RETURN_IF_ERROR(validateName(name, "volume").withContext(what));
    std::string p = root_ + "/" + name;
    LB_RETURN_IF_ERROR(checkInside(p, name).withContext(what));
    return p;
  }

  StatusOr<std::vector<std::string>> list() override {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) out.push_back(it->path().filename());
    }
    if (ec) return errnoStatus("csi dir: list volumes in " + root_, ec.value());
    std::sort(out.begin(), out.end());
    return out;
  }

  Status writeFiles(const std::string& name, const std::map<std::string, std::string>& data,
                    const std::vector<std::string>& keys) override {
    const std::string what = "csi dir: write files into volume '" + name + "'";
    LB_RETURN_IF_ERROR(validateName(name, "volume").withContext(what));
    std::set<std::string> wanted;
    if (keys.empty()) {
      for (const auto& [k, v] : data) wanted.insert(k);
    } else {
      wanted.insert(keys.begin(), keys.end());
    }
    for (const auto& k : wanted) {
      LB_RETURN_IF_ERROR(validateName(k, "file").withContext(what));
      if (!data.count(k)) return notFound(what + ": no key '" + k + "' in the data");
    }
    std::lock_guard lock(mu_);
    std::string p = root_ + "/" + name;
    LB_RETURN_IF_ERROR(checkInside(p, name).withContext(what));
    // Everything below is relative to this descriptor, opened without
    // following a symlink, so a link swapped in cannot redirect the writes.
    Fd dir(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) return errnoStatus(what + ": open " + p, errno);
    for (const auto& k : wanted) {
      LB_RETURN_IF_ERROR(writeOne(dir.get(), k, data.at(k)).withContext(what));
    }
    return removeOthers(dir.get(), wanted).withContext(what);
  }

 private:
  // The volume must be a real directory directly under the root.
  Status checkInside(const std::string& p, const std::string& name) const {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return notFound("no such volume");
      return errnoStatus("lstat " + p, errno);
    }
    if (S_ISLNK(st.st_mode)) return Status(Code::kPermissionDenied, p + " is a symlink");
    if (!S_ISDIR(st.st_mode)) return Status(Code::kConflict, p + " is not a directory");
    char buf[PATH_MAX];
    if (!::realpath(p.c_str(), buf)) return errnoStatus("realpath " + p, errno);
    if (std::string(buf) != root_ + "/" + name) {
      return Status(Code::kPermissionDenied, p + " resolves outside the root " + root_);
    }
    return Status::ok();
  }

  Status writeOne(int dirfd, const std::string& key, const std::string& value) {
    std::string tmp = "..lb-tmp-" + key.substr(0, 200) + "-" + std::to_string(::getpid()) + "-" +
                      std::to_string(counter_++);
    int fd =
        ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) return errnoStatus("create " + tmp, errno);
    Fd guard(fd);
    size_t off = 0;
    while (off < value.size()) {
      ssize_t n = ::write(fd, value.data() + off, value.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::unlinkat(dirfd, tmp.c_str(), 0);
        return errnoStatus("write " + key, err);
      }
      off += static_cast<size_t>(n);
    }
    // The umask may have cleared bits of 0444; set it exactly.
    if (::fchmod(fd, 0444) != 0 || ::fsync(fd) != 0) {
      int err = errno;
      ::unlinkat(dirfd, tmp.c_str(), 0);
      return errnoStatus("finish " + key, err);
    }
    if (::renameat(dirfd, tmp.c_str(), dirfd, key.c_str()) != 0) {
      int err = errno;
      ::unlinkat(dirfd, tmp.c_str(), 0);
      return errnoStatus("rename into " + key, err);
    }
    return Status::ok();
  }

  // Removes files (and links) at the top of the volume that are not wanted.
  Status removeOthers(int dirfd, const std::set<std::string>& wanted) {
    int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return errnoStatus("dup", errno);
    DIR* d = ::fdopendir(dup);
    if (!d) {
      int err = errno;
      ::close(dup);
      return errnoStatus("opendir", err);
    }
    std::vector<std::string> stale;
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == ".." || wanted.count(n)) continue;
      struct stat st;
      if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
        stale.push_back(n);
      }
    }
    ::closedir(d);
    for (const auto& n : stale) {
      if (::unlinkat(dirfd, n.c_str(), 0) != 0 && errno != ENOENT) {
        return errnoStatus("remove stale " + n, errno);
      }
    }
    return Status::ok();
  }

  const std::string root_;  // realpath of the root
  std::mutex mu_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

StatusOr<std::unique_ptr<VolumeRuntime>> open(const std::string& root) {
  const std::string what = "csi dir: root '" + root + "'";
  if (root.empty() || root[0] != '/') return invalidArgument(what + ": not an absolute path");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return errnoStatus(what + ": mkdir", ec.value());
  char buf[PATH_MAX];
  if (!::realpath(root.c_str(), buf)) return errnoStatus(what + ": realpath", errno);
  std::string real = buf;
  if (real == "/") return invalidArgument(what + ": the root directory cannot be a volume root");
  return std::unique_ptr<VolumeRuntime>(new DirVolumes(real));
}

}  // namespace lb::runtime::csi::dir
