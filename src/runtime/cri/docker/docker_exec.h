#pragma once

// Private to the docker CRI driver: commands run in a container with their
// streams attached (ExecSession, over a hijacked /exec/{id}/start), and the
// kill of an exec's process, which Docker has no call for.

#include <memory>
#include <string>

#include "lastbackend/runtime/cri.h"
#include "runtime/docker/client.h"

namespace lb::runtime::cri::docker {

// Creates the exec in container `id` and starts it attached.
StatusOr<std::unique_ptr<ExecSession>> openExecSession(
    std::shared_ptr<runtime::docker::Client> client, const std::string& id,
    const ExecSessionOptions& options);

// SIGKILL to a running exec's process; says what became of it (" (killed)",
// or why not; "" when it had finished). Docker reports the pid as the host
// sees it: it is killed only if /proc shows it in the exec's container's
// cgroup (an agent in another pid namespace kills nothing).
std::string killExec(const runtime::docker::Client& client, const std::string& execId);

}  // namespace lb::runtime::cri::docker
