// The cache drivers: one contract suite run on each (memory, file, s3 on the memory store, s3
// on the file store, s3 on RGW when S3DB_TEST_S3_URI is set), then what is particular to each.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "plugin_test_util.h"
#include "s3db/cache.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

enum class Driver { kMemory, kFile, kS3OnMemory, kS3OnFile, kS3OnRgw };

std::string DriverName(Driver d) {
  switch (d) {
    case Driver::kMemory:
      return "Memory";
    case Driver::kFile:
      return "File";
    case Driver::kS3OnMemory:
      return "S3OnMemoryStore";
    case Driver::kS3OnFile:
      return "S3OnFileStore";
    case Driver::kS3OnRgw:
      return "S3OnRgw";
  }
  return "?";
}

class CacheDriverTest : public ::testing::TestWithParam<Driver> {
 protected:
  void SetUp() override {
    if (GetParam() == Driver::kS3OnRgw && testing::RealS3Uri() == nullptr) {
      GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no real S3 server (eval \"$(scripts/rgw.sh start)\")";
    }
    options_.clock = clock_.fn();
    options_.ttl = milliseconds(10000);
    options_.directory = dir_.str("cache");
  }
  void TearDown() override { ClearMemoryBucket(bucket_); }

  std::unique_ptr<CacheDriver> Make() {
    switch (GetParam()) {
      case Driver::kMemory:
        return NewMemoryCache(options_);
      case Driver::kFile: {
        auto d = NewFileCache(options_);
        EXPECT_TRUE(d.ok()) << d.status().ToString();
        return std::move(d).value();
      }
      case Driver::kS3OnMemory:
        if (!store_) store_ = NewMemoryStore(bucket_);
        return NewS3Cache(*store_, S3CachePrefix("db"), options_);
      case Driver::kS3OnFile:
        if (!store_) {
          FileStoreOptions fo;
          fo.root = dir_.str("store");
          fo.fsync = false;
          store_ = std::move(NewFileStore(fo)).value();
        }
        return NewS3Cache(*store_, S3CachePrefix("db"), options_);
      case Driver::kS3OnRgw:
        if (!rgw_) rgw_ = std::make_unique<testing::RealS3>();
        return NewS3Cache(rgw_->store(), S3CachePrefix(rgw_->prefix()), options_);
    }
    return nullptr;
  }
  bool remote() const { return GetParam() == Driver::kS3OnRgw; }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  CacheOptions options_;
  std::string bucket_ = testing::UniqueBucket("cache");
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<testing::RealS3> rgw_;
};

TEST_P(CacheDriverTest, MissThenHitKeepsBytesExactly) {
  auto cache = Make();
  const std::string key = "resource=users/record/r\xC3\xA9sum\xC3\xA9 %~?*\\ /x";
  const std::string value("bin\0ary\n\xff\x01 end", 14);
  EXPECT_FALSE(cache->Get(key).has_value());
  ASSERT_TRUE(cache->Put(key, value, milliseconds(5000)).ok());
  EXPECT_EQ(cache->Get(key), value);
  ASSERT_TRUE(cache->Put(key, "second", milliseconds(5000)).ok());
  EXPECT_EQ(cache->Get(key), "second");
  ASSERT_TRUE(cache->Put("empty", "", milliseconds(5000)).ok());
  EXPECT_EQ(cache->Get("empty"), "");
  CacheStats s = cache->stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.puts, 3u);
}

TEST_P(CacheDriverTest, EntriesExpireAfterTheirTtl) {
  auto cache = Make();
  ASSERT_TRUE(cache->Put("short", "a", milliseconds(1000)).ok());
  ASSERT_TRUE(cache->Put("long", "b", milliseconds(5000)).ok());
  clock_.Advance(999);
  EXPECT_EQ(cache->Get("short"), "a");
  clock_.Advance(1);
  EXPECT_FALSE(cache->Get("short").has_value());
  EXPECT_FALSE(cache->Get("short").has_value());  // gone, not just hidden
  EXPECT_EQ(cache->Get("long"), "b");
  clock_.Advance(4000);
  EXPECT_FALSE(cache->Get("long").has_value());
  EXPECT_GE(cache->stats().expirations, 2u);
}

