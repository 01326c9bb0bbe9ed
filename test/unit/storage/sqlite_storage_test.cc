// What only the sqlite driver promises beyond the conformance suite: several
// processes on one file, surviving SIGKILL, a file that stays bounded.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "lastbackend/storage/storage.h"

extern char** environ;

namespace lb::storage {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class SqliteStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("lb-sqlite-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ + "/lb.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Storage> open(int64_t historySize = 100000) {
    Options o;
    o.driver = "sqlite";
    o.sqlitePath = path_;
    o.historySize = historySize;
    auto s = storage::open(o);
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    return s.isOk() ? std::move(*s) : nullptr;
  }

  std::string dir_, path_;
};

TEST_F(SqliteStorageTest, ReopenKeepsDataRevisionAndHistory) {
  int64_t rev;
  {
    auto s = open();
    ASSERT_TRUE(s->put("/a", "1").isOk());
    rev = *s->set("/a", "2");
    ASSERT_TRUE(s->put("/b", "3").isOk());
    ASSERT_TRUE(s->del("/b").isOk());
  }
  auto s = open();
  auto a = s->get("/a");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(a->revision, rev);
  EXPECT_EQ(s->get("/b").status().code(), Code::kNotFound);
  EXPECT_EQ(s->info()->revision, 4);
  auto w = s->watch("/", 0);
  ASSERT_TRUE(w.isOk());
  auto events = (*w)->next(1s);
  ASSERT_TRUE(events.isOk());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ(events->back().type, Event::Type::kDelete);
  EXPECT_EQ(s->put("/c", "x").value(), 5);
}

TEST_F(SqliteStorageTest, PrefixIsolatesStoresInOneFile) {
  Options o;
  o.driver = "sqlite";
  o.sqlitePath = path_;
  o.prefix = "one";
  auto one = storage::open(o);
  o.prefix = "one2";  // shares the text "/one" with the first store's keys
  auto two = storage::open(o);
  ASSERT_TRUE(one.isOk() && two.isOk());
  auto watchOne = (*one)->watch("", 0);
  ASSERT_TRUE(watchOne.isOk());
  ASSERT_TRUE((*two)->put("/k", "2").isOk());
  ASSERT_TRUE((*one)->put("/k", "1").isOk());
  EXPECT_EQ((*two)->get("/k")->value, "2");
  EXPECT_EQ((*one)->get("/k")->value, "1");
  ASSERT_EQ((*two)->list("")->items.size(), 1u);
  EXPECT_EQ((*two)->list("")->items[0].key, "/k");
  EXPECT_EQ((*one)->list("")->items.size(), 1u);
  EXPECT_TRUE((*one)->list("2")->items.empty());  // "/one" + "2" is the other store
  // The revision is per file, but the watch of "one" sees only its own keys.
  auto events = (*watchOne)->next(1s);
  ASSERT_TRUE(events.isOk());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].value, "1");
  auto replay = (*one)->watch("", 0);
  ASSERT_TRUE(replay.isOk());
  EXPECT_EQ((*replay)->next(1s)->size(), 1u);
}

// Two Storage instances on one file stand in for two processes (api and
// controller): they share nothing but the file.
TEST_F(SqliteStorageTest, SecondInstanceWatchSeesWritesWithin100ms) {
  auto a = open();
  auto b = open();
  auto w = b->watch("/service/", b->info()->revision);
  ASSERT_TRUE(w.isOk());
  std::chrono::steady_clock::duration worst{};
  for (int i = 0; i < 20; ++i) {
    auto before = std::chrono::steady_clock::now();
    auto r = a->set("/service/ns:s" + std::to_string(i), "v");
    ASSERT_TRUE(r.isOk());
    std::vector<Event> got;
    while (got.empty() && std::chrono::steady_clock::now() - before < 1s) {
      auto n = (*w)->next(5ms);
      ASSERT_TRUE(n.isOk());
      got = *n;
    }
    auto latency = std::chrono::steady_clock::now() - before;
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].revision, *r);
    worst = std::max(worst, latency);
    std::this_thread::sleep_for(3ms);
  }
  EXPECT_LT(worst, 100ms) << "worst cross-instance latency "
                          << std::chrono::duration<double, std::milli>(worst).count() << " ms";
}

TEST_F(SqliteStorageTest, TwoInstancesShareRevisionsAndCas) {
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a->put("/counter", "0").isOk());
  auto wa = a->watch("/", 0);
  ASSERT_TRUE(wa.isOk());
  constexpr int kPerSide = 100;
  auto bump = [&](Storage& s) {
    for (int i = 0; i < kPerSide; ++i) {
      while (true) {
        auto cur = s.get("/counter");
        ASSERT_TRUE(cur.isOk());
        auto r = s.set("/counter", std::to_string(std::stoi(cur->value) + 1), cur->revision);
        if (r.isOk()) break;
        ASSERT_EQ(r.status().code(), Code::kConflict) << r.status().toString();
      }
    }
  };
  std::thread ta([&] { bump(*a); });
  std::thread tb([&] { bump(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(b->get("/counter")->value, std::to_string(2 * kPerSide));
  EXPECT_EQ(a->info()->revision, 1 + 2 * kPerSide);

  // A's watch saw its own and B's writes, each revision once, in order.
  std::vector<Event> all;
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (all.size() < 1 + 2 * kPerSide && std::chrono::steady_clock::now() < deadline) {
    auto n = (*wa)->next(50ms);
    ASSERT_TRUE(n.isOk());
    all.insert(all.end(), n->begin(), n->end());
  }
  ASSERT_EQ(all.size(), size_t{1 + 2 * kPerSide});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].revision, int64_t(i + 1));
}

