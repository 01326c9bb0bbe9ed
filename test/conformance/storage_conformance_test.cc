// One suite, every storage driver. A new driver (etcd) joins by adding one
// line to kDrivers below.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "fakes/storage/faulty_storage.h"
#include "lastbackend/storage/storage.h"

namespace lb::storage {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Driver {
  std::string name;
  // Opens a fresh, empty store; `dir` is a private temp dir for files.
  std::function<StatusOr<std::unique_ptr<Storage>>(Options, const std::string& dir)> open;
};

const std::vector<Driver>& drivers() {
  static const std::vector<Driver> kDrivers = {
      {"mock",
       [](Options o, const std::string&) {
         o.driver = "mock";
         return storage::open(o);
       }},
      {"sqlite",
       [](Options o, const std::string& dir) {
         o.driver = "sqlite";
         o.sqlitePath = dir + "/lb.db";
         return storage::open(o);
       }},
      // The fake must behave like the real thing when no fault is injected.
      {"fake",
       [](Options o, const std::string&) -> StatusOr<std::unique_ptr<Storage>> {
         o.driver = "mock";
         auto inner = storage::open(o);
         if (!inner) return inner.status();
         return std::unique_ptr<Storage>(
             std::make_unique<testing::FaultyStorage>(std::move(*inner)));
       }},
  };
  return kDrivers;
}

class StorageConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("lb-storage-" + GetParam() + "-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter_++)))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = make();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Storage> make(int64_t historySize = 100000) {
    Options o;
    o.historySize = historySize;
    for (const auto& d : drivers()) {
      if (d.name == GetParam()) {
        auto s = d.open(o, dir_);
        EXPECT_TRUE(s.isOk()) << s.status().toString();
        return s.isOk() ? std::move(*s) : nullptr;
      }
    }
    ADD_FAILURE() << "no driver " << GetParam();
    return nullptr;
  }

  // Reads until `n` events arrived or `timeout` passed.
  static std::vector<Event> collect(WatchStream& w, size_t n,
                                    std::chrono::milliseconds timeout = 5s) {
    std::vector<Event> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto got = w.next(50ms);
      if (!got) break;
      for (auto& e : *got) out.push_back(std::move(e));
    }
    return out;
  }

  int64_t revision() {
    auto i = store_->info();
    EXPECT_TRUE(i.isOk());
    return i.isOk() ? i->revision : -1;
  }

  static inline std::atomic<int> counter_{0};
  std::string dir_;
  std::unique_ptr<Storage> store_;
};

TEST_P(StorageConformance, GetMissingIsNotFound) {
  auto r = store_->get("/service/ns:none");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_P(StorageConformance, PutGetSetDel) {
  auto r1 = store_->put("/service/ns:a", "v1");
  ASSERT_TRUE(r1.isOk()) << r1.status().toString();
  auto o = store_->get("/service/ns:a");
  ASSERT_TRUE(o.isOk());
  EXPECT_EQ(o->key, "/service/ns:a");
  EXPECT_EQ(o->value, "v1");
  EXPECT_EQ(o->revision, *r1);
  EXPECT_EQ(o->createRevision, *r1);

  auto r2 = store_->set("/service/ns:a", "v2", *r1);
  ASSERT_TRUE(r2.isOk()) << r2.status().toString();
  EXPECT_GT(*r2, *r1);
  o = store_->get("/service/ns:a");
  EXPECT_EQ(o->value, "v2");
  EXPECT_EQ(o->revision, *r2);
  EXPECT_EQ(o->createRevision, *r1);  // creation is remembered across updates

  auto r3 = store_->set("/service/ns:a", "v3");  // unconditional
  ASSERT_TRUE(r3.isOk());
  EXPECT_EQ(store_->get("/service/ns:a")->value, "v3");

  ASSERT_TRUE(store_->del("/service/ns:a", *r3).isOk());
  EXPECT_EQ(store_->get("/service/ns:a").status().code(), Code::kNotFound);
  EXPECT_GT(revision(), *r3);  // deletes take a revision too
}

TEST_P(StorageConformance, SetCreatesWhenUnconditional) {
  auto r = store_->set("/config/ns:c", "x");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(store_->get("/config/ns:c")->createRevision, *r);
}

TEST_P(StorageConformance, PutOnExistingIsAlreadyExists) {
  ASSERT_TRUE(store_->put("/namespace/demo", "a").isOk());
  auto again = store_->put("/namespace/demo", "b");
  ASSERT_FALSE(again.isOk());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->get("/namespace/demo")->value, "a");
}

