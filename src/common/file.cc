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
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return fail("write " + tmp);
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
  return Status::ok();
}

}  // namespace lb