TEST_P(CacheDriverTest, InvalidateRemovesOneKey) {
  auto cache = Make();
  ASSERT_TRUE(cache->Put("a", "1", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("ab", "2", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Invalidate("a").ok());
  ASSERT_TRUE(cache->Invalidate("never-there").ok());
  EXPECT_FALSE(cache->Get("a").has_value());
  EXPECT_EQ(cache->Get("ab"), "2");
}

TEST_P(CacheDriverTest, InvalidatePrefixRemovesExactlyThatRange) {
  auto cache = Make();
  for (const char* k : {"resource=users/query/count/1", "resource=users/query/ids/2", "resource=users/record/1",
                        "resource=usersX/query/count/1", "resource=user/query/x"}) {
    ASSERT_TRUE(cache->Put(k, k, milliseconds(5000)).ok());
  }
  ASSERT_TRUE(cache->InvalidatePrefix("resource=users/query/").ok());
  EXPECT_FALSE(cache->Get("resource=users/query/count/1").has_value());
  EXPECT_FALSE(cache->Get("resource=users/query/ids/2").has_value());
  EXPECT_TRUE(cache->Get("resource=users/record/1").has_value());
  EXPECT_TRUE(cache->Get("resource=usersX/query/count/1").has_value());
  EXPECT_TRUE(cache->Get("resource=user/query/x").has_value());
  ASSERT_TRUE(cache->InvalidatePrefix("resource=users/").ok());
  EXPECT_FALSE(cache->Get("resource=users/record/1").has_value());
  EXPECT_TRUE(cache->Get("resource=usersX/query/count/1").has_value());
}

TEST_P(CacheDriverTest, ClearRemovesEverything) {
  auto cache = Make();
  ASSERT_TRUE(cache->Put("a", "1", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("b/c", "2", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Clear().ok());
  EXPECT_FALSE(cache->Get("a").has_value());
  EXPECT_FALSE(cache->Get("b/c").has_value());
}

TEST_P(CacheDriverTest, ValuesOverTheEntryLimitAndZeroTtlAreNotCached) {
  options_.max_entry_bytes = 10;
  auto cache = Make();
  ASSERT_TRUE(cache->Put("big", std::string(11, 'x'), milliseconds(5000)).ok());
  EXPECT_FALSE(cache->Get("big").has_value());
  ASSERT_TRUE(cache->Put("fits", std::string(10, 'x'), milliseconds(5000)).ok());
  EXPECT_TRUE(cache->Get("fits").has_value());
  ASSERT_TRUE(cache->Put("zero", "v", milliseconds(0)).ok());
  EXPECT_FALSE(cache->Get("zero").has_value());
}

// Threads write their own keys and read everyone's: a hit must always be a whole value that
// belongs to its key (never another key's, never torn).
TEST_P(CacheDriverTest, ManyThreadsHammeringOneCache) {
  options_.max_entries = 16;  // small, so eviction runs concurrently too (memory, file)
  auto cache = Make();
  const int ops = remote() ? 40 : 400;
  std::atomic<int> bad{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) + 11u);
      for (int i = 0; i < ops; ++i) {
        int k = static_cast<int>(rng() % 24);
        std::string key = "k/" + std::to_string(k);
        switch (rng() % 4) {
          case 0:
            if (k % 4 == t) (void)cache->Put(key, key + "=" + std::string(rng() % 200, 'v'), milliseconds(5000));
            break;
          case 1:
            (void)cache->Invalidate(key);
            break;
          default: {
            std::optional<std::string> v = cache->Get(key);
            if (v) {
              hits++;
              if (v->rfind(key + "=", 0) != 0 || v->find_first_not_of('v', key.size() + 1) != std::string::npos) bad++;
            }
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  ASSERT_TRUE(cache->Put("after", "ok", milliseconds(5000)).ok());
  EXPECT_EQ(cache->Get("after"), "ok");
  if (GetParam() == Driver::kMemory || GetParam() == Driver::kFile) {
    EXPECT_LE(cache->stats().entries, 16u);
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, CacheDriverTest,
                         ::testing::Values(Driver::kMemory, Driver::kFile, Driver::kS3OnMemory, Driver::kS3OnFile,
                                           Driver::kS3OnRgw),
                         [](const auto& info) { return DriverName(info.param); });

// ---- memory ------------------------------------------------------------------------------------

CacheOptions Bounded(const testing::FakeClock& clock, size_t entries, size_t bytes) {
  CacheOptions o;
  o.clock = clock.fn();
  o.max_entries = entries;
  o.max_bytes = bytes;
  return o;
}

TEST(MemoryCache, EvictsTheLeastRecentlyUsedEntry) {
  testing::FakeClock clock;
  auto cache = NewMemoryCache(Bounded(clock, 3, 1 << 20));
  ASSERT_TRUE(cache->Put("a", "1", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("b", "2", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("c", "3", milliseconds(5000)).ok());
  EXPECT_TRUE(cache->Get("a").has_value());  // a is now the most recent; b the least
  ASSERT_TRUE(cache->Put("d", "4", milliseconds(5000)).ok());
  EXPECT_FALSE(cache->Get("b").has_value());
  EXPECT_TRUE(cache->Get("a").has_value());
  EXPECT_TRUE(cache->Get("c").has_value());
  EXPECT_TRUE(cache->Get("d").has_value());
  EXPECT_EQ(cache->stats().evictions, 1u);
  EXPECT_EQ(cache->stats().entries, 3u);
  // The reads left the order (most recent first) d c a; replacing a refreshes it: a d c.
  ASSERT_TRUE(cache->Put("a", "1b", milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("e", "5", milliseconds(5000)).ok());  // so e evicts c
  EXPECT_FALSE(cache->Get("c").has_value());
  EXPECT_EQ(cache->Get("a"), "1b");
}

TEST(MemoryCache, BoundsTheBytesOfKeysAndValues) {
  testing::FakeClock clock;
  auto cache = NewMemoryCache(Bounded(clock, 100, 100));
  const std::string v38(38, 'x');  // key (2) + value (38) = 40 bytes
  ASSERT_TRUE(cache->Put("k1", v38, milliseconds(5000)).ok());
  ASSERT_TRUE(cache->Put("k2", v38, milliseconds(5000)).ok());
  EXPECT_EQ(cache->stats().bytes, 80u);
  ASSERT_TRUE(cache->Put("k3", v38, milliseconds(5000)).ok());  // 120 > 100: k1 goes
  EXPECT_EQ(cache->stats().bytes, 80u);
  EXPECT_FALSE(cache->Get("k1").has_value());
  EXPECT_TRUE(cache->Get("k2").has_value());
  // An entry larger than the whole bound is never held, and it drops the older value.
  ASSERT_TRUE(cache->Put("k2", std::string(200, 'y'), milliseconds(5000)).ok());
  EXPECT_FALSE(cache->Get("k2").has_value());
  EXPECT_EQ(cache->stats().bytes, 40u);
}

TEST(CacheOptions, ValidateNamesTheProblem) {
  CacheOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.driver = "redis";
  EXPECT_NE(o.Validate().message().find("redis"), std::string::npos);
  o.driver = "file";
  EXPECT_EQ(o.Validate().code(), ErrorCode::kInvalidArgument);  // no directory
  o.directory = "/tmp/x";
  EXPECT_TRUE(o.Validate().ok());
  o.ttl = milliseconds(0);
  EXPECT_NE(o.Validate().message().find("ttl"), std::string::npos);
  o.ttl = milliseconds(1);
  o.max_entries = 0;
  EXPECT_FALSE(o.Validate().ok());
  EXPECT_THROW(NewMemoryCache(o), InvalidArgument);
  EXPECT_EQ(NewFileCache(o).code(), ErrorCode::kInvalidArgument);
}

// ---- file --------------------------------------------------------------------------------------

class FileCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<CacheDriver> Open(size_t entries = 100) {
    CacheOptions o;
    o.clock = clock_.fn();
    o.directory = dir_.str("cache");
    o.max_entries = entries;
    auto cache = NewFileCache(o);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return std::move(cache).value();
  }
  std::vector<std::string> Files(const std::string& suffix) const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "cache")) {
      std::string name = e.path().filename().string();
      if (name.ends_with(suffix)) out.push_back(name);
    }
    return out;
  }
  testing::FakeClock clock_;
  testing::TempDir dir_;
};

TEST_F(FileCacheTest, EntriesSurviveAReopenExpiredOnesDoNot) {
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("keep", "v1", milliseconds(10000)).ok());
    ASSERT_TRUE(cache->Put("brief", "v2", milliseconds(1000)).ok());
  }
  clock_.Advance(2000);
  auto cache = Open();
  EXPECT_EQ(cache->stats().entries, 1u);
  EXPECT_EQ(cache->Get("keep"), "v1");
  EXPECT_FALSE(cache->Get("brief").has_value());
  EXPECT_EQ(Files(".entry").size(), 1u);  // the expired file was removed at open
}

TEST_F(FileCacheTest, AReopenKeepsTheNewestWithinTheBound) {
  {
    auto cache = Open();
    for (const char* k : {"old", "mid", "new"}) ASSERT_TRUE(cache->Put(k, k, milliseconds(10000)).ok());
  }
  // File times decide the order at open; set them apart explicitly (a fast test writes all
  // three within one clock tick).
  auto now = std::filesystem::file_time_type::clock::now();
  int age = 3;
  for (const char* k : {"old", "mid", "new"}) {
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "cache")) {
      std::ifstream in(e.path(), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (text.ends_with(std::string(k) + k)) std::filesystem::last_write_time(e.path(), now - std::chrono::hours(age));
    }
    --age;
  }
  auto cache = Open(2);
  EXPECT_FALSE(cache->Get("old").has_value());
  EXPECT_EQ(cache->Get("mid"), "mid");
  EXPECT_EQ(cache->Get("new"), "new");
  EXPECT_EQ(Files(".entry").size(), 2u);
}

TEST_F(FileCacheTest, TornTempAndForeignFilesAreMissesAndCleanedAtOpen) {
  {
    auto cache = Open();
    ASSERT_TRUE(cache->Put("whole", "value", milliseconds(10000)).ok());
    ASSERT_TRUE(cache->Put("torn", "value-to-cut", milliseconds(10000)).ok());
  }
  // Cut one entry short (a crash mid-write without the rename would leave a .tmp instead;
  // make both kinds of debris).
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "cache")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.ends_with("value-to-cut")) std::filesystem::resize_file(e.path(), text.size() - 3);
  }
  std::ofstream(dir_.path() / "cache" / "abc.x1.tmp") << "partial";
  std::ofstream(dir_.path() / "cache" / (std::string(64, '0') + ".entry")) << "s3db-cache 1\n0 1 1\nkv";
  std::ofstream(dir_.path() / "cache" / "README") << "not ours, left alone";
  auto cache = Open();
  EXPECT_EQ(cache->Get("whole"), "value");
  EXPECT_FALSE(cache->Get("torn").has_value());
  EXPECT_EQ(Files(".tmp").size(), 0u);
  EXPECT_EQ(Files(".entry").size(), 1u);
  EXPECT_EQ(Files("README").size(), 1u);
}