TEST_P(StorageConformance, StaleRevisionIsConflict) {
  auto r1 = store_->put("/pod/a:b:c:d", "1");
  ASSERT_TRUE(r1.isOk());
  ASSERT_TRUE(store_->set("/pod/a:b:c:d", "2", *r1).isOk());
  auto stale = store_->set("/pod/a:b:c:d", "3", *r1);
  ASSERT_FALSE(stale.isOk());
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(store_->get("/pod/a:b:c:d")->value, "2");
  EXPECT_EQ(store_->del("/pod/a:b:c:d", *r1).code(), Code::kConflict);
}

TEST_P(StorageConformance, ConditionOnMissingKeyIsNotFound) {
  EXPECT_EQ(store_->set("/secret/ns:s", "x", 5).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->del("/secret/ns:s").code(), Code::kNotFound);
  EXPECT_EQ(store_->del("/secret/ns:s", 3).code(), Code::kNotFound);
}

TEST_P(StorageConformance, FailedWritesDoNotTakeRevisions) {
  ASSERT_TRUE(store_->put("/route/ns:r", "x").isOk());
  int64_t before = revision();
  EXPECT_FALSE(store_->put("/route/ns:r", "y").isOk());
  EXPECT_FALSE(store_->set("/route/ns:r", "y", 999).isOk());
  EXPECT_EQ(revision(), before);
}

TEST_P(StorageConformance, TxnIsAtomic) {
  ASSERT_TRUE(store_->put("/service/ns:b", "old").isOk());
  int64_t before = revision();
  auto r = store_->txn({
      {Op::Type::kPut, "/service/ns:a", "new", 0},
      {Op::Type::kPut, "/service/ns:c", "new", std::nullopt},
      {Op::Type::kPut, "/service/ns:b", "new", 0},  // fails: exists
  });
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->get("/service/ns:a").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->get("/service/ns:c").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->get("/service/ns:b")->value, "old");
  EXPECT_EQ(revision(), before);
}

TEST_P(StorageConformance, TxnAppliesAllAtOneRevision) {
  auto b = store_->put("/deployment/ns:s:d", "dep");
  ASSERT_TRUE(b.isOk());
  auto r = store_->txn({
      {Op::Type::kPut, "/pod/ns:s:d:p1", "p1", 0},
      {Op::Type::kPut, "/pod/ns:s:d:p2", "p2", 0},
      {Op::Type::kPut, "/deployment/ns:s:d", "dep2", *b},
  });
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(*r, *b + 1);
  EXPECT_EQ(store_->get("/pod/ns:s:d:p1")->revision, *r);
  EXPECT_EQ(store_->get("/pod/ns:s:d:p2")->revision, *r);
  EXPECT_EQ(store_->get("/deployment/ns:s:d")->revision, *r);
  EXPECT_EQ(revision(), *r);
}

TEST_P(StorageConformance, TxnOpsSeeEarlierOps) {
  auto r = store_->txn({
      {Op::Type::kPut, "/x", "1", 0},
      {Op::Type::kDelete, "/x", "", std::nullopt},
      {Op::Type::kPut, "/x", "2", 0},
  });
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(store_->get("/x")->value, "2");
}

