#pragma once

// Private: text <-> nlohmann::json trees, the one place where JSON and YAML
// library exceptions are caught and turned into Status.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::types::detail {

// Sorted std::map objects, not ordered_json: ordered_json inserts by linear
// search, so a 4 MiB document with one huge mapping would parse in quadratic
// time. Output keys are therefore alphabetical.
using Json = nlohmann::json;

// Error naming `field` (may be empty). The one helper for field-path errors.
Status fieldError(const std::string& field, std::string message);
// "a.b" / "b" when the parent path is empty.
std::string childPath(const std::string& parent, std::string_view key);
std::string indexPath(const std::string& parent, size_t index);

// kInvalidArgument unless `text` is valid UTF-8 without NUL bytes.
Status checkUtf8(std::string_view text);
// Strict JSON; caps size (kTooLarge) and nesting depth.
Status parseJsonTree(std::string_view text, size_t maxBytes, Json* out);
// All YAML documents. Plain scalars become strings ("~", "null" and empty
// become null), so typed decoders must read numbers/bools from text (see
// DecodeContext::yaml). Empty documents are kept as null.
Status parseYamlTree(std::string_view text, size_t maxBytes, std::vector<Json>* out);

std::string dumpJson(const Json& j, bool pretty);
std::string dumpYaml(const Json& j);

}  // namespace lb::types::detail
