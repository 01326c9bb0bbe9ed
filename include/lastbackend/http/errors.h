#pragma once

// The one place where error kinds meet HTTP: lb::Code <-> HTTP status, and
// the JSON error body both the server writes and the client reads back.
// Server and client share these functions so a Status survives the round
// trip (code, message and field) unchanged.

#include <optional>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb::http {

// HTTP status for a (non-OK) Status. kInvalidArgument with a field is 422,
// without one 400. kOk maps to 200.
int httpStatusFor(const Status& status);

// Best-effort inverse used when a body carries no (known) status name.
Code codeForHttpStatus(int httpStatus);

// Inverse of lb::codeName ("NotFound" -> kNotFound).
std::optional<Code> codeFromName(std::string_view name);

// {"code": <http status>, "status": "<Code name>", "message": "...", "field": "..."}
// ("field" only when set).
std::string errorBody(const Status& status);

// Answers of the HTTP engine that no lb::Code stands for: their status and
// JSON body (same shape, "status" names the kind) come from this map too.
enum class ProtocolError {
  kMethodNotAllowed,  // 405 "MethodNotAllowed"
  kHeadersTooLarge,   // 431 "TooLarge"
};
int httpStatusFor(ProtocolError error);
std::string errorBody(ProtocolError error, std::string_view message);

// Turns a non-2xx response back into a Status. Uses the body's "status",
// "message" and "field" when it is our JSON error; otherwise maps the HTTP
// status and keeps (a prefix of) the body as the message.
Status statusFromResponse(int httpStatus, std::string_view body);

}  // namespace lb::http
