#pragma once

// Whole-file writes that never leave a torn file behind.

#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb {

// Writes `text` to `path` through a temp file of its own next to it
// (`path`.XXXXXX): written, fsync'd, renamed over `path`, then the directory
// fsync'd, so a crash or power loss leaves the old file or the new one,
// never a part. The file gets `mode` (0600: tokens and state are the owner's).
// kUnavailable names the file and the system's reason.
Status writeFileAtomic(const std::string& path, std::string_view text, unsigned mode = 0600);

}  // namespace lb
