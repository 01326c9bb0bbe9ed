#pragma once

// Splits a command line the way a POSIX shell tokenizes words: whitespace
// separates, single quotes are literal, double quotes allow \" \\ \$ \`
// escapes, a backslash outside quotes escapes the next character. No
// expansion happens. Unterminated quotes or a trailing backslash are errors.

#include <string>
#include <string_view>
#include <vector>

#include "lastbackend/common/status.h"

namespace lb::types {

StatusOr<std::vector<std::string>> splitShell(std::string_view line);

}  // namespace lb::types
