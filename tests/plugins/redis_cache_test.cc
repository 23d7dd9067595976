// The redis cache driver against the real redis-server of scripts/redis.sh (skipped when
// S3DB_TEST_REDIS_URI is unset): round trips, the coherence checks of one key, TTL expiry,
// max_entries, unix sockets, a server that is not there, and clear errors for bad URIs and
// wrong passwords. tests/database/redis_cache_database_test.cc has the two-process coherence
// test and Redis killed mid-run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "plugin_test_util.h"
#include "s3db/cache.h"
#include "s3db/plugin.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

const char* RedisUri() {
  const char* uri = std::getenv("S3DB_TEST_REDIS_URI");
  return uri != nullptr && *uri != '\0' ? uri : nullptr;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class RedisCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisUri() == nullptr)
      GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis (eval \"$(scripts/redis.sh start)\")";
    options_.driver = "redis";
    options_.uri = RedisUri();
    options_.ttl = milliseconds(60000);
    // Every test its own namespace, so tests running side by side never meet.
    options_.key_prefix = "s3dbtest:" + util::RandomAlnum(12) + ":";
  }

  std::unique_ptr<CacheDriver> Make(CacheEventFn on_event = nullptr) {
    Result<std::unique_ptr<CacheDriver>> d = NewRedisCache(options_, std::move(on_event));
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? std::move(d).value() : nullptr;
  }

  CacheOptions options_;
};

TEST_F(RedisCacheTest, AFillAfterAMissIsAHitUntilInvalidated) {
  auto d = Make();
  const std::string key = ReadCache::RecordKey("users", "ada");
  EXPECT_FALSE(d->Get(key));
  ASSERT_TRUE(d->Put(key, std::string("v1\0bytes", 8), milliseconds(60000)).ok());
  EXPECT_EQ(d->Get(key), std::string("v1\0bytes", 8));
  ASSERT_TRUE(d->Invalidate(key).ok());
  EXPECT_FALSE(d->Get(key));
  CacheStats s = d->stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.puts, 1u);
}

TEST_F(RedisCacheTest, APrefixInvalidationMakesEveryEntryUnderItStale) {
  auto d = Make();
  const std::string q1 = ReadCache::QueryKey("users", "count", Json::object());
  const std::string q2 = ReadCache::QueryKey("users", "ids", Json{{"limit", 3}});
  const std::string record = ReadCache::RecordKey("users", "ada");
  const std::string other = ReadCache::QueryKey("orders", "count", Json::object());
  for (const std::string& k : {q1, q2, record, other}) {
    EXPECT_FALSE(d->Get(k));
    ASSERT_TRUE(d->Put(k, "x", milliseconds(60000)).ok());
  }
  ASSERT_TRUE(d->InvalidatePrefix(ReadCache::QueryPrefix("users")).ok());
  EXPECT_FALSE(d->Get(q1));
  EXPECT_FALSE(d->Get(q2));
  EXPECT_EQ(d->Get(record), "x");  // records are not under the query prefix
  EXPECT_EQ(d->Get(other), "x");   // nor are other resources'
  ASSERT_TRUE(d->InvalidatePrefix(ReadCache::ResourcePrefix("users")).ok());
  EXPECT_FALSE(d->Get(record));
  EXPECT_EQ(d->Get(other), "x");
  ASSERT_TRUE(d->Clear().ok());
  EXPECT_FALSE(d->Get(other));
}

TEST_F(RedisCacheTest, AFillWithoutAReadOnItsThreadIsNotStored) {
  auto d = Make();
  ASSERT_TRUE(d->Put("k", "v", milliseconds(60000)).ok());
  EXPECT_EQ(d->stats().dropped_fills, 1u);
  // A read on another thread does not vouch for this one's fill either.
  std::thread([&] { EXPECT_FALSE(d->Get("k")); }).join();
  ASSERT_TRUE(d->Put("k", "v", milliseconds(60000)).ok());
  EXPECT_EQ(d->stats().dropped_fills, 2u);
  EXPECT_FALSE(d->Get("k"));
  EXPECT_EQ(d->stats().puts, 0u);
}

