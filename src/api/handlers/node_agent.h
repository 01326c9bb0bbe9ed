#pragma once

// Private to the REST API: what the node agents need beyond plain CRUD
// (docs/node-protocol.md) — the long-poll of a node's spec and the proxy of
// service logs to the node agents that run the service's pods.

#include <functional>
#include <string>

#include "api/context.h"
#include "lastbackend/http/message.h"

namespace lb::api {

// GET /cluster/node/{node}/spec?revision=N&timeout=25s: answers once a
// manifest of the node changed after store revision N, or when the timeout
// (default 25 s, at most 60 s) passes, with the listing `body` produces.
// Streams (a thread of its own), so waiting nodes do not hold API workers.
http::Response longPollNodeSpec(const Context& ctx, const http::Request& req,
                                std::function<StatusOr<std::string>()> body);

// "25s", "500ms", "25" (seconds) -> milliseconds; nullopt when malformed.
std::optional<std::chrono::milliseconds> parseWait(const std::string& text);

// GET /namespace/{ns}/service/{svc}/logs?follow=&tail=: the output of the
// service's pods, streamed from the node agents that run them (their
// internal IP, port from the node label "lastbackend.node.port", default
// 2965), with the caller's bearer token. One pod: its lines as they are;
// several: each line prefixed "[<pod>] ". 503 when no pod runs on a node.
http::Response serviceLogs(const Context& ctx, const http::Request& req, const std::string& ns,
                           const std::string& service);

}  // namespace lb::api
