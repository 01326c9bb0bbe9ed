#include "cli/format.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

namespace lb::cli {
namespace {

void rstrip(std::string* line) {
  while (!line->empty() && line->back() == ' ') line->pop_back();
}

std::string plural(long n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s") + " ago";
}

}  // namespace

std::string Table::render(size_t indent) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = headers_[c].size();
  for (const auto& row : rows_)
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());

  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line(indent, ' ');
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      line += cell;
      if (c + 1 < widths.size()) line.append(widths[c] - cell.size() + kColumnGap, ' ');
    }
    rstrip(&line);
    out += line + "\n";
  };
  emit(headers_);
  std::vector<std::string> dashes;
  for (const auto& h : headers_) dashes.emplace_back(h.size(), '-');
  emit(dashes);
  for (const auto& row : rows_) emit(row);
  return out;
}

std::string renderFields(const Fields& fields, size_t indent) {
  size_t width = 0;
  for (const auto& [label, value] : fields) width = std::max(width, label.size());
  std::string out;
  for (const auto& [label, value] : fields) {
    std::string line(indent, ' ');
    line += label;
    line.append(width - label.size() + kColumnGap, ' ');
    line += value;
    rstrip(&line);
    out += line + "\n";
  }
  return out;
}

std::string formatAge(std::chrono::system_clock::time_point then,
                      std::chrono::system_clock::time_point now) {
  long secs = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (secs < 60) return "just now";
  long mins = secs / 60;
  if (mins < 60) return plural(mins, "minute");
  long hours = mins / 60;
  if (hours < 24) return plural(hours, "hour");
  long days = hours / 24;
  if (days < 30) return plural(days, "day");
  if (days < 365) return plural(days / 30, "month");
  return plural(days / 365, "year");
}

std::string formatAge(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  auto tp = parseRfc3339(rfc3339);
  return tp ? formatAge(*tp, now) : std::string();
}

StatusOr<std::pair<std::string, std::string>> parseKeyValue(std::string_view arg) {
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos)
    return invalidArgument("invalid `" + std::string(arg) + "`: expected key=value");
  std::string key(arg.substr(0, eq));
  if (key.empty()) return invalidArgument("invalid `" + std::string(arg) + "`: empty key");
  for (char c : key)
    if (std::isspace(static_cast<unsigned char>(c)))
      return invalidArgument("invalid `" + std::string(arg) + "`: blank in key");
  return std::make_pair(std::move(key), std::string(arg.substr(eq + 1)));
}

StatusOr<std::vector<std::pair<std::string, std::string>>> parseKeyValues(
    const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (const auto& a : args) {
    auto kv = parseKeyValue(a);
    if (!kv.isOk()) return kv.status();
    if (!seen.insert(kv->first).second)
      return invalidArgument("key `" + kv->first + "` given twice");
    out.push_back(std::move(*kv));
  }
  return out;
}

}  // namespace lb::cli
