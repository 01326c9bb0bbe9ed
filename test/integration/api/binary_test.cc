// The `lastbackend api` binary: starts with the SQLite store, answers
// /health, stops on SIGTERM, and refuses to start without a token.

#include <algorithm>
#include <filesystem>

#include "support/api_fixture.h"
#include "support/api_process.h"

namespace lb::api::testing {

using namespace lb::testing;  // the shared fixture and manifests (test/support)
namespace {

class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = makeTempDir("lb-api-bin-");
    ASSERT_NE(dir_, "");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(BinaryTest, ServesHealthAndStopsOnSigterm) {
  ApiProcess api;
  // The token from the environment, as a service manager would give it.
  ASSERT_TRUE(api.start({.binary = LB_LASTBACKEND_BINARY,
                         .dir = dir_,
                         .env = {"LB_ACCESS_TOKEN=" + std::string(kToken)}}));
  client::ClientOptions o;
  o.endpoint = api.url();
  o.token = kToken;
  o.maxRetries = 0;
  auto client = client::Client::create(o);
  ASSERT_TRUE(client.isOk());
  std::string problem = api.waitReady(
      [&] {
        auto r = (*client)->send("GET", "/health");
        return r.isOk() && r->status == 200;
      },
      std::chrono::seconds(5));
  ASSERT_EQ(problem, "");
  auto created = (*client)->send("POST", "/namespace", {}, R"({"name":"demo"})");
  ASSERT_TRUE(created.isOk());
  EXPECT_EQ(created->status, 201) << created->body;

  EXPECT_EQ(api.stop(std::chrono::seconds(10)), 0) << api.log();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/lastbackend.db"));
}

TEST_F(BinaryTest, RefusesToStartWithoutAToken) {
  ApiProcess api;
  ASSERT_TRUE(api.start({.binary = LB_LASTBACKEND_BINARY, .dir = dir_}));
  EXPECT_EQ(api.wait(std::chrono::seconds(10)), 2);
  std::string err = api.log();
  EXPECT_NE(err.find("access token is required"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line: " << err;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/lastbackend.db"))
      << "nothing opened before the check";
}

}  // namespace
}  // namespace lb::api::testing
