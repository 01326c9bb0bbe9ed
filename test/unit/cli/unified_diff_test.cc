#include "cli/unified_diff.h"

#include <gtest/gtest.h>

#include <string>

namespace lb::cli {
namespace {

std::string numbered(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s += std::to_string(i) + "\n";
  return s;
}

TEST(UnifiedDiffTest, EqualTextsHaveNoDiff) {
  EXPECT_EQ(unifiedDiff("a\nb\n", "a\nb\n", "from", "to"), "");
  EXPECT_EQ(unifiedDiff("", "", "from", "to"), "");
}

// The expected texts are what `diff -u --label from --label to` prints.
TEST(UnifiedDiffTest, OneChangedLineWithThreeLinesOfContext) {
  EXPECT_EQ(unifiedDiff("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n",
                        "from", "to"),
            "--- from\n+++ to\n"
            "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n");
}

TEST(UnifiedDiffTest, NearChangesShareAHunkAndFarOnesGetTheirOwn) {
  std::string after = numbered(1, 20);
  after.replace(after.find("\n2\n") + 1, 1, "two");
  after.replace(after.find("\n6\n") + 1, 1, "six");
  after.replace(after.find("\n17\n") + 1, 2, "seventeen");
  EXPECT_EQ(unifiedDiff(numbered(1, 20), after, "from", "to"),
            "--- from\n+++ to\n"
            "@@ -1,9 +1,9 @@\n 1\n-2\n+two\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9\n"
            "@@ -14,7 +14,7 @@\n 14\n 15\n 16\n-17\n+seventeen\n 18\n 19\n 20\n");
}

TEST(UnifiedDiffTest, ACreatedAndARemovedText) {
  EXPECT_EQ(unifiedDiff("", "kind: Service\nname: web\n", "/dev/null", "demo/Service/web"),
            "--- /dev/null\n+++ demo/Service/web\n"
            "@@ -0,0 +1,2 @@\n+kind: Service\n+name: web\n");
  EXPECT_EQ(unifiedDiff("a\nb\n", "", "from", "to"), "--- from\n+++ to\n@@ -1,2 +0,0 @@\n-a\n-b\n");
}

TEST(UnifiedDiffTest, InsertedLinesNameTheLineBeforeThem) {
  EXPECT_EQ(unifiedDiff("a\nb\n", "a\nx\nb\n", "from", "to", 0),
            "--- from\n+++ to\n@@ -1,0 +2 @@\n+x\n");
}

// Past the bound on the comparison table the differing middle is shown as
// one replacement: the diff stays correct, only not minimal.
TEST(UnifiedDiffTest, HugeTextsAreReplacedWholeWithinTheBound) {
  const std::string from = numbered(1, 3000), to = numbered(5001, 8000);
  const std::string text = unifiedDiff(from, to, "from", "to");
  EXPECT_EQ(text.rfind("--- from\n+++ to\n@@ -1,3000 +1,3000 @@\n-1\n-2\n", 0), 0u);
  EXPECT_NE(text.find("\n-3000\n+5001\n"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 6), "+8000\n");
}

}  // namespace
}  // namespace lb::cli
