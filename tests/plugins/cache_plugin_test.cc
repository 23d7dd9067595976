// CachePlugin: read-through with request counts, the invalidation races, failed
// invalidations, keys, the cached-object framing, and the s3 driver inside a PluginHost.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "plugin_test_util.h"
#include "plugins/plugin_host.h"
#include "s3db/cache.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

// A driver over a memory cache that can fail invalidations and run a callback inside Put
// (before the value lands), to stage the races a real scheduler produces only sometimes.
class StagedDriver : public CacheDriver {
 public:
  explicit StagedDriver(const CacheOptions& o) : inner_(NewMemoryCache(o)) {}
  std::optional<std::string> Get(const std::string& k) override { return inner_->Get(k); }
  Status Put(const std::string& k, std::string_view v, milliseconds ttl) override {
    if (during_put) {
      auto f = std::move(during_put);
      during_put = nullptr;
      f();
    }
    return inner_->Put(k, v, ttl);
  }
  Status Invalidate(const std::string& k) override {
    if (fail_invalidate) return Status(ErrorCode::kNetwork, "injected");
    return inner_->Invalidate(k);
  }
  Status InvalidatePrefix(const std::string& p) override {
    if (fail_invalidate) return Status(ErrorCode::kNetwork, "injected");
    return inner_->InvalidatePrefix(p);
  }
  Status Clear() override { return inner_->Clear(); }
  CacheStats stats() const override { return inner_->stats(); }

  std::function<void()> during_put;
  bool fail_invalidate = false;
  CacheDriver& inner() { return *inner_; }

 private:
  std::unique_ptr<CacheDriver> inner_;
};

class CachePluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = costs_.Wrap(NewMemoryStore(bucket_));
    options_.clock = clock_.fn();
    options_.ttl = milliseconds(60000);
  }
  void TearDown() override { ClearMemoryBucket(bucket_); }

  std::unique_ptr<CachePlugin> WithStagedDriver() {
    auto driver = std::make_unique<StagedDriver>(options_);
    staged_ = driver.get();
    return std::make_unique<CachePlugin>(options_, std::move(driver));
  }
  void PutObject(const std::string& key, const std::string& body) {
    PutRequest p;
    p.key = key;
    p.body = body;
    p.metadata["_v"] = "1";
    ASSERT_TRUE(store_->Put(p).ok());
  }
  // The core's get path: read through the cache to the store.
  Result<GetResult> CachedGet(CachePlugin& cache, const std::string& id) {
    return cache.GetObject(CachePlugin::RecordKey("users", id), [&] { return store_->Get(Key(id)); });
  }
  static std::string Key(const std::string& id) { return "db/resource=users/data/id=" + id; }
  uint64_t Gets() const { return costs_.Totals().count(RequestKind::kGet); }

  std::string bucket_ = testing::UniqueBucket("cacheplugin");
  CostsPlugin costs_{"db"};
  std::unique_ptr<ObjectStore> store_;
  testing::FakeClock clock_;
  CacheOptions options_;
  StagedDriver* staged_ = nullptr;
};

TEST_F(CachePluginTest, RepeatedGetsOfOneRecordMakeOneRequest) {
  CachePlugin cache(options_);
  PutObject(Key("a"), "{\"name\":\"Ada\"}");
  for (int i = 0; i < 10; ++i) {
    Result<GetResult> got = CachedGet(cache, "a");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->body, "{\"name\":\"Ada\"}");
    EXPECT_EQ(got->info.metadata.at("_v"), "1");
    EXPECT_FALSE(got->info.etag.empty());
  }
  EXPECT_EQ(Gets(), 1u);
  EXPECT_EQ(cache.stats().hits, 9u);
  EXPECT_EQ(cache.stats().misses, 1u);

  // This process's write invalidates: the next get goes to the store and sees it.
  PutObject(Key("a"), "{\"name\":\"Bea\"}");
  cache.Invalidate(CachePlugin::RecordKey("users", "a"));
  EXPECT_EQ(CachedGet(cache, "a")->body, "{\"name\":\"Bea\"}");
  EXPECT_EQ(Gets(), 2u);
  EXPECT_EQ(CachedGet(cache, "a")->body, "{\"name\":\"Bea\"}");
  EXPECT_EQ(Gets(), 2u);
}

