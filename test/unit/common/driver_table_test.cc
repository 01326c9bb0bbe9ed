// lb::DriverTable: lookup by name, the one "unknown ... (valid: ...)" error,
// context on a failed factory, and the compile-time names the option tables use.

#include "common/driver_table.h"

#include <gtest/gtest.h>

namespace lb {
namespace {

StatusOr<int> openOne(int x) { return x + 1; }
StatusOr<int> openFails(int) { return unavailable("socket gone"); }

using OpenFn = StatusOr<int> (*)(int);
constexpr DriverTable<OpenFn, 2> kTable{
    "thing driver", "thing.type", {{{"one", &openOne}, {"bad", &openFails}}}};

TEST(DriverTable, OpensByName) {
  auto r = kTable.open("one", 41);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(kTable.names(), (std::vector<std::string>{"one", "bad"}));
  EXPECT_NE(kTable.find("bad"), nullptr);
  EXPECT_EQ(kTable.find("two"), nullptr);
}

TEST(DriverTable, UnknownNameListsTheValidOnes) {
  auto r = kTable.open("two", 1);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown thing driver 'two' (valid: one, bad)");
  EXPECT_EQ(r.status().field(), "thing.type");
  EXPECT_EQ(kTable.lookup("").status().message(), "unknown thing driver '' (valid: one, bad)");
}

TEST(DriverTable, AFailingFactoryGainsContext) {
  auto r = kTable.open("bad", 1);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "thing driver 'bad': socket gone");
}

TEST(DriverTable, NamesAtCompileTime) {
  static constexpr auto kJoined = joinedNames<kTable>();
  static_assert(namesView(kJoined) == "one,bad");
  EXPECT_EQ(namesView(kJoined), "one,bad");
}

TEST(UnknownName, FormatsAnyListOfNames) {
  std::vector<std::string> valid{"a", "b", "c"};
  Status s = unknownName("command", "x", valid);
  EXPECT_EQ(s.message(), "unknown command 'x' (valid: a, b, c)");
  EXPECT_EQ(listNames(std::vector<std::string>{}), "");
}

}  // namespace
}  // namespace lb
