#pragma once

// A unified diff (diff -u) of two texts, line by line, for
// `lb namespace diff`.

#include <string>
#include <string_view>

namespace lb::cli {

// "" when the texts are equal; else the "--- from" / "+++ to" header and
// hunks with `context` lines around each change. Texts past a few thousand
// differing lines are shown as one replacement rather than a minimal diff.
std::string unifiedDiff(std::string_view from, std::string_view to, std::string_view fromLabel,
                        std::string_view toLabel, int context = 3);

}  // namespace lb::cli
