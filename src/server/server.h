#pragma once

// `lastbackend server`: the REST API, the controller, discovery and a node agent in one
// process, on one store (embedded SQLite by default) — the one-machine
// cluster a newcomer runs. See docs/node.md ("lastbackend server").

#include "lastbackend/config/config.h"

namespace lb::server {

// Starts api, controller and node; writes the cluster "local" (endpoint and
// token) into $HOME/.lastbackend/config.yml and selects it, so `lb` works at
// once; runs until SIGTERM/SIGINT, then stops node, controller and api.
// Without a token one is generated once and kept in <workdir>/token (0600).
// Env: LB_SERVER_NO_NODE=1 runs without the node agent (no dockerd needed);
// LB_SERVER_NO_CLI_CONFIG=1 leaves the lb config alone.
// Exit codes: 0 clean stop, 1 runtime failure, 2 configuration error.
int run(const config::ServerConfig& config);

}  // namespace lb::server