TEST_P(StorageConformance, RejectsBadInput) {
  EXPECT_EQ(store_->put("no-slash", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->put("", "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->put(std::string("/a\nb"), "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->txn({}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store_->put("/big", std::string(2 << 20, 'x')).status().code(), Code::kTooLarge);
}

TEST_P(StorageConformance, ValuesAreOpaqueBytes) {
  std::string v("a\0b\xff\x01z", 6);
  ASSERT_TRUE(store_->put("/bin", v).isOk());
  EXPECT_EQ(store_->get("/bin")->value, v);
  ASSERT_TRUE(store_->put("/empty", "").isOk());
  EXPECT_EQ(store_->get("/empty")->value, "");
}

TEST_P(StorageConformance, ListIsSortedAndPrefixIsolated) {
  for (const char* k : {"/pod/ns:svc:d:c", "/pod/ns:svc:d:a", "/pod/ns:svc2:d:a", "/pod/ns:svc:d:b",
                        "/pod/ns:sv:d:a", "/podx", "/service/ns:svc"}) {
    ASSERT_TRUE(store_->put(k, k).isOk());
  }
  auto l = store_->list("/pod/ns:svc:");
  ASSERT_TRUE(l.isOk());
  std::vector<std::string> keys;
  for (auto& o : l->items) keys.push_back(o.key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"/pod/ns:svc:d:a", "/pod/ns:svc:d:b", "/pod/ns:svc:d:c"}));
  EXPECT_EQ(l->revision, revision());
  EXPECT_EQ(l->items[0].value, "/pod/ns:svc:d:a");

  EXPECT_EQ(store_->list("/pod/")->items.size(), 5u);
  EXPECT_EQ(store_->list("")->items.size(), 7u);
  EXPECT_TRUE(store_->list("/nothing/")->items.empty());

  auto m = store_->map("/pod/ns:svc2:");
  ASSERT_TRUE(m.isOk());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(m->begin()->first, "/pod/ns:svc2:d:a");
}

TEST_P(StorageConformance, InfoCountsKeys) {
  ASSERT_TRUE(store_->put("/a", "1").isOk());
  ASSERT_TRUE(store_->put("/b", "2").isOk());
  auto i = store_->info();
  ASSERT_TRUE(i.isOk());
  EXPECT_FALSE(i->driver.empty());
  EXPECT_EQ(i->keys, 2u);
  EXPECT_EQ(i->revision, store_->get("/b")->revision);
}

TEST_P(StorageConformance, WatchReplaysHistoryInOrder) {
  int64_t start = revision();
  auto r1 = store_->put("/service/ns:a", "1");
  auto r2 = store_->set("/service/ns:a", "2");
  auto r3 = store_->put("/service/ns:b", "3");
  ASSERT_TRUE(store_->del("/service/ns:a").isOk());
  ASSERT_TRUE(store_->put("/endpoint/ns:a", "other").isOk());
  ASSERT_TRUE(r1.isOk() && r2.isOk() && r3.isOk());

  auto w = store_->watch("/service/", start);
  ASSERT_TRUE(w.isOk()) << w.status().toString();
  auto events = collect(**w, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].revision, *r1);
  EXPECT_EQ(events[0].value, "1");
  EXPECT_EQ(events[1].revision, *r2);
  EXPECT_EQ(events[2].key, "/service/ns:b");
  EXPECT_EQ(events[3].type, Event::Type::kDelete);
  EXPECT_EQ(events[3].key, "/service/ns:a");
  EXPECT_TRUE(events[3].value.empty());
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].revision, events[i].revision);

  // Starting later skips what came before.
  auto w2 = store_->watch("/service/", *r2);
  ASSERT_TRUE(w2.isOk());
  auto later = collect(**w2, 2);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].revision, *r3);
}

