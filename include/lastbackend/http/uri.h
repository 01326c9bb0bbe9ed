#pragma once

// Percent-encoding helpers shared by the server (decoding targets) and the
// client (building them). Decoding never guesses: a malformed escape is an
// error, so "%zz" or a dangling "%" cannot slip through as literal text.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lastbackend/common/status.h"

namespace lb::http {

// Decodes %XX escapes (and '+' as space when plusAsSpace, for query strings).
// nullopt on a malformed escape.
std::optional<std::string> percentDecode(std::string_view in, bool plusAsSpace = false);

// Encodes everything but RFC 3986 unreserved characters.
std::string percentEncode(std::string_view in);

// "/a/b?x=1" -> {"/a/b", "x=1"}. The fragment, if any, is dropped.
struct Target {
  std::string path;
  std::string query;
};
Target splitTarget(std::string_view target);

using QueryParams = std::map<std::string, std::string>;

// "a=1&b=x%20y" -> {a:1, b:"x y"}. A repeated key keeps its last value.
// kInvalidArgument on a malformed escape.
StatusOr<QueryParams> parseQuery(std::string_view query);

// Inverse of parseQuery (keys sorted); empty map -> "".
std::string buildQuery(const QueryParams& params);

}  // namespace lb::http