TEST_F(FileCacheTest, AnotherInstanceInvalidatesByNameAndReadersSeeItsWrites) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a->Put("k", "from-a", milliseconds(10000)).ok());
  // b never saw "k" in its index, yet its Invalidate removes a's file (the name is the hash).
  ASSERT_TRUE(b->Invalidate("k").ok());
  EXPECT_FALSE(a->Get("k").has_value());
  // a's index still names the file when b rewrites it: a reads b's newer value.
  ASSERT_TRUE(a->Put("j", "old", milliseconds(10000)).ok());
  ASSERT_TRUE(b->Put("j", "new", milliseconds(10000)).ok());
  EXPECT_EQ(a->Get("j"), "new");
}

TEST_F(FileCacheTest, ReportsAnUnusableDirectory) {
  std::ofstream(dir_.path() / "a-file") << "x";
  CacheOptions o;
  o.directory = (dir_.path() / "a-file").string();
  EXPECT_EQ(NewFileCache(o).code(), ErrorCode::kIOError);
}

// ---- s3 ----------------------------------------------------------------------------------------

class S3CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto counted = std::make_unique<testing::CountingStore>(NewMemoryStore(bucket_));
    counting_ = counted.get();
    store_ = costs_.Wrap(std::move(counted));
    options_.clock = clock_.fn();
  }
  void TearDown() override { ClearMemoryBucket(bucket_); }
  std::unique_ptr<CacheDriver> Make() { return NewS3Cache(*store_, S3CachePrefix("db"), options_); }
  uint64_t Requests() const { return costs_.Totals().total_requests(); }

  std::string bucket_ = testing::UniqueBucket("s3cache");
  testing::FakeClock clock_;
  CacheOptions options_;
  CostsPlugin costs_{"db"};
  testing::CountingStore* counting_ = nullptr;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(S3CacheTest, PrefixHelper) {
  EXPECT_EQ(S3CachePrefix(""), "plugin=cache/");
  EXPECT_EQ(S3CachePrefix("db"), "db/plugin=cache/");
  EXPECT_EQ(S3CachePrefix("/a/b/"), "a/b/plugin=cache/");
}

