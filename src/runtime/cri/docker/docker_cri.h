#pragma once

// The docker CRI driver: containers through the Docker Engine API.

#include <memory>

#include "lastbackend/runtime/cri.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/docker/client.h"

namespace lb::runtime::cri::docker {

// Connects (and negotiates the API version); kUnavailable when the socket
// does not answer, kInvalidArgument for a tcp:// host.
StatusOr<std::unique_ptr<ContainerRuntime>> open(const DockerOptions& options);

// For tests and the CII driver sharing one connection setup.
std::unique_ptr<ContainerRuntime> fromClient(std::shared_ptr<runtime::docker::Client> client);

// The create body of a spec (exposed for unit tests).
StatusOr<std::string> createBody(const ContainerSpec& spec);

}  // namespace lb::runtime::cri::docker
