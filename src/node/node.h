#pragma once

// `lastbackend node`: the node agent process (see docs/node.md).

#include "lastbackend/config/config.h"

namespace lb::node {

// Opens the runtimes, registers with the api (config.api.uri, config.token),
// serves the node HTTP port, runs until SIGTERM/SIGINT. Beyond the option
// table it reads DOCKER_HOST (as docker's own tools do).
// Exit codes: 0 clean stop, 1 runtime failure, 2 configuration error.
int run(const config::NodeConfig& config);

}  // namespace lb::node

#include <memory>
#include <string>

#include "lastbackend/common/status.h"

namespace lb::node {

// The agent with everything it needs (runtimes, api client, node server),
// started; shared by `lastbackend node` and `lastbackend server`.
class NodeProcess {
 public:
  static StatusOr<std::unique_ptr<NodeProcess>> start(const config::NodeConfig& config);
  ~NodeProcess();
  void stop();
  const std::string& name() const;
  uint16_t port() const;

  struct Parts;

 private:
  std::unique_ptr<Parts> parts_;
};

}  // namespace lb::node
