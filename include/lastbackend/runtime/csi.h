#pragma once

// CSI — the container storage interface: volume directories on the node that
// containers bind-mount, and the files of secrets and configs projected into
// them. A driver (dir) is chosen by name from the table in
// src/runtime/drivers.h.
//
// Names (of volumes and of files) are single path components: validateName()
// rejects empty, ".", "..", any '/', NUL, and more than 255 bytes, and drivers
// also check with realpath that nothing resolves outside their root (a
// symlink planted in the root is refused). Errors are lb::Status with
// context ("csi dir: create volume 'data': mkdir /root/data: Permission denied").
// Every method is thread-safe.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::runtime::csi {

// OK, or kInvalidArgument naming what is wrong with `name` (`what` is
// "volume" or "file", for the message).
Status validateName(std::string_view name, std::string_view what);

class VolumeRuntime {
 public:
  virtual ~VolumeRuntime() = default;

  // Creates the volume directory (idempotent) and returns its host path.
  virtual StatusOr<std::string> create(const std::string& name) = 0;

  // Deletes the volume and everything in it (never following symlinks out of
  // it). Removing an absent volume is OK.
  virtual Status remove(const std::string& name) = 0;

  // Host path of an existing volume; kNotFound when it does not exist.
  virtual StatusOr<std::string> path(const std::string& name) = 0;

  // Names of the existing volumes, sorted.
  virtual StatusOr<std::vector<std::string>> list() = 0;

  // Projects a secret's or config's data into the volume as read-only files
  // (mode 0444), one per key, with exactly the bytes of the value. Only the
  // keys in `keys` are written (empty = every key); a listed key missing from
  // `data` is kNotFound. Afterwards the volume holds exactly these files:
  // other files left by an earlier projection are removed. Each file is
  // replaced atomically (a reader sees the old or the new content).
  virtual Status writeFiles(const std::string& name, const std::map<std::string, std::string>& data,
                            const std::vector<std::string>& keys) = 0;
};

}  // namespace lb::runtime::csi