TEST_F(CachePluginTest, NotFoundIsNotCached) {
  CachePlugin cache(options_);
  EXPECT_EQ(CachedGet(cache, "ghost").code(), ErrorCode::kNotFound);
  EXPECT_EQ(CachedGet(cache, "ghost").code(), ErrorCode::kNotFound);
  EXPECT_EQ(Gets(), 2u);
  PutObject(Key("ghost"), "{}");  // another process may create it at any time
  EXPECT_TRUE(CachedGet(cache, "ghost").ok());
}

// The stale-read window: a write by ANOTHER process (no Invalidate here) is seen once the
// entry expires, not before.
TEST_F(CachePluginTest, OtherProcessesWritesAreSeenAfterTheTtl) {
  options_.ttl = milliseconds(5000);
  CachePlugin cache(options_);
  PutObject(Key("a"), "v1");
  EXPECT_EQ(CachedGet(cache, "a")->body, "v1");
  PutObject(Key("a"), "v2");
  clock_.Advance(4999);
  EXPECT_EQ(CachedGet(cache, "a")->body, "v1");
  clock_.Advance(1);
  EXPECT_EQ(CachedGet(cache, "a")->body, "v2");
}

// A reader misses, loads v1 from the store, and before it fills the cache a writer stores v2
// and invalidates. The late fill must not install v1.
TEST_F(CachePluginTest, AFillThatPredatesAnInvalidationIsDropped) {
  CachePlugin cache(options_);
  const std::string key = CachePlugin::RecordKey("users", "a");
  CacheRead miss = cache.Get(key);
  ASSERT_FALSE(miss.hit());
  cache.Invalidate(key);  // the writer
  cache.Put(key, "v1", miss.ticket);
  EXPECT_FALSE(cache.Get(key).hit());
  EXPECT_EQ(cache.stats().dropped_fills, 1u);
  EXPECT_EQ(cache.stats().puts, 0u);  // refused before the write (with s3, a PUT saved)
  // Invalidating an unrelated key does not spoil the fill; a covering prefix does.
  CacheRead again = cache.Get(key);
  cache.Invalidate(CachePlugin::RecordKey("users", "b"));
  cache.Put(key, "v2", again.ticket);
  EXPECT_EQ(cache.Get(key).value, "v2");
  const std::string q = CachePlugin::QueryKey("users", "count", Json::object());
  CacheRead qmiss = cache.Get(q);
  cache.InvalidatePrefix(CachePlugin::QueryPrefix("users"));
  cache.Put(q, "3", qmiss.ticket);
  EXPECT_FALSE(cache.Get(q).hit());
}

// The other order: the writer's invalidation lands after the reader's check but its delete
// runs before the reader's value is stored. The reader must take its entry out again.
TEST_F(CachePluginTest, AnInvalidationRacingTheFillIsUndone) {
  auto cache = WithStagedDriver();
  const std::string key = CachePlugin::RecordKey("users", "a");
  CacheRead miss = cache->Get(key);
  staged_->during_put = [&] { cache->Invalidate(key); };
  cache->Put(key, "v1", miss.ticket);
  EXPECT_FALSE(staged_->inner().Get(key).has_value());
  EXPECT_EQ(cache->stats().dropped_fills, 1u);
}

TEST_F(CachePluginTest, AFillOlderThanTheInvalidationLogIsDropped) {
  CachePlugin cache(options_);
  CacheRead miss = cache.Get("k");
  for (int i = 0; i < 5000; ++i) cache.Invalidate("other/" + std::to_string(i));
  cache.Put("k", "v", miss.ticket);  // cannot be shown safe any more
  EXPECT_FALSE(cache.Get("k").hit());
  CacheRead fresh = cache.Get("k");
  cache.Put("k", "v", fresh.ticket);
  EXPECT_TRUE(cache.Get("k").hit());
}

