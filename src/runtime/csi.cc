// What every CSI driver shares: the one name check.

#include "lastbackend/runtime/csi.h"

namespace lb::runtime::csi {

Status validateName(std::string_view name, std::string_view what) {
  std::string w(what);
  std::string shown(name.substr(0, 64));
  if (name.empty()) return invalidArgument(w + " name is empty", w);
  if (name.find('\0') != std::string_view::npos) {
    return invalidArgument(w + " name has a NUL byte", w);
  }
  if (name == "." || name == "..") {
    return invalidArgument(w + " name '" + shown + "' is a relative path component", w);
  }
  if (name.find('/') != std::string_view::npos) {
    return invalidArgument(w + " name '" + shown + "' has a '/' (absolute or nested path)", w);
  }
  if (name.size() > 255) return invalidArgument(w + " name is longer than 255 bytes", w);
  return Status::ok();
}

}  // namespace lb::runtime::csi
