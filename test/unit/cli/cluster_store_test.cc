#include "cli/cluster_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace lb::cli {
namespace {

namespace fs = std::filesystem;

class ClusterStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() /
            ("lb-cli-store-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
  }
  void TearDown() override { fs::remove_all(home_); }

  static mode_t modeOf(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }

  fs::path home_;
};

ClusterEntry entry(const std::string& name, const std::string& url, const std::string& token = "") {
  ClusterEntry e;
  e.name = name;
  e.endpoint = url;
  e.token = token;
  return e;
}

TEST_F(ClusterStoreTest, MissingFileIsEmpty) {
  ClusterStore store(home_.string());
  auto config = store.load();
  ASSERT_TRUE(config.isOk());
  EXPECT_TRUE(config->clusters.empty());
  EXPECT_EQ(config->selected(), nullptr);
  EXPECT_EQ(store.path(), (home_ / ".lastbackend/config.yml").string());
}

TEST_F(ClusterStoreTest, AddSelectDeleteRoundTrip) {
  ClusterStore store(home_.string());
  ClusterEntry local = entry("local", "http://127.0.0.1:2967", "t0ken");
  local.caFile = "/etc/ca.pem";
  ASSERT_TRUE(store.add(local).isOk());
  ASSERT_TRUE(store.add(entry("prod", "https://lb.example:2967", "p")).isOk());

  auto config = store.load();
  ASSERT_TRUE(config.isOk());
  ASSERT_EQ(config->clusters.size(), 2u);
  EXPECT_EQ(config->current, "local");  // the first one added is selected
  EXPECT_EQ(config->clusters[0], local);
  EXPECT_EQ(config->selected()->name, "local");

  ASSERT_TRUE(store.select("prod").isOk());
  EXPECT_EQ(ClusterStore(home_.string()).load()->current, "prod");

  ASSERT_TRUE(store.remove("prod").isOk());
  config = store.load();
  ASSERT_EQ(config->clusters.size(), 1u);
  EXPECT_EQ(config->current, "");  // deleting the selected one clears the selection
  EXPECT_EQ(config->selected(), nullptr);
}

TEST_F(ClusterStoreTest, Errors) {
  ClusterStore store(home_.string());
  ASSERT_TRUE(store.add(entry("local", "http://a")).isOk());
  EXPECT_EQ(store.add(entry("local", "http://b")).code(), Code::kAlreadyExists);
  Status s = store.select("nope");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "cluster `nope` not found");
  EXPECT_EQ(store.remove("nope").code(), Code::kNotFound);
}

TEST_F(ClusterStoreTest, FileAndDirectoryModes) {
  ClusterStore store(home_.string());
  ASSERT_TRUE(store.add(entry("local", "http://a", "secret-token")).isOk());
  EXPECT_EQ(modeOf(home_ / ".lastbackend"), 0700u);
  EXPECT_EQ(modeOf(home_ / ".lastbackend/config.yml"), 0600u);
  // An existing, too-open file and directory are tightened on the next write.
  fs::permissions(home_ / ".lastbackend/config.yml", fs::perms(0644));
  fs::permissions(home_ / ".lastbackend", fs::perms(0755));
  ASSERT_TRUE(store.select("local").isOk());
  EXPECT_EQ(modeOf(home_ / ".lastbackend"), 0700u);
  EXPECT_EQ(modeOf(home_ / ".lastbackend/config.yml"), 0600u);
  EXPECT_FALSE(fs::exists(home_ / ".lastbackend/config.yml.tmp"));
}

TEST_F(ClusterStoreTest, MalformedFileIsAnError) {
  fs::create_directories(home_ / ".lastbackend");
  std::ofstream(home_ / ".lastbackend/config.yml") << "clusters: {not: [a list";
  auto config = ClusterStore(home_.string()).load();
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
  std::ofstream(home_ / ".lastbackend/config.yml") << "clusters: 3\n";
  EXPECT_FALSE(ClusterStore(home_.string()).load().isOk());
}

}  // namespace
}  // namespace lb::cli