// When the driver cannot invalidate (the s3 driver's DELETE failed), the stale entry is
// still there; the plugin reads around it until it would have expired.
TEST_F(CachePluginTest, AFailedInvalidationBypassesTheKeyUntilTheTtl) {
  auto cache = WithStagedDriver();
  PutObject(Key("a"), "v1");
  EXPECT_EQ(CachedGet(*cache, "a")->body, "v1");
  PutObject(Key("a"), "v2");
  staged_->fail_invalidate = true;
  cache->Invalidate(CachePlugin::RecordKey("users", "a"));
  EXPECT_TRUE(staged_->inner().Get(CachePlugin::RecordKey("users", "a")).has_value());  // stale, still held
  EXPECT_EQ(CachedGet(*cache, "a")->body, "v2");
  EXPECT_EQ(CachedGet(*cache, "a")->body, "v2");
  EXPECT_EQ(Gets(), 3u);  // both went to the store, and neither refilled the cache
  EXPECT_EQ(cache->stats().bypassed, 2u);
  // Prefix failures bypass the whole range.
  cache->InvalidatePrefix(CachePlugin::QueryPrefix("users"));
  EXPECT_FALSE(cache->Get(CachePlugin::QueryKey("users", "ids", {})).hit());
  staged_->fail_invalidate = false;
  clock_.Advance(60000);
  EXPECT_EQ(CachedGet(*cache, "a")->body, "v2");  // the stale entry expired meanwhile
  EXPECT_EQ(CachedGet(*cache, "a")->body, "v2");
  EXPECT_EQ(Gets(), 4u);  // cached again
}

// Readers read through, writers write then invalidate, all at once. Once the writers are
// done, every read must return the last value written: no stale fill survives.
TEST_F(CachePluginTest, ConcurrentReadersNeverKeepAStaleValueAfterTheWrites) {
  CachePlugin cache(options_);
  const int keys = 8;
  for (int k = 0; k < keys; ++k) PutObject(Key(std::to_string(k)), "0");
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 1; i <= 300; ++i) {
        std::string id = std::to_string((i + w) % keys);
        PutObject(Key(id), std::to_string(i * 2 + w));
        cache.Invalidate(CachePlugin::RecordKey("users", id));
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(static_cast<unsigned>(r) + 5u);
      while (writing.load()) (void)CachedGet(cache, std::to_string(rng() % keys));
    });
  }
  threads[0].join();
  threads[1].join();
  writing = false;
  for (size_t t = 2; t < threads.size(); ++t) threads[t].join();
  for (int k = 0; k < keys; ++k) {
    std::string id = std::to_string(k);
    EXPECT_EQ(CachedGet(cache, id)->body, store_->Get(Key(id))->body) << "key " << id;
  }
}

TEST_F(CachePluginTest, GetJsonCachesQueryResults) {
  CachePlugin cache(options_);
  const std::string key = CachePlugin::QueryKey("users", "count", {{"partition", "byRegion"}});
  int loads = 0;
  auto count = [&] { return Json(++loads * 100); };
  EXPECT_EQ(cache.GetJson(key, count), 100);
  EXPECT_EQ(cache.GetJson(key, count), 100);
  cache.InvalidatePrefix(CachePlugin::QueryPrefix("users"));
  EXPECT_EQ(cache.GetJson(key, count), 200);
  // A load that throws propagates and caches nothing.
  const std::string other = CachePlugin::QueryKey("users", "ids", {});
  EXPECT_THROW(cache.GetJson(other, []() -> Json { throw std::runtime_error("list failed"); }), std::runtime_error);
  EXPECT_EQ(cache.GetJson(other, [] { return Json::array({"a"}); }), Json::array({"a"}));
  // Strings that are not UTF-8 cannot be cached as text: returned, not cached.
  const std::string bad = CachePlugin::QueryKey("users", "ids", {{"x", 1}});
  EXPECT_EQ(cache.GetJson(bad, [] { return Json("\xff"); }), Json("\xff"));
  EXPECT_FALSE(cache.Get(bad).hit());
}

TEST_F(CachePluginTest, ADamagedEntryIsAMissThenRefilled) {
  CachePlugin cache(options_);
  PutObject(Key("a"), "v1");
  const std::string key = CachePlugin::RecordKey("users", "a");
  cache.Put(key, "not an object frame", cache.Get(key).ticket);
  EXPECT_EQ(CachedGet(cache, "a")->body, "v1");
  EXPECT_EQ(Gets(), 1u);
  EXPECT_EQ(CachedGet(cache, "a")->body, "v1");
  EXPECT_EQ(Gets(), 1u);
  cache.Put("j", "{broken", cache.Get("j").ticket);
  EXPECT_EQ(cache.GetJson("j", [] { return Json(5); }), 5);
  EXPECT_EQ(cache.GetJson("j", [] { return Json(6); }), 5);
}

