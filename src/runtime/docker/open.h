#pragma once

// Opening the docker drivers: one connection setup for CRI and CII.

#include <memory>

#include "lastbackend/runtime/factory.h"
#include "runtime/docker/client.h"

namespace lb::runtime::docker {

// Connects (and negotiates the API version); kUnavailable when the socket
// does not answer, kInvalidArgument for a tcp:// host.
StatusOr<std::shared_ptr<Client>> openClient(const DockerOptions& options);

// The open() of a docker driver: openClient(), then the driver's
// fromClient() over that connection.
template <typename Runtime>
StatusOr<std::unique_ptr<Runtime>> openWith(
    const DockerOptions& options, std::unique_ptr<Runtime> (*fromClient)(std::shared_ptr<Client>)) {
  auto client = openClient(options);
  if (!client) return client.status();
  return fromClient(std::move(*client));
}

}  // namespace lb::runtime::docker
