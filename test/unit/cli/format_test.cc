#include "cli/format.h"

#include <gtest/gtest.h>

namespace lb::cli {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;

TEST(TableTest, HeaderDashesAndAlignedColumns) {
  Table t({"NAME", "DESCRIPTION", "ENDPOINT"});
  t.addRow({"demo", "", "demo.lb.local"});
  t.addRow({"production", "live apps", "production.lb.local"});
  EXPECT_EQ(t.render(),
            "NAME         DESCRIPTION   ENDPOINT\n"
            "----         -----------   --------\n"
            "demo                       demo.lb.local\n"
            "production   live apps     production.lb.local\n");
}

TEST(TableTest, DashesAsLongAsEachHeaderAndNoTrailingBlanks) {
  Table t({"NAME", "ENDPOINT", "STATUS", "REPLICAS"});
  t.addRow({"2048", "2048.demo.lb.local", "ready", ""});
  std::string text = t.render();
  EXPECT_NE(text.find("\n----   --------             ------   --------\n"), std::string::npos)
      << text;
  for (size_t pos = text.find('\n'); pos != std::string::npos; pos = text.find('\n', pos + 1))
    EXPECT_NE(text[pos - 1], ' ') << text;
}

TEST(TableTest, EmptyTableShowsHeaderAndDashes) {
  Table t({"A", "BB"});
  EXPECT_EQ(t.render(), "A   BB\n-   --\n");
}

TEST(TableTest, ShortRowsArePaddedAndIndentApplies) {
  Table t({"PATH", "SERVICE"});
  t.addRow({"/"});
  EXPECT_EQ(t.render(2), "  PATH   SERVICE\n  ----   -------\n  /\n");
}

TEST(TableTest, LongCellWidensColumn) {
  Table t({"N", "X"});
  t.addRow({"abcdef", "1"});
  EXPECT_EQ(t.render(), "N        X\n-        -\nabcdef   1\n");
}

TEST(FieldsTest, LabelsPadded) {
  EXPECT_EQ(renderFields({{"NAME", "test"}, {"DESCRIPTION", ""}, {"ENDPOINT", "test.lb.local"}}),
            "NAME          test\n"
            "DESCRIPTION\n"
            "ENDPOINT      test.lb.local\n");
}

TEST(AgeTest, Buckets) {
  auto now = system_clock::from_time_t(1'800'000'000);
  EXPECT_EQ(formatAge(now, now), "just now");
  EXPECT_EQ(formatAge(now - 59s, now), "just now");
  EXPECT_EQ(formatAge(now + 1h, now), "just now");  // clock skew: never "-1 hours"
  EXPECT_EQ(formatAge(now - 60s, now), "1 minute ago");
  EXPECT_EQ(formatAge(now - 2min - 30s, now), "2 minutes ago");
  EXPECT_EQ(formatAge(now - 1h, now), "1 hour ago");
  EXPECT_EQ(formatAge(now - 23h - 59min, now), "23 hours ago");
  EXPECT_EQ(formatAge(now - 24h, now), "1 day ago");
  EXPECT_EQ(formatAge(now - 6 * 24h - 3h, now), "6 days ago");
  EXPECT_EQ(formatAge(now - 29 * 24h, now), "29 days ago");
  EXPECT_EQ(formatAge(now - 30 * 24h, now), "1 month ago");
  EXPECT_EQ(formatAge(now - 100 * 24h, now), "3 months ago");
  EXPECT_EQ(formatAge(now - 365 * 24h, now), "1 year ago");
  EXPECT_EQ(formatAge(now - 800 * 24h, now), "2 years ago");
}

TEST(AgeTest, FromRfc3339) {
  auto now = *parseRfc3339("2026-11-26T15:14:08Z");
  EXPECT_EQ(formatAge("2026-11-20T15:14:08Z", now), "6 days ago");
  EXPECT_EQ(formatAge("2026-11-26T15:12:00Z", now), "2 minutes ago");
  EXPECT_EQ(formatAge("2026-11-26T15:14:00.5Z", now), "just now");
  EXPECT_EQ(formatAge("", now), "");
  EXPECT_EQ(formatAge("yesterday", now), "");
}

TEST(Rfc3339Test, ParsesOffsetsAndFractions) {
  auto utc = parseRfc3339("2026-11-26T15:14:08Z");
  ASSERT_TRUE(utc);
  EXPECT_EQ(system_clock::to_time_t(*utc), 1795706048);
  EXPECT_EQ(parseRfc3339("2026-11-26T17:14:08+02:00"), utc);
  EXPECT_EQ(parseRfc3339("2026-11-26T14:14:08-01:00"), utc);
  auto frac = parseRfc3339("2026-11-26T15:14:08.250Z");
  ASSERT_TRUE(frac);
  EXPECT_EQ(*frac - *utc, 250ms);
  for (const char* bad :
       {"", "2026-11-26", "2026-11-26T15:14:08", "2026-13-01T00:00:00Z", "2026-11-26T15:14:08Zjunk",
        "2026-11-26T15:14:08.Z", "x026-11-26T15:14:08Z"})
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
}

TEST(KeyValueTest, Parses) {
  auto kv = parseKeyValue("user=admin");
  ASSERT_TRUE(kv.isOk());
  EXPECT_EQ(kv->first, "user");
  EXPECT_EQ(kv->second, "admin");
  auto eq = parseKeyValue("url=a=b");
  ASSERT_TRUE(eq.isOk());
  EXPECT_EQ(eq->second, "a=b");
  auto empty = parseKeyValue("flag=");
  ASSERT_TRUE(empty.isOk());
  EXPECT_EQ(empty->second, "");
}

TEST(KeyValueTest, Errors) {
  auto none = parseKeyValue("novalue");
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(none.status().message(), "invalid `novalue`: expected key=value");
  EXPECT_EQ(parseKeyValue("=v").status().message(), "invalid `=v`: empty key");
  EXPECT_EQ(parseKeyValue("a b=v").status().message(), "invalid `a b=v`: blank in key");
  auto twice = parseKeyValues({"a=1", "b=2", "a=3"});
  ASSERT_FALSE(twice.isOk());
  EXPECT_EQ(twice.status().message(), "key `a` given twice");
  auto ok = parseKeyValues({"a=1", "b=2"});
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->size(), 2u);
}

TEST(LabelsTest, JoinedSorted) {
  std::map<std::string, std::string> labels{{"type", "proxy"}, {"demo", "test"}};
  EXPECT_EQ(joinLabels(labels), "demo=test type=proxy");
}

}  // namespace
}  // namespace lb::cli