// Two drivers on one namespace are two processes sharing the cache.
TEST_F(RedisCacheTest, AFillThatAWriteElsewhereOvertookIsDropped) {
  auto reader = Make();
  auto writer = Make();
  const std::string key = ReadCache::RecordKey("users", "ada");
  EXPECT_FALSE(reader->Get(key));             // the reader misses and loads the old value from the store
  ASSERT_TRUE(writer->Invalidate(key).ok());  // the writer's write returns
  ASSERT_TRUE(reader->Put(key, "old", milliseconds(60000)).ok());
  EXPECT_FALSE(reader->Get(key));
  EXPECT_FALSE(writer->Get(key));
  EXPECT_EQ(reader->stats().dropped_fills, 1u);
  // So is one overtaken by a prefix invalidation.
  ASSERT_TRUE(reader->Put(key, "new", milliseconds(60000)).ok());  // filled after the read above
  EXPECT_EQ(writer->Get(key), "new");
  const std::string q = ReadCache::QueryKey("users", "count", Json::object());
  EXPECT_FALSE(reader->Get(q));
  ASSERT_TRUE(writer->InvalidatePrefix(ReadCache::QueryPrefix("users")).ok());
  ASSERT_TRUE(reader->Put(q, "41", milliseconds(60000)).ok());
  EXPECT_FALSE(writer->Get(q));
}

TEST_F(RedisCacheTest, GetManyReadsEveryKeyAtOnceAndItsMissesCanBeFilled) {
  auto d = Make();
  EXPECT_FALSE(d->Get("a"));
  ASSERT_TRUE(d->Put("a", "1", milliseconds(60000)).ok());
  std::vector<std::optional<std::string>> got = d->GetMany({"a", "b", "a", "c"});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "1");
  EXPECT_FALSE(got[1]);
  EXPECT_EQ(got[2], "1");
  EXPECT_FALSE(got[3]);
  // The batch read vouches for the fills of its misses, on this thread.
  ASSERT_TRUE(d->Put("b", "2", milliseconds(60000)).ok());
  ASSERT_TRUE(d->Put("c", "3", milliseconds(60000)).ok());
  EXPECT_EQ(d->GetMany({"c", "b"}), (std::vector<std::optional<std::string>>{"3", "2"}));
  EXPECT_EQ(d->stats().dropped_fills, 0u);
  // 50 keys in one pipeline (a thread keeps the reads of its last 64 keys for their fills).
  std::vector<std::string> many;
  for (int i = 0; i < 50; ++i) many.push_back("m" + std::to_string(i));
  EXPECT_EQ(d->GetMany(many).size(), 50u);
  for (const std::string& k : many) ASSERT_TRUE(d->Put(k, k, milliseconds(60000)).ok());
  got = d->GetMany(many);
  for (size_t i = 0; i < many.size(); ++i) EXPECT_EQ(got[i], many[i]);
}

// A hit needs no fill, so it keeps nothing for one: a Put after it (only a damaged entry
// makes the core fill after a hit) is dropped, and the entry stays as it was.
TEST_F(RedisCacheTest, AFillAfterAHitIsDropped) {
  auto d = Make();
  EXPECT_FALSE(d->Get("k"));
  ASSERT_TRUE(d->Put("k", "v1", milliseconds(60000)).ok());
  EXPECT_EQ(d->Get("k"), "v1");
  ASSERT_TRUE(d->Put("k", "v2", milliseconds(60000)).ok());
  EXPECT_EQ(d->stats().dropped_fills, 1u);
  EXPECT_EQ(d->Get("k"), "v1");
  EXPECT_EQ(d->stats().puts, 1u);
}

