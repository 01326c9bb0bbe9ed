#pragma once

// The docker CII driver: images through the Docker Engine API.

#include <memory>

#include "lastbackend/runtime/cii.h"
#include "lastbackend/runtime/factory.h"
#include "runtime/docker/client.h"

namespace lb::runtime::cii::docker {

// The driver over a connected client (runtime::docker::openWith opens one).
std::unique_ptr<ImageRuntime> fromClient(std::shared_ptr<runtime::docker::Client> client);

// The kind of a pull failure from the registry's message (the daemon answers
// 500 for most of them): kUnavailable for network errors, kNotFound for an
// unknown repository/tag, kPermissionDenied for auth failures.
Code classifyPullError(std::string_view message);

}  // namespace lb::runtime::cii::docker
