#pragma once

// Errors as values across component boundaries. A Status carries a kind
// (which maps to an HTTP status in exactly one place, src/client/http_errors.cc), a
// human message, and optionally the field path of the input that was wrong.

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace lb {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // malformed input; 400 (or 422 when a field is named)
  kUnauthenticated,   // missing or bad token; 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kAlreadyExists,     // duplicate create; 409
  kConflict,          // stale revision on compare-and-swap; 409
  kTooLarge,          // body or value over a limit; 413
  kUnsupported,       // unsupported media type / unknown kind; 415
  kOutOfRange,        // e.g. a watch revision that was compacted away; 410
  kUnavailable,       // a dependency (store, dockerd) cannot be reached; 503
  kDeadlineExceeded,  // 504
  kInternal,          // a bug or an unexpected failure; 500
};

const char* codeName(Code code);

// [[nodiscard]]: an error dropped on the floor is a bug; a caller that means
// to ignore one says so (and why) by logging it or with (void).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status ok() { return {}; }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // Path of the offending input field ("spec.template.containers[0].image.name"), or empty.
  const std::string& field() const { return field_; }

  // Returns a copy whose message is "<context>: <message>" — each hop adds its context.
  Status withContext(const std::string& context) const {
    if (isOk()) return *this;
    return Status(code_, context + ": " + message_, field_);
  }

  // "field: message" when a field is set, else the message.
  std::string toString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
};

inline Status invalidArgument(std::string msg, std::string field = {}) {
  return {Code::kInvalidArgument, std::move(msg), std::move(field)};
}
inline Status notFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
inline Status alreadyExists(std::string msg) { return {Code::kAlreadyExists, std::move(msg)}; }
inline Status conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
inline Status unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
inline Status internalError(std::string msg) { return {Code::kInternal, std::move(msg)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).isOk() && "StatusOr built from an OK status");
  }

  bool isOk() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return isOk(); }

  const Status& status() const {
    static const Status kOkStatus;
    return isOk() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lb

// Propagate a non-OK Status (optionally with context) from the current function.
#define LB_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::lb::Status lb_status_ = (expr);     \
    if (!lb_status_.isOk()) return lb_status_; \
  } while (0)