// The reads of many threads share pipelines (one thread sends the queued reads of the others,
// the replies come back in order): each caller gets its own key's answer, hits and misses
// alike, single gets and GetMany batches mixed.
TEST_F(RedisCacheTest, ConcurrentReadsOf32ThreadsEachGetTheirOwnAnswers) {
  options_.connections = 4;
  // A loaded test machine can hold Redis off the CPU past the default 100 ms, which the driver
  // rightly takes for an outage (every read a miss for a while): not what this test is about.
  options_.timeout = milliseconds(10000);
  auto d = Make();
  constexpr int kThreads = 32;
  constexpr int kKeys = 64;  // even keys cached, odd ones not
  auto key = [](int k) { return ReadCache::RecordKey("users", "id" + std::to_string(k)); };
  auto value = [](int k) { return "value of " + std::to_string(k) + std::string(static_cast<size_t>(k) * 7, 'x'); };
  for (int k = 0; k < kKeys; k += 2) {
    EXPECT_FALSE(d->Get(key(k)));
    ASSERT_TRUE(d->Put(key(k), value(k), milliseconds(60000)).ok());
  }
  const CacheStats before = d->stats();
  std::atomic<int> wrong{0}, reads{0}, cached_reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int k = (t * 7 + round * 13) % kKeys;
        if (round % 5 == 4) {  // now and then a batch of three
          const int ks[3] = {k, (k + 1) % kKeys, (k + 2) % kKeys};
          std::vector<std::optional<std::string>> got = d->GetMany({key(ks[0]), key(ks[1]), key(ks[2])});
          for (int i = 0; i < 3; ++i) {
            const std::optional<std::string> expected =
                ks[i] % 2 == 0 ? std::optional<std::string>(value(ks[i])) : std::nullopt;
            if (got.size() != 3 || got[static_cast<size_t>(i)] != expected) wrong++;
            cached_reads += ks[i] % 2 == 0;
          }
          reads += 3;
          continue;
        }
        const std::optional<std::string> got = d->Get(key(k));
        if (got != (k % 2 == 0 ? std::optional<std::string>(value(k)) : std::nullopt)) wrong++;
        cached_reads += k % 2 == 0;
        reads++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  const CacheStats after = d->stats();
  EXPECT_EQ(after.hits - before.hits + after.misses - before.misses, static_cast<uint64_t>(reads.load()));
  EXPECT_EQ(after.hits - before.hits, static_cast<uint64_t>(cached_reads.load()));
  EXPECT_EQ(after.errors, 0u);
}

TEST_F(RedisCacheTest, EntriesExpireAfterTheirTtl) {
  auto d = Make();
  EXPECT_FALSE(d->Get("a"));
  ASSERT_TRUE(d->Put("a", "1", milliseconds(300)).ok());
  EXPECT_EQ(d->Get("a"), "1");
  std::this_thread::sleep_for(milliseconds(450));
  EXPECT_FALSE(d->Get("a"));
  // A ttl of 0 stores nothing.
  ASSERT_TRUE(d->Put("a", "2", milliseconds(0)).ok());
  EXPECT_FALSE(d->Get("a"));
}

TEST_F(RedisCacheTest, MaxEntriesBoundsTheNamespaceSoonestToExpireFirst) {
  options_.max_entries = 3;
  auto d = Make();
  for (int i = 0; i < 5; ++i) {
    const std::string k = "k" + std::to_string(i);
    EXPECT_FALSE(d->Get(k));
    ASSERT_TRUE(d->Put(k, "v", milliseconds(60000 + i * 1000)).ok());  // later ones expire later
  }
  CacheStats s = d->stats();
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_FALSE(d->Get("k0"));
  EXPECT_FALSE(d->Get("k1"));
  for (int i = 2; i < 5; ++i) EXPECT_EQ(d->Get("k" + std::to_string(i)), "v") << i;
}

TEST_F(RedisCacheTest, BiggerThanMaxEntryBytesIsNotCached) {
  options_.max_entry_bytes = 4;
  auto d = Make();
  EXPECT_FALSE(d->Get("k"));
  ASSERT_TRUE(d->Put("k", "12345", milliseconds(60000)).ok());
  EXPECT_FALSE(d->Get("k"));
}

TEST_F(RedisCacheTest, AUnixSocketUriWorks) {
  const char* socket = std::getenv("S3DB_TEST_REDIS_SOCKET");
  if (socket == nullptr || *socket == '\0') GTEST_SKIP() << "S3DB_TEST_REDIS_SOCKET is not set";
  // The socket's peer is the passwordless default user.
  options_.uri = std::string("unix://") + socket + "?db=1";
  auto d = Make();
  EXPECT_FALSE(d->Get("k"));
  ASSERT_TRUE(d->Put("k", "v", milliseconds(60000)).ok());
  EXPECT_EQ(d->Get("k"), "v");
}