TEST_F(S3CacheTest, EntriesAreObjectsWithTheExpiryInMetadata) {
  auto cache = Make();
  ASSERT_TRUE(cache->Put("resource=users/record/a b", "payload", milliseconds(3000)).ok());
  Result<GetResult> raw = store_->Get("db/plugin=cache/resource=users/record/a%20b");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->body, "payload");
  EXPECT_EQ(raw->info.metadata.at("exp"), std::to_string(clock_.now() + 3000));
  // A second driver (another process) on the same bucket shares the entry.
  auto other = NewS3Cache(*store_, S3CachePrefix("db"), options_);
  EXPECT_EQ(other->Get("resource=users/record/a b"), "payload");
}

TEST_F(S3CacheTest, RequestsPerOperation) {
  auto cache = Make();
  uint64_t before = Requests();
  ASSERT_TRUE(cache->Put("k", "v", milliseconds(3000)).ok());
  EXPECT_EQ(costs_.Totals().count(RequestKind::kPut), 1u);
  EXPECT_EQ(cache->Get("k"), "v");
  EXPECT_EQ(costs_.Totals().count(RequestKind::kGet), 1u);
  EXPECT_FALSE(cache->Get("absent").has_value());
  EXPECT_EQ(Requests() - before, 3u);
  // Reading an expired entry deletes it (free) so it does not linger.
  clock_.Advance(3000);
  EXPECT_FALSE(cache->Get("k").has_value());
  EXPECT_EQ(costs_.Totals().count(RequestKind::kDelete), 1u);
  EXPECT_EQ(store_->Head("db/plugin=cache/k").code(), ErrorCode::kNotFound);
  // An empty prefix invalidation is one LIST and no POST; with entries, one POST more.
  costs_.Reset();
  ASSERT_TRUE(cache->InvalidatePrefix("q/").ok());
  EXPECT_EQ(costs_.Totals().count(RequestKind::kList), 1u);
  EXPECT_EQ(costs_.Totals().count(RequestKind::kPost), 0u);
  ASSERT_TRUE(cache->Put("q/1", "v", milliseconds(3000)).ok());
  ASSERT_TRUE(cache->Put("q/2", "v", milliseconds(3000)).ok());
  ASSERT_TRUE(cache->InvalidatePrefix("q/").ok());
  EXPECT_EQ(costs_.Totals().count(RequestKind::kPost), 1u);
  // Cache objects are the database's, never a resource's, in the costs.
  EXPECT_TRUE(costs_.ByResource().empty());
}