TEST(CachedObject, RoundTripsEveryFieldAndRejectsDamage) {
  GetResult o;
  o.info.key = "db/resource=users/data/id=a";
  o.info.etag = "\"0cc175b9c0f1b6a831c399e269772661\"";
  o.info.last_modified_ms = 1718000000123;
  o.info.size = 8;
  o.info.content_type = "application/json";
  o.info.metadata = {{"0", "s:Ada"}, {"_v", "2"}};
  o.body = std::string("{\"a\"\0\n\xff}", 8);
  std::string bytes = EncodeCachedObject(o);
  std::optional<GetResult> back = DecodeCachedObject(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->info.key, o.info.key);
  EXPECT_EQ(back->info.etag, o.info.etag);
  EXPECT_EQ(back->info.last_modified_ms, o.info.last_modified_ms);
  EXPECT_EQ(back->info.size, o.info.size);
  EXPECT_EQ(back->info.content_type, o.info.content_type);
  EXPECT_EQ(back->info.metadata, o.info.metadata);
  EXPECT_EQ(back->body, o.body);
  EXPECT_FALSE(DecodeCachedObject(bytes.substr(0, bytes.size() - 1)).has_value());  // truncated
  EXPECT_FALSE(DecodeCachedObject(bytes + "x").has_value());
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 1\n" + bytes.substr(11)).has_value());  // another version's magic
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 3\n" + bytes.substr(11)).has_value());
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 1\n{\"key\":1}\n").has_value());
  EXPECT_FALSE(DecodeCachedObject("").has_value());
  // Lengths that point past the end, or are not numbers, are damage too.
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 2\n999:x").has_value());
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 2\n-1:x").has_value());
  EXPECT_FALSE(DecodeCachedObject("s3db-obj 2\n1:a1:b2:103:100:01:5").has_value());  // 5 entries, none there
}

// Entries an older s3db wrote (version 1: a JSON header) to a Redis it shares with this one
// still read back, so a mixed deployment does not refill every record.
TEST(CachedObject, ReadsTheVersionOneFraming) {
  const std::string v1 = std::string("s3db-obj 1\n") +
                         R"({"body":3,"ct":"application/json","etag":"\"e1\"","key":"db/k","lm":1718000000123,)" +
                         R"("meta":{"0":"s:Ada","_v":"2"},"size":3})" + "\nabc";
  std::optional<GetResult> back = DecodeCachedObject(v1);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->info.key, "db/k");
  EXPECT_EQ(back->info.etag, "\"e1\"");
  EXPECT_EQ(back->info.last_modified_ms, 1718000000123);
  EXPECT_EQ(back->info.size, 3u);
  EXPECT_EQ(back->info.content_type, "application/json");
  EXPECT_EQ(back->info.metadata, (Metadata{{"0", "s:Ada"}, {"_v", "2"}}));
  EXPECT_EQ(back->body, "abc");
  EXPECT_FALSE(DecodeCachedObject(v1 + "d").has_value());  // the body's length is checked
}

TEST(CacheKeys, SeparateRecordsFromQueriesAndParamsFromEachOther) {
  EXPECT_EQ(CachePlugin::RecordKey("users", "a b"), "resource=users/record/a b");
  EXPECT_EQ(CachePlugin::ResourcePrefix("users"), "resource=users/");
  EXPECT_EQ(CachePlugin::QueryPrefix("users"), "resource=users/query/");
  const std::string q = CachePlugin::QueryKey("users", "list", {{"limit", 10}, {"offset", 0}});
  EXPECT_EQ(q.rfind("resource=users/query/list/", 0), 0u);
  EXPECT_EQ(q.size(), std::string("resource=users/query/list/").size() + 64);
  Json reordered = Json::object();
  reordered["offset"] = 0;
  reordered["limit"] = 10;
  EXPECT_EQ(CachePlugin::QueryKey("users", "list", reordered), q);
  EXPECT_NE(CachePlugin::QueryKey("users", "list", {{"limit", 11}, {"offset", 0}}), q);
  EXPECT_NE(CachePlugin::QueryKey("users", "ids", {{"limit", 10}, {"offset", 0}}), q);
  EXPECT_NE(CachePlugin::QueryKey("users", "list", Json("\xff")), CachePlugin::QueryKey("users", "list", Json("\xfe")));
  EXPECT_NE(CachePlugin::RecordKey("users", "x").rfind(CachePlugin::QueryPrefix("users"), 0), 0u);
}