// Runs the helper binary, reads its acknowledgements until `acks` arrived,
// then SIGKILLs it. Returns "<thread> <i>" -> revision of each ack.
std::map<std::pair<int, long>, int64_t> runAndKill(const std::string& path, size_t acks) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::string helper = LB_SQLITE_CRASH_HELPER;
  std::vector<char*> argv = {helper.data(), const_cast<char*>(path.c_str()), const_cast<char*>("8"),
                             nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, helper.c_str(), &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);

  std::map<std::pair<int, long>, int64_t> acked;
  std::string buf;
  auto parse = [&] {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::istringstream line(buf.substr(0, nl));
      buf.erase(0, nl + 1);
      int t;
      long i;
      int64_t rev;
      if (line >> t >> i >> rev) acked[{t, i}] = rev;
    }
  };
  char chunk[4096];
  bool killed = false;
  while (true) {
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    parse();
    if (!killed && acked.size() >= acks) {
      ::kill(pid, SIGKILL);  // mid-stream: writers are blocked in commits
      killed = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(killed) << "helper exited early with status " << status;
  EXPECT_TRUE(WIFSIGNALED(status));
  return acked;
}

int64_t queryInt(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(s), SQLITE_ROW) << sql;
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

TEST_F(SqliteStorageTest, SurvivesKill9WithEveryAcknowledgedWrite) {
  for (int round = 0; round < 2; ++round) {  // the second round starts from a crashed file
    auto acked = runAndKill(path_, 3000);
    ASSERT_GE(acked.size(), 3000u);

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    {
      sqlite3_stmt* s = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr), SQLITE_OK);
      ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
      EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
      sqlite3_finalize(s);
    }
    int64_t rev = queryInt(db, "SELECT value FROM meta WHERE name = 'revision'");
    EXPECT_EQ(queryInt(db,
                       "SELECT count(*) FROM kv WHERE revision > "
                       "(SELECT value FROM meta WHERE name = 'revision')"),
              0);
    EXPECT_EQ(queryInt(db, "SELECT coalesce(max(revision), 0) FROM changes"), rev);
    // Change ids (insertion order) and revisions agree.
    EXPECT_EQ(queryInt(db,
                       "SELECT count(*) FROM changes c1 JOIN changes c2 "
                       "ON c2.id = c1.id + 1 WHERE c2.revision < c1.revision"),
              0);
    sqlite3_close(db);

    auto s = open();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->info()->revision, rev);
    // Each key holds the latest acknowledged write to it (or a later one
    // that committed but whose ack the kill swallowed).
    std::map<std::string, std::pair<long, int64_t>> latest;
    int64_t maxAcked = 0;
    for (auto& [ti, r] : acked) {
      std::string key =
          "/crash/" + std::to_string(ti.first) + "/" + std::to_string(ti.second % 200);
      auto& l = latest[key];
      if (r > l.second) l = {ti.second, r};
      maxAcked = std::max(maxAcked, r);
    }
    EXPECT_LE(maxAcked, rev);
    for (auto& [key, l] : latest) {
      auto o = s->get(key);
      ASSERT_TRUE(o.isOk()) << key;
      EXPECT_GE(o->revision, l.second) << key;
      if (o->revision == l.second) {
        EXPECT_EQ(o->value.substr(o->value.find(':') + 1), std::to_string(l.first)) << key;
      }
    }
    // And the store keeps working after the crash.
    ASSERT_TRUE(s->set("/after-crash", "ok").isOk());
  }
}

TEST_F(SqliteStorageTest, FileStaysBoundedUnderUpdates) {
  auto s = open(/*historySize=*/1000);
  constexpr int kThreads = 32, kKeys = 100, kUpdates = 50000;
  std::atomic<int> next{0};
  std::string value(200, 'v');
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      int i;
      while ((i = next++) < kUpdates) {
        ASSERT_TRUE(s->set("/key/" + std::to_string(i % kKeys), value).isOk());
      }
    });
  }
  for (auto& t : ts) t.join();
  auto info = s->info();
  ASSERT_TRUE(info.isOk());
  EXPECT_EQ(info->keys, uint64_t{kKeys});
  EXPECT_EQ(info->revision, kUpdates);
  EXPECT_EQ(info->oldestRevision, kUpdates - 1000);
  uint64_t db = fs::file_size(path_);
  uint64_t wal = fs::exists(path_ + "-wal") ? fs::file_size(path_ + "-wal") : 0;
  EXPECT_LT(db, 2u << 20) << "db file " << db << " bytes";
  EXPECT_LT(wal, 10u << 20) << "wal file " << wal << " bytes";
  RecordProperty("db_bytes", std::to_string(db));
  RecordProperty("wal_bytes", std::to_string(wal));
}

}  // namespace
}  // namespace lb::storage