TEST_P(StorageConformance, WatchSeesLiveChanges) {
  auto w = store_->watch("/pod/ns:svc:", revision());
  ASSERT_TRUE(w.isOk());
  auto empty = (*w)->next(20ms);
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());

  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(store_->put("/pod/ns:svc2:d:p", "no").isOk());
    ASSERT_TRUE(store_->put("/pod/ns:svc:d:p", "yes").isOk());
    ASSERT_TRUE(store_
                    ->txn({{Op::Type::kPut, "/pod/ns:svc:d:q", "q", 0},
                           {Op::Type::kDelete, "/pod/ns:svc:d:p", "", std::nullopt}})
                    .isOk());
  });
  auto events = collect(**w, 3);
  writer.join();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].key, "/pod/ns:svc:d:p");
  EXPECT_EQ(events[0].value, "yes");
  // Both events of one txn carry its single revision, in op order.
  EXPECT_EQ(events[1].revision, events[2].revision);
  EXPECT_EQ(events[1].key, "/pod/ns:svc:d:q");
  EXPECT_EQ(events[2].type, Event::Type::kDelete);
}

// Replay (history) and live delivery must join without gap or duplicate even
// when the watch starts while writes are streaming in.
TEST_P(StorageConformance, WatchStartedDuringWritesMissesNothing) {
  constexpr int kWrites = 300;
  int64_t start = revision();
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < kWrites; ++i) {
      ASSERT_TRUE(store_->set("/stream/" + std::to_string(i % 7), std::to_string(i)).isOk());
      written++;
    }
  });
  while (written < kWrites / 3) std::this_thread::yield();
  auto w = store_->watch("/stream/", start + 10);
  ASSERT_TRUE(w.isOk());
  auto events = collect(**w, kWrites - 10);
  writer.join();
  ASSERT_EQ(events.size(), size_t{kWrites - 10});
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].revision, start + 11 + static_cast<int64_t>(i));
    EXPECT_EQ(events[i].value, std::to_string(10 + i));
  }
  EXPECT_TRUE((*w)->next(20ms)->empty());  // and nothing twice
}

TEST_P(StorageConformance, WatchFromFutureRevisionWaitsForIt) {
  int64_t now = revision();
  auto w = store_->watch("/", now + 1);
  ASSERT_TRUE(w.isOk());
  ASSERT_TRUE(store_->put("/a", "skipped").isOk());  // revision now+1: not after now+1
  ASSERT_TRUE(store_->put("/b", "seen").isOk());
  auto events = collect(**w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, "/b");
}

TEST_P(StorageConformance, ManyWatchersAllSeeEveryChange) {
  std::vector<std::unique_ptr<WatchStream>> ws;
  for (int i = 0; i < 20; ++i) {
    auto w = store_->watch("/", revision());
    ASSERT_TRUE(w.isOk());
    ws.push_back(std::move(*w));
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->set("/k" + std::to_string(i), "v").isOk());
  for (auto& w : ws) EXPECT_EQ(collect(*w, 10).size(), 10u);
}

TEST_P(StorageConformance, WatchFromCompactedRevisionIsOutOfRange) {
  store_ = make(/*historySize=*/5);
  int64_t start = revision();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store_->set("/h", std::to_string(i)).isOk());
  auto w = store_->watch("/", start);
  ASSERT_FALSE(w.isOk());
  EXPECT_EQ(w.status().code(), Code::kOutOfRange);

  auto info = store_->info();
  ASSERT_TRUE(info.isOk());
  EXPECT_GT(info->oldestRevision, start);
  EXPECT_LE(info->revision - info->oldestRevision, 5);
  auto ok = store_->watch("/", info->oldestRevision);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  auto events = collect(**ok, info->revision - info->oldestRevision);
  ASSERT_EQ(events.size(), static_cast<size_t>(info->revision - info->oldestRevision));
  EXPECT_EQ(events.back().value, "19");
}

TEST_P(StorageConformance, CancelWakesBlockedNext) {
  auto w = store_->watch("/", revision());
  ASSERT_TRUE(w.isOk());
  auto started = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    (*w)->cancel();
    (*w)->cancel();  // idempotent
  });
  auto r = (*w)->next(10s);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ((*w)->next(1ms).status().code(), Code::kUnavailable);
}