TEST_F(S3CacheTest, LongKeysAreHashedYetPrefixesStillWork) {
  auto cache = Make();
  const std::string base = "resource=users/query/list/" + std::string(600, 'p');
  const std::string k1 = base + "/one", k2 = base + "/two";
  ASSERT_TRUE(cache->Put(k1, "1", milliseconds(3000)).ok());
  ASSERT_TRUE(cache->Put(k2, "2", milliseconds(3000)).ok());
  EXPECT_EQ(cache->Get(k1), "1");  // same first 440 characters, different hashes
  EXPECT_EQ(cache->Get(k2), "2");
  ListRequest list;
  list.prefix = "db/plugin=cache/";
  Result<ListPage> page = store_->List(list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  for (const auto& o : page->objects) EXPECT_LE(o.key.size(), 16u + 512u);
  ASSERT_TRUE(cache->Put("resource=users/record/1", "r", milliseconds(3000)).ok());
  ASSERT_TRUE(cache->InvalidatePrefix(base).ok());  // longer than the kept part: covers more, safely
  EXPECT_FALSE(cache->Get(k1).has_value());
  EXPECT_FALSE(cache->Get(k2).has_value());
  EXPECT_EQ(cache->Get("resource=users/record/1"), "r");
}

TEST_F(S3CacheTest, AnEntryWithoutAValidExpiryIsTreatedAsExpired) {
  auto cache = Make();
  PutRequest put;
  put.key = "db/plugin=cache/foreign";
  put.body = "x";
  put.metadata["exp"] = "soon";
  ASSERT_TRUE(store_->Put(put).ok());
  EXPECT_FALSE(cache->Get("foreign").has_value());
  EXPECT_EQ(store_->Head(put.key).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace s3db
