#pragma once

// Opening a Client from the drivers' options (shared by CRI and CII).

#include <memory>

#include "lastbackend/runtime/factory.h"
#include "runtime/docker/client.h"

namespace lb::runtime::docker {

StatusOr<std::shared_ptr<Client>> openClient(const DockerOptions& options);

}  // namespace lb::runtime::docker
