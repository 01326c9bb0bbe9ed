#include "lastbackend/common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lb {

Status writeFileAtomic(const std::string& path, std::string_view text, unsigned mode) {
  auto fail = [&](const std::string& what) {
    return Status(Code::kUnavailable, "cannot " + what + ": " + std::strerror(errno));
  };
  // A temp name of its own (two writers never share one), next to `path`
  // so the rename stays on one filesystem.
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return fail("write a temp file next to " + path);
  ::fchmod(fd, mode);  // an old temp file may have had other bits
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = fail("write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = fail("sync " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = fail("replace " + path);
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename itself lasts once the directory is synced.
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

}  // namespace lb
