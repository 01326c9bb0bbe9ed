#pragma once

// Pure text helpers of the `lb` CLI: tables in the reference layout, key/value
// blocks, relative ages and `k=v` arguments. No I/O, so unit tests cover them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lastbackend/common/clock.h"
#include "lastbackend/common/status.h"

namespace lb::cli {

// A table as the reference CLI prints it: a header row, a row of dashes as
// long as each header, then the rows. Columns are left-aligned, padded to the
// widest cell and separated by kColumnGap spaces; trailing blanks are cut.
// A row shorter than the header is padded with empty cells.
inline constexpr size_t kColumnGap = 3;

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }
  // `indent` spaces are put before every line (nested tables of `inspect`).
  std::string render(size_t indent = 0) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "LABEL<pad>value" lines, labels padded to the widest one plus kColumnGap
// (the `lb namespace create` / `lb route inspect` block). An empty value
// leaves the label alone on its line.
using Fields = std::vector<std::pair<std::string, std::string>>;
std::string renderFields(const Fields& fields, size_t indent = 0);

// "just now" (under a minute, or in the future), "1 minute ago",
// "2 hours ago", "6 days ago", "3 months ago" (30-day months), "2 years ago".
std::string formatAge(std::chrono::system_clock::time_point then,
                      std::chrono::system_clock::time_point now);
// Same from an RFC 3339 timestamp; "" when it is empty or unreadable.
std::string formatAge(std::string_view rfc3339, std::chrono::system_clock::time_point now);

// `-t key=value`: the key is everything before the first '=', non-empty and
// without blanks; the value may be empty and may contain '='.
// kInvalidArgument naming the argument otherwise.
StatusOr<std::pair<std::string, std::string>> parseKeyValue(std::string_view arg);

// Several `-t` arguments; a repeated key is an error.
StatusOr<std::vector<std::pair<std::string, std::string>>> parseKeyValues(
    const std::vector<std::string>& args);

// "demo=test type=proxy" (sorted by key, as std::map iterates).
template <typename Map>
std::string joinLabels(const Map& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ' ';
    out += k + "=" + v;
  }
  return out;
}

}  // namespace lb::cli
