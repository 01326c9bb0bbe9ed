#include "cli/unified_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lb::cli {
namespace {

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(0, nl));
    text.remove_prefix(std::min(nl + 1, text.size()));
  }
  return out;
}

struct Edit {
  char op;  // ' ', '-', '+'
  std::string_view line;
};

// The longest-common-subsequence edit of a[lo, a.size()-hi) against
// b[lo, b.size()-hi); past kMaxCells the middle is replaced whole.
constexpr size_t kMaxCells = 4u << 20;  // 16 MB of lengths

void middle(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
            size_t lo, size_t hi, std::vector<Edit>* out) {
  const size_t n = a.size() - lo - hi, m = b.size() - lo - hi;
  if ((n + 1) * (m + 1) > kMaxCells) {
    for (size_t i = 0; i < n; ++i) out->push_back({'-', a[lo + i]});
    for (size_t j = 0; j < m; ++j) out->push_back({'+', b[lo + j]});
    return;
  }
  // len[i][j]: LCS length of a[lo+i..] and b[lo+j..].
  std::vector<uint32_t> len((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint32_t& { return len[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      at(i, j) = a[lo + i] == b[lo + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[lo + i] == b[lo + j]) {
      out->push_back({' ', a[lo + i]});
      ++i, ++j;
    } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
      out->push_back({'-', a[lo + i++]});  // removals first, as diff -u prints them
    } else {
      out->push_back({'+', b[lo + j++]});
    }
  }
}

}  // namespace

std::string unifiedDiff(std::string_view from, std::string_view to, std::string_view fromLabel,
                        std::string_view toLabel, int context) {
  if (from == to) return "";
  const auto a = lines(from), b = lines(to);
  size_t lo = 0, hi = 0;
  while (lo < a.size() && lo < b.size() && a[lo] == b[lo]) ++lo;
  while (hi < a.size() - lo && hi < b.size() - lo && a[a.size() - 1 - hi] == b[b.size() - 1 - hi])
    ++hi;
  std::vector<Edit> edits;
  for (size_t i = 0; i < lo; ++i) edits.push_back({' ', a[i]});
  middle(a, b, lo, hi, &edits);
  for (size_t i = a.size() - hi; i < a.size(); ++i) edits.push_back({' ', a[i]});

  std::string out = "--- " + std::string(fromLabel) + "\n+++ " + std::string(toLabel) + "\n";
  const size_t ctx = static_cast<size_t>(std::max(context, 0));
  size_t k = 0;
  size_t aLine = 0, bLine = 0;  // lines of each side before edits[k]
  while (k < edits.size()) {
    // The next change, and the hunk around it: changes closer than two
    // contexts apart share one.
    size_t first = k;
    while (first < edits.size() && edits[first].op == ' ') ++first;
    if (first == edits.size()) break;
    size_t start = first - std::min(ctx, first - k);
    for (size_t e = k; e < start; ++e) ++aLine, ++bLine;  // context lines skipped
    size_t end = first, lastChange = first;
    while (end < edits.size()) {
      if (edits[end].op != ' ') {
        lastChange = end;
      } else if (end - lastChange > 2 * ctx) {
        break;
      }
      ++end;
    }
    end = std::min(edits.size(), lastChange + 1 + ctx);
    size_t aCount = 0, bCount = 0;
    for (size_t e = start; e < end; ++e) {
      aCount += edits[e].op != '+';
      bCount += edits[e].op != '-';
    }
    auto range = [](size_t before, size_t count) {
      // diff -u: a range of no lines names the line before it.
      std::string r = std::to_string(count == 0 ? before : before + 1);
      if (count != 1) r += "," + std::to_string(count);
      return r;
    };
    out += "@@ -" + range(aLine, aCount) + " +" + range(bLine, bCount) + " @@\n";
    for (size_t e = start; e < end; ++e) {
      out += edits[e].op;
      out.append(edits[e].line);
      out += '\n';
    }
    aLine += aCount;
    bLine += bCount;
    k = end;
  }
  return out;
}

}  // namespace lb::cli
