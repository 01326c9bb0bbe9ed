#include "lastbackend/http/errors.h"

#include <nlohmann/json.hpp>

namespace lb::http {

int httpStatusFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return status.field().empty() ? 400 : 422;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists:
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnsupported: return 415;
    case Code::kOutOfRange: return 410;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kInternal: return 500;
  }
  return 500;
}

Code codeForHttpStatus(int httpStatus) {
  switch (httpStatus) {
    case 400: case 422: return Code::kInvalidArgument;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 405: return Code::kUnsupported;
    case 408: return Code::kDeadlineExceeded;
    case 409: return Code::kConflict;
    case 410: return Code::kOutOfRange;
    case 413: return Code::kTooLarge;
    case 415: return Code::kUnsupported;
    case 429: case 502: case 503: return Code::kUnavailable;
    case 504: return Code::kDeadlineExceeded;
    default: break;
  }
  if (httpStatus >= 200 && httpStatus < 400) return Code::kOk;
  if (httpStatus >= 400 && httpStatus < 500) return Code::kInvalidArgument;
  return Code::kInternal;
}

std::optional<Code> codeFromName(std::string_view name) {
  for (int i = static_cast<int>(Code::kOk); i <= static_cast<int>(Code::kInternal); ++i) {
    auto code = static_cast<Code>(i);
    if (name == codeName(code)) return code;
  }
  return std::nullopt;
}

std::string errorBody(const Status& status) {
  nlohmann::json j;
  j["code"] = httpStatusFor(status);
  j["status"] = codeName(status.code());
  j["message"] = status.message();
  if (!status.field().empty()) j["field"] = status.field();
  // Replace invalid UTF-8 instead of throwing: messages may quote user input.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int httpStatusFor(ProtocolError error) {
  switch (error) {
    case ProtocolError::kMethodNotAllowed: return 405;
    case ProtocolError::kHeadersTooLarge: return 431;
  }
  return 400;
}

std::string errorBody(ProtocolError error, std::string_view message) {
  const char* name = error == ProtocolError::kMethodNotAllowed ? "MethodNotAllowed" : "TooLarge";
  nlohmann::json j{{"code", httpStatusFor(error)}, {"status", name}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status statusFromResponse(int httpStatus, std::string_view body) {
  Code code = codeForHttpStatus(httpStatus);
  if (code == Code::kOk) code = Code::kInternal;  // caller asked for an error
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    std::string message = j.value("message", std::string());
    std::string field = j.value("field", std::string());
    if (j.contains("status") && j["status"].is_string()) {
      if (auto named = codeFromName(j["status"].get<std::string>()); named && *named != Code::kOk) {
        code = *named;
      }
    }
    if (message.empty()) message = "HTTP " + std::to_string(httpStatus);
    return Status(code, std::move(message), std::move(field));
  }
  // Not our JSON (a proxy page, plain text): keep a bounded piece of it.
  constexpr size_t kMaxMessage = 512;
  std::string message = "HTTP " + std::to_string(httpStatus);
  if (!body.empty()) message += ": " + std::string(body.substr(0, kMaxMessage));
  return Status(code, std::move(message));
}

}  // namespace lb::http
