// One CSI suite run against the dir driver (in a temp root) and the fake,
// plus what only the dir driver can show: modes on disk, symlinks refused.

#include "lastbackend/runtime/csi.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fakes/runtime/fake_csi.h"
#include "lastbackend/runtime/factory.h"

namespace lb::runtime::csi {
namespace {

namespace fs = std::filesystem;

TEST(ValidateNameTest, RejectsEverythingThatCouldEscape) {
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "a/b", "/abs", "../x", "x/..",
                                std::string("a\0b", 3), std::string(256, 'a')}) {
    Status s = validateName(bad, "file");
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.field(), "file");
  }
  for (const std::string& good : std::vector<std::string>{
           "a", "db-pass", ".env", "...", "demo:web:dep:pod_data", "x..y", std::string(255, 'a')}) {
    EXPECT_TRUE(validateName(good, "volume").isOk()) << good;
  }
}

std::string readFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class TempRoot {
 public:
  TempRoot() {
    char tmpl[] = "/tmp/lb-csi-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct DirDriver {
  TempRoot root;
  std::unique_ptr<VolumeRuntime> make() {
    auto v = open(Options{"dir", root.path() + "/volumes"});
    EXPECT_TRUE(v.isOk()) << v.status().message();
    return std::move(*v);
  }
};
struct FakeDriver {
  std::unique_ptr<VolumeRuntime> make() { return std::make_unique<fakes::FakeVolumeRuntime>(); }
};

template <typename D>
class CsiConformanceTest : public ::testing::Test {
 protected:
  D driver;
  std::unique_ptr<VolumeRuntime> v = driver.make();
};
using Drivers = ::testing::Types<DirDriver, FakeDriver>;
TYPED_TEST_SUITE(CsiConformanceTest, Drivers);

TYPED_TEST(CsiConformanceTest, CreatePathListRemove) {
  auto& v = *this->v;
  auto p = v.create("data");
  ASSERT_TRUE(p.isOk()) << p.status().message();
  EXPECT_EQ(*v.create("data"), *p);  // idempotent
  EXPECT_EQ(*v.path("data"), *p);
  ASSERT_TRUE(v.create("other").isOk());
  EXPECT_EQ(*v.list(), (std::vector<std::string>{"data", "other"}));
  EXPECT_EQ(v.path("absent").status().code(), Code::kNotFound);
  ASSERT_TRUE(v.remove("data").isOk());
  EXPECT_TRUE(v.remove("data").isOk());  // absent is fine
  EXPECT_EQ(v.path("data").status().code(), Code::kNotFound);
  EXPECT_EQ(*v.list(), std::vector<std::string>{"other"});
}

TYPED_TEST(CsiConformanceTest, BadNamesAreRejectedEverywhere) {
  auto& v = *this->v;
  for (const std::string& bad :
       std::vector<std::string>{"..", "a/b", "/etc", std::string("x\0", 2)}) {
    EXPECT_EQ(v.create(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(v.path(bad).status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(v.remove(bad).code(), Code::kInvalidArgument) << bad;
  }
  ASSERT_TRUE(v.create("sec").isOk());
  for (std::string bad : {"..", "../../etc/passwd", "/etc/passwd", "a/b", "."}) {
    Status s = v.writeFiles("sec", {{bad, "x"}}, {});
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("file name"), std::string::npos) << s.message();
  }
}

TYPED_TEST(CsiConformanceTest, WriteFilesOnlyListedKeysAndMissingKeys) {
  auto& v = *this->v;
  ASSERT_TRUE(v.create("sec").isOk());
  std::map<std::string, std::string> data{{"user", "admin"}, {"pass", "s3cr3t\n"}, {"x", "y"}};
  ASSERT_TRUE(v.writeFiles("sec", data, {"user", "pass"}).isOk());
  EXPECT_EQ(v.writeFiles("sec", data, {"nope"}).code(), Code::kNotFound);
  EXPECT_EQ(v.writeFiles("absent", data, {}).code(), Code::kNotFound);
}

TYPED_TEST(CsiConformanceTest, InjectedOrNotErrorsKeepContext) {
  auto& v = *this->v;
  Status s = v.writeFiles("absent", {}, {});
  EXPECT_NE(s.message().find("write files into volume 'absent'"), std::string::npos) << s.message();
}

TEST(DirCsiTest, FilesAreReadOnlyWithExactBytesAndStaleOnesGo) {
  DirDriver d;
  auto v = d.make();
  auto p = v->create("sec");
  ASSERT_TRUE(p.isOk());
  std::string binary("\0\x01\xff line\n", 9);
  ASSERT_TRUE(
      v->writeFiles("sec", {{"user", "admin"}, {"blob", binary}, {"x", "y"}}, {"user", "blob"})
          .isOk());
  EXPECT_EQ(readFile(*p + "/user"), "admin");
  EXPECT_EQ(readFile(*p + "/blob"), binary);
  EXPECT_FALSE(fs::exists(*p + "/x"));
  struct stat st;
  ASSERT_EQ(::stat((*p + "/user").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);

  // A second projection replaces contents and drops keys no longer listed.
  ASSERT_TRUE(v->writeFiles("sec", {{"user", "root"}}, {}).isOk());
  EXPECT_EQ(readFile(*p + "/user"), "root");
  EXPECT_FALSE(fs::exists(*p + "/blob"));
  EXPECT_EQ(std::distance(fs::directory_iterator(*p), fs::directory_iterator()), 1);
}

TEST(DirCsiTest, SymlinkPlantedInTheRootIsRefused) {
  DirDriver d;
  auto v = d.make();
  std::string outside = d.root.path() + "/outside";
  fs::create_directories(outside);
  fs::create_symlink(outside, d.root.path() + "/volumes/evil");
  EXPECT_EQ(v->path("evil").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(v->create("evil").status().code(), Code::kPermissionDenied);
  EXPECT_FALSE(v->writeFiles("evil", {{"a", "b"}}, {}).isOk());
  EXPECT_FALSE(fs::exists(outside + "/a"));
  // Removing unlinks the link, never what it points to.
  ASSERT_TRUE(v->remove("evil").isOk());
  EXPECT_TRUE(fs::exists(outside));
  EXPECT_TRUE(v->list()->empty());
}

TEST(DirCsiTest, SymlinkInsideAVolumeIsReplacedNotFollowed) {
  DirDriver d;
  auto v = d.make();
  auto p = v->create("sec");
  std::string target = d.root.path() + "/target";
  { std::ofstream(target) << "keep"; }
  fs::create_symlink(target, *p + "/user");
  ASSERT_TRUE(v->writeFiles("sec", {{"user", "new"}}, {}).isOk());
  EXPECT_EQ(readFile(target), "keep");
  EXPECT_FALSE(fs::is_symlink(*p + "/user"));
  EXPECT_EQ(readFile(*p + "/user"), "new");
  // A volume holding a link to outside is removed without touching the target.
  fs::create_symlink(d.root.path(), *p + "/up");
  ASSERT_TRUE(v->remove("sec").isOk());
  EXPECT_EQ(readFile(target), "keep");
}

TEST(DirCsiTest, RootMustBeAbsolute) {
  EXPECT_EQ(open(Options{"dir", "relative/root"}).status().code(), Code::kInvalidArgument);
  auto unknown = open(Options{"nfs", "/tmp"});
  ASSERT_FALSE(unknown.isOk());
  EXPECT_NE(unknown.status().message().find("valid: dir"), std::string::npos);
}

TEST(FakeCsiTest, HoldsFilesAndInjectsErrors) {
  fakes::FakeVolumeRuntime v;
  ASSERT_TRUE(v.create("a").isOk());
  ASSERT_TRUE(v.writeFiles("a", {{"k", "v"}, {"z", "q"}}, {"k"}).isOk());
  EXPECT_EQ(v.files("a"), (fakes::FakeVolumeRuntime::Files{{"k", "v"}}));
  v.errors().fail("create", Status(Code::kPermissionDenied, "disk says no"), 2);
  EXPECT_EQ(v.create("b").status().code(), Code::kPermissionDenied);
  EXPECT_EQ(v.create("b").status().code(), Code::kPermissionDenied);
  EXPECT_TRUE(v.create("b").isOk());
}

}  // namespace
}  // namespace lb::runtime::csi
