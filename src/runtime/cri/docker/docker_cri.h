#pragma once

// The docker CRI driver: containers through the Docker Engine API.

#include <memory>

#include "lastbackend/runtime/cri.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/docker/client.h"

namespace lb::runtime::cri::docker {

// The driver over a connected client (runtime::docker::openWith opens one).
std::unique_ptr<ContainerRuntime> fromClient(std::shared_ptr<runtime::docker::Client> client);

// The create body of a spec (exposed for unit tests).
StatusOr<std::string> createBody(const ContainerSpec& spec);

}  // namespace lb::runtime::cri::docker
