#pragma once

// The dir CSI driver: each volume is a directory <root>/<name> on the node.

#include <memory>
#include <string>

#include "lastbackend/runtime/csi.h"

namespace lb::runtime::csi::dir {

// Creates `root` (and parents) when missing; kInvalidArgument for a relative
// root, kPermissionDenied / kInternal when it cannot be made.
StatusOr<std::unique_ptr<VolumeRuntime>> open(const std::string& root);

}  // namespace lb::runtime::csi::dir