TEST_F(RedisCacheTest, AWrongPasswordIsAccessDeniedWithoutThePassword) {
  options_.uri = Replace(RedisUri(), ":s3dbtestpass@", ":not-the-Secret-42@");
  Result<std::unique_ptr<CacheDriver>> d = NewRedisCache(options_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(d.status().message().find("refused the credentials"), std::string::npos) << d.status().ToString();
  EXPECT_EQ(d.status().ToString().find("not-the-Secret-42"), std::string::npos) << d.status().ToString();
  EXPECT_EQ(d.status().ToString().find("s3dbtestpass"), std::string::npos);
}

TEST_F(RedisCacheTest, ADatabaseNumberOutOfRangeIsInvalidArgument) {
  options_.uri = Replace(RedisUri(), "/0", "/999");
  Result<std::unique_ptr<CacheDriver>> d = NewRedisCache(options_);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("SELECT 999"), std::string::npos) << d.status().ToString();
}

TEST_F(RedisCacheTest, AServerThatIsNotThereMissesWithOneWarning) {
  // A port nothing listens on (the test's own, bound and closed, would race; 1 is privileged
  // and unused on loopback).
  options_.uri = "redis://127.0.0.1:1/0";
  std::vector<std::string> events;
  auto d = Make([&](const char* event, const Json& payload) {
    events.push_back(event);
    EXPECT_EQ(payload["driver"], "redis");
  });
  ASSERT_NE(d, nullptr);
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(d->Get("k"));
    EXPECT_TRUE(d->Put("k", "v", milliseconds(60000)).ok());
    std::this_thread::sleep_for(milliseconds(10));  // past a backoff or two: it tries again
  }
  EXPECT_FALSE(d->Invalidate("k").ok());  // the caller must know: CachePlugin reads around it
  EXPECT_EQ(events, std::vector<std::string>{kCacheWarningEvent});
  EXPECT_GT(d->stats().errors, 1u);
}

// No server needed from here on.
TEST(RedisUriTest, BadUrisAreInvalidArgumentsThatSayWhy) {
  struct Case {
    const char* uri;
    const char* says;
  };
  for (const Case& c : {Case{"rediss://h:6380/0", "TLS"}, Case{"redis://", "no host"},
                        Case{"redis://h:99999/0", "port"}, Case{"redis://h:6379/x", "database number"},
                        Case{"unix://relative.sock", "absolute"}, Case{"unix:///s.sock?timeout=1", "db=N"},
                        Case{"http://h:6379", "expected redis://"}, Case{"redis://u:p%zz@h/0", "percent"}}) {
    Status s = ValidateRedisUri(c.uri);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << c.uri;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << c.uri << ": " << s.ToString();
  }
  for (const char* good : {"redis://h", "redis://h:6379", "redis://u:p@h:1/2", "redis://p@h/0", "redis://[::1]:6379/0",
                           "unix:///tmp/r.sock", "unix:///tmp/r.sock?db=3"}) {
    EXPECT_TRUE(ValidateRedisUri(good).ok()) << good << ": " << ValidateRedisUri(good).ToString();
  }
}

TEST(RedisUriTest, ThePasswordIsNeverShown) {
  Status s = ValidateRedisUri("redis://user:Pa55word@host:bad/0");
  EXPECT_EQ(s.ToString().find("Pa55word"), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("redis://user:***@host:bad/0"), std::string::npos) << s.ToString();
  EXPECT_EQ(MaskedRedisUri("redis://Pa55word@host/0"), "redis://***@host/0");
  EXPECT_EQ(MaskedRedisUri("redis://u:p@ss@host/0"), "redis://u:***@host/0");
  EXPECT_EQ(MaskedRedisUri("redis://host/0"), "redis://host/0");
  CacheOptions o;
  o.driver = "redis";
  o.uri = "rediss://u:Pa55word@h/0";
  EXPECT_EQ(o.Validate().ToString().find("Pa55word"), std::string::npos);
  o.uri.clear();
  EXPECT_NE(o.Validate().message().find("needs a uri"), std::string::npos);
}

TEST(RedisUriTest, KeyPrefixes) {
  EXPECT_EQ(RedisKeyPrefix(""), "s3db::");
  EXPECT_EQ(RedisKeyPrefix("/a/b/"), "s3db:a/b:");
}

}  // namespace
}  // namespace s3db