TEST(CachePluginOptions, BadOptionsThrow) {
  CacheOptions o;
  o.driver = "redis";
  EXPECT_THROW(CachePlugin{o}, InvalidArgument);
  o.driver = "file";
  EXPECT_THROW(CachePlugin{o}, InvalidArgument);
  EXPECT_THROW(CachePlugin(CacheOptions{}, nullptr), InvalidArgument);
  EXPECT_TRUE(CachePlugin(CacheOptions{}).caches_records());
}

// Files as the driver: the plugin builds it from the options.
TEST(CachePluginFile, BuildsTheFileDriverFromOptions) {
  testing::TempDir dir;
  CacheOptions o;
  o.driver = "file";
  o.directory = dir.str("c");
  {
    CachePlugin cache(o);
    cache.Put("k", "v", cache.Get("k").ticket);
  }
  CachePlugin reopened(o);
  EXPECT_EQ(reopened.Get("k").value, "v");
  // "filesystem", the seeds' name for the driver, is the same driver over the same files.
  o.driver = "filesystem";
  CachePlugin seeds_name(o);
  EXPECT_EQ(seeds_name.options().driver, "file");
  EXPECT_EQ(seeds_name.Get("k").value, "v");
  o.directory.clear();
  EXPECT_THROW(CachePlugin{o}, InvalidArgument);  // it needs a directory too
}

// The s3 driver is made at Start on the database's whole store stack, so its requests are
// counted (for the database, not a resource) and it goes away at Stop.
TEST(CachePluginS3, LivesOnTheDatabaseStoreBetweenStartAndStop) {
  CacheOptions o;
  o.driver = "s3";
  o.cache_records = false;
  auto cache = std::make_shared<CachePlugin>(o);
  auto costs = std::make_shared<CostsPlugin>();
  plugins::PluginHost host("db", {costs, cache});
  host.SetupAll();
  std::string bucket = testing::UniqueBucket("cache-s3-host");
  auto store = host.BuildStore(NewMemoryStore(bucket));
  EXPECT_FALSE(cache->Get("k").hit());  // no driver before Start: a miss, no request
  cache->Put("k", "v", 0);
  EXPECT_EQ(costs->Totals().total_requests(), 0u);
  host.StartAll();
  const std::string q = CachePlugin::QueryKey("users", "count", {});
  int loads = 0;
  EXPECT_EQ(cache->GetJson(q, [&] { return Json(++loads); }), 1);
  EXPECT_EQ(cache->GetJson(q, [&] { return Json(++loads); }), 1);
  EXPECT_TRUE(store->Head("db/plugin=cache/" + q).ok());
  CostTotals t = costs->Totals();
  EXPECT_EQ(t.count(RequestKind::kGet), 2u);  // the miss and the hit
  EXPECT_EQ(t.count(RequestKind::kPut), 1u);  // the fill
  EXPECT_TRUE(costs->ByResource().empty());
  host.StopAll();
  EXPECT_FALSE(cache->Get(q).hit());
  ClearMemoryBucket(bucket);
}

TEST(CachePluginS3, WorksOnRgw) {
  if (testing::RealS3Uri() == nullptr) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no real S3 server";
  testing::RealS3 rgw;
  CacheOptions o;
  auto cache = std::make_unique<CachePlugin>(o, NewS3Cache(rgw.store(), S3CachePrefix(rgw.prefix()), o));
  const std::string key = rgw.prefix() + "/resource=users/data/id=a";
  PutRequest put;
  put.key = key;
  put.body = "{\"v\":1}";
  ASSERT_TRUE(rgw.store().Put(put).ok());
  auto get = [&] {
    return cache->GetObject(CachePlugin::RecordKey("users", "a"), [&] { return rgw.store().Get(key); });
  };
  Result<GetResult> first = get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<GetResult> second = get();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->body, "{\"v\":1}");
  EXPECT_EQ(second->info.etag, first->info.etag);
  EXPECT_EQ(cache->stats().hits, 1u);
  cache->Invalidate(CachePlugin::RecordKey("users", "a"));
  EXPECT_FALSE(cache->Get(CachePlugin::RecordKey("users", "a")).hit());
}

}  // namespace
}  // namespace s3db
