// The command line in-process: parsing, help, local verbs and the errors that
// happen before (or instead of) talking to a cluster.

#include "cli/app.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

namespace lb::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code;
  std::string out;
  std::string err;
};

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.home = (fs::temp_directory_path() /
                 ("lb-cli-app-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                    .string();
    fs::remove_all(env_.home);
    fs::create_directories(env_.home);
  }
  void TearDown() override { fs::remove_all(env_.home); }

  Result lb(std::vector<std::string> args) {
    args.insert(args.begin(), "lb");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    int code = run(static_cast<int>(argv.size()), argv.data(), env_, out, err);
    return {code, out.str(), err.str()};
  }

  Environment env_;
};

TEST_F(AppTest, HelpListsVerbs) {
  auto r = lb({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* verb :
       {"namespace", "service", "route", "secret", "config", "volume", "node", "cluster"})
    EXPECT_NE(r.out.find(verb), std::string::npos) << verb;
  EXPECT_NE(r.out.find("LB_HOST"), std::string::npos);
  auto sub = lb({"secret", "create", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_NE(sub.out.find("-a,--auth"), std::string::npos) << sub.out;
}

TEST_F(AppTest, UsageErrors) {
  EXPECT_NE(lb({}).code, 0);
  EXPECT_NE(lb({"bogus"}).code, 0);
  EXPECT_NE(lb({"service", "ls"}).code, 0);  // NAMESPACE missing
  auto bad = lb({"-o", "xml", "namespace", "ls"});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("xml"), std::string::npos) << bad.err;
}

TEST_F(AppTest, ClusterVerbsRoundTrip) {
  auto add = lb({"cluster", "add", "local", "127.0.0.1:2967", "--token", "T"});
  EXPECT_EQ(add.code, 0) << add.err;
  EXPECT_EQ(add.out, "Cluster `local` is added\n");
  EXPECT_EQ(lb({"cluster", "add", "prod", "https://prod.example", "--token", "P"}).code, 0);
  auto ls = lb({"cluster", "ls"});
  EXPECT_EQ(ls.out,
            "NAME    ENDPOINT                SELECTED\n"
            "----    --------                --------\n"
            "local   http://127.0.0.1:2967   *\n"
            "prod    https://prod.example\n");
  EXPECT_EQ(lb({"cluster", "select", "prod"}).out, "Cluster `prod` is selected\n");
  EXPECT_NE(lb({"cluster", "ls"}).out.find("prod    https://prod.example    *"), std::string::npos);
  auto dup = lb({"cluster", "add", "prod", "http://x"});
  EXPECT_EQ(dup.code, 1);
  EXPECT_EQ(dup.err, "lb: cluster `prod` already exists\n");
  EXPECT_EQ(lb({"cluster", "del", "prod"}).code, 0);
  auto unknown = lb({"cluster", "select", "prod"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "lb: cluster `prod` not found\n");
}

TEST_F(AppTest, NoClusterIsAClearError) {
  auto r = lb({"namespace", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("lb: no cluster selected"), std::string::npos) << r.err;
}

TEST_F(AppTest, UnreachableClusterNamesTheUrl) {
  auto r = lb({"--host", "http://127.0.0.1:1", "namespace", "ls"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.rfind("lb: cannot reach cluster at http://127.0.0.1:1: ", 0), 0u) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

TEST_F(AppTest, GlobalFlagsAfterTheVerb) {
  auto r = lb({"namespace", "ls", "--host", "127.0.0.1:1", "--token", "x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot reach cluster at http://127.0.0.1:1"), std::string::npos) << r.err;
}

TEST_F(AppTest, BadArgumentsFailBeforeAnyRequest) {
  // The host is unreachable: these errors prove nothing was sent.
  auto kv = lb({"--host", "127.0.0.1:1", "secret", "create", "demo", "s", "-t", "novalue"});
  EXPECT_EQ(kv.code, 1);
  EXPECT_EQ(kv.err, "lb: invalid `novalue`: expected key=value\n");
  auto twice =
      lb({"--host", "127.0.0.1:1", "config", "create", "demo", "c", "-t", "a=1", "-t", "a=2"});
  EXPECT_EQ(twice.err, "lb: key `a` given twice\n");
  auto modes =
      lb({"--host", "127.0.0.1:1", "secret", "create", "demo", "s", "-a", "-u", "u", "-t", "a=1"});
  EXPECT_EQ(modes.code, 1);
  EXPECT_NE(modes.err.find("exactly one of"), std::string::npos) << modes.err;
  auto none = lb({"--host", "127.0.0.1:1", "secret", "create", "demo", "s"});
  EXPECT_NE(none.err.find("exactly one of"), std::string::npos) << none.err;
  auto rule = lb({"--host", "127.0.0.1:1", "route", "create", "demo", "r", "-p", "80", "web"});
  EXPECT_EQ(rule.code, 1);
  EXPECT_EQ(rule.err, "lb: invalid rule `web`: expected SERVICE:PORT\n");
  auto port =
      lb({"--host", "127.0.0.1:1", "route", "create", "demo", "r", "-p", "80", "web:99999"});
  EXPECT_EQ(port.err, "lb: invalid rule `web:99999`: port must be 1-65535\n");
}

}  // namespace
}  // namespace lb::cli