TEST_P(StorageConformance, ConcurrentWritersGetUniqueIncreasingRevisions) {
  constexpr int kThreads = 16, kWrites = 50;
  int64_t start = revision();
  std::vector<std::vector<int64_t>> revs(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        auto r = store_->set("/w/" + std::to_string(t) + "/" + std::to_string(i), "v");
        ASSERT_TRUE(r.isOk()) << r.status().toString();
        revs[t].push_back(*r);
      }
    });
  }
  for (auto& t : ts) t.join();
  std::set<int64_t> all;
  for (auto& v : revs) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]);
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kWrites});
  EXPECT_EQ(*all.begin(), start + 1);
  EXPECT_EQ(*all.rbegin(), start + kThreads * kWrites);
  EXPECT_EQ(store_->list("/w/")->items.size(), size_t{kThreads * kWrites});
}

TEST_P(StorageConformance, CasRetryLoopsLoseNoUpdates) {
  constexpr int kThreads = 8, kIncrements = 40;
  ASSERT_TRUE(store_->put("/counter", "0").isOk());
  std::atomic<int> conflicts{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {
          auto cur = store_->get("/counter");
          ASSERT_TRUE(cur.isOk());
          auto r =
              store_->set("/counter", std::to_string(std::stoi(cur->value) + 1), cur->revision);
          if (r.isOk()) break;
          ASSERT_EQ(r.status().code(), Code::kConflict) << r.status().toString();
          conflicts++;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(store_->get("/counter")->value, std::to_string(kThreads * kIncrements));
}

INSTANTIATE_TEST_SUITE_P(Drivers, StorageConformance, ::testing::ValuesIn([] {
                           std::vector<std::string> names;
                           for (const auto& d : drivers()) names.push_back(d.name);
                           return names;
                         }()),
                         [](const auto& info) { return info.param; });

TEST(StorageOpen, UnknownDriverListsValidOnes) {
  Options o;
  o.driver = "zookeeper";
  auto s = open(o);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("sqlite"), std::string::npos);
  EXPECT_NE(s.status().message().find("mock"), std::string::npos);
  auto names = driverNames();
  EXPECT_NE(std::find(names.begin(), names.end(), "sqlite"), names.end());
}

TEST(StorageOpen, SqliteOpenErrorHasContext) {
  // A regular file where a directory of the path should be: not creatable.
  char tmpl[] = "/tmp/lb-storage-open.XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  const std::string file = tmpl;
  Options o;
  o.driver = "sqlite";
  o.sqlitePath = file + "/x/lb.db";
  auto s = open(o);
  ::unlink(file.c_str());
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
  EXPECT_EQ(
      s.status().message().rfind("storage driver 'sqlite': sqlite: open '" + o.sqlitePath + "'", 0),
      0u)
      << s.status().message();
}

TEST(StorageOpen, SqliteCreatesTheDirectoryOfItsFile) {
  // The default path (/var/lib/lastbackend/lastbackend.db) is in a
  // directory a fresh host lacks.
  char tmpl[] = "/tmp/lb-storage-dir.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  Options o;
  o.driver = "sqlite";
  o.sqlitePath = root + "/a/b/lb.db";
  {
    auto s = open(o);
    ASSERT_TRUE(s.isOk()) << s.status().message();
    EXPECT_TRUE((*s)->put("/k", "v").isOk());
  }
  EXPECT_TRUE(std::filesystem::exists(o.sqlitePath));
  std::filesystem::remove_all(root);
}

TEST(FaultyStorage, InjectsErrors) {
  Options o;
  o.driver = "mock";
  testing::FaultyStorage f(open(o).value());
  f.failNext(testing::FaultyStorage::Method::kTxn, unavailable("injected"), 2);
  EXPECT_EQ(f.put("/a", "x").status().code(), Code::kUnavailable);
  EXPECT_EQ(f.set("/a", "x").status().code(), Code::kUnavailable);
  EXPECT_TRUE(f.put("/a", "x").isOk());
  EXPECT_EQ(f.calls(testing::FaultyStorage::Method::kTxn), 3);
}

}  // namespace
}  // namespace lb::storage
