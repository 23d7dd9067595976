// `s3db --cache URI --cache-ttl D` and `s3db cache stats|clear`: every driver the URI names,
// the redis one against the real redis-server of scripts/redis.sh (skipped when
// S3DB_TEST_REDIS_URI is unset), and the exit codes of bad input (docs/CLI.md).
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

const char* RedisUri() {
  const char* uri = std::getenv("S3DB_TEST_REDIS_URI");
  return uri != nullptr && *uri != '\0' ? uri : nullptr;
}

// The test Redis URI on a database of this backend's own (1 on file, 2 on S3): the file and
// S3 runs of one case go in parallel, and a database without a key prefix (file://) shares
// the "s3db::" keys, so on one Redis database each would clear the other's entries.
std::string RedisUriOfThisBackend() {
  std::string uri = RedisUri();
  const char* backend = std::getenv("S3DB_CLI_TEST_BACKEND");
  const std::string db = backend != nullptr && std::string(backend) == "s3" ? "2" : "1";
  const size_t slash = uri.rfind('/');
  if (slash != std::string::npos && slash + 2 == uri.size() && uri[slash + 1] == '0')
    return uri.substr(0, slash + 1) + db;
  return uri;
}

TEST_F(CliTest, CacheStatsOfAFileCacheCountsWhatEarlierRunsLeft) {
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  const std::string cache = "file://" + dir_ + "/cache";
  ASSERT_TRUE(Succeeded(Run({"--cache", cache, "get", "users", "ada"})));
  const RunResult stats = Run({"--cache", cache, "--cache-ttl", "5m", "cache", "stats"});
  ASSERT_TRUE(Succeeded(stats));
  const Json s = Json::parse(stats.out);
  EXPECT_EQ(s["driver"], "file");
  EXPECT_EQ(s["ttlMs"], 300000);
  EXPECT_EQ(s["entries"], 1);  // the record the get cached
  const RunResult cleared = Run({"--cache", cache, "cache", "clear", "users"});
  ASSERT_TRUE(Succeeded(cleared));
  EXPECT_EQ(Json::parse(cleared.out), (Json{{"resource", "users"}, {"cleared", true}}));
  EXPECT_EQ(Json::parse(Run({"--cache", cache, "cache", "stats"}).out)["entries"], 0);
}

TEST_F(CliTest, CacheCommandsAndFlagsRefuseWhatTheyCannotUse) {
  CreateUsers();
  EXPECT_TRUE(FailedWith(Run({"cache", "stats"}), kUsage, "need --cache"));
  EXPECT_TRUE(FailedWith(Run({"--cache-ttl", "5s", "count", "users"}), kUsage, "--cache-ttl needs --cache"));
  EXPECT_TRUE(FailedWith(Run({"--cache", "memory", "--cache-ttl", "soon", "count", "users"}), kInvalid, "duration"));
  EXPECT_TRUE(FailedWith(Run({"--cache", "ftp://x", "count", "users"}), kInvalid, "unknown cache"));
  EXPECT_TRUE(FailedWith(Run({"--cache", "s3://other-bucket", "count", "users"}), kInvalid, "own bucket"));
  EXPECT_TRUE(FailedWith(Run({"--cache", "rediss://u:Hidden-99@h:6380/0", "count", "users"}), kInvalid, "TLS"));
  const RunResult bad = Run({"--cache", "redis://u:Hidden-99@h:notaport/0", "count", "users"});
  EXPECT_TRUE(FailedWith(bad, kInvalid, "port"));
  EXPECT_EQ(bad.err.find("Hidden-99"), std::string::npos) << bad.err;
  EXPECT_TRUE(FailedWith(Run({"--cache", "memory", "cache", "clear", "nobody"}), kNotFound, "nobody"));
}

TEST_F(CliTest, RedisCacheIsSharedByEveryRunAndClearedPerResource) {
  if (RedisUri() == nullptr) GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis";
  CreateUsers();
  ASSERT_TRUE(Succeeded(Run({"insert", "users", kAdaJson})));
  // A file:// database has no prefix, so its Redis keys are under "s3db::" whatever the
  // directory: start from a clean slate.
  const std::string cache = RedisUriOfThisBackend();
  ASSERT_TRUE(Succeeded(Run({"--cache", cache, "cache", "clear", "users"})));
  ASSERT_TRUE(Succeeded(Run({"--cache", cache, "get", "users", "ada"})));  // fills
  const RunResult get = Run({"--cache", cache, "--costs", "get", "users", "ada"});
  ASSERT_EQ(get.exit_code, kOk) << Describe(get);
  EXPECT_EQ(Json::parse(get.out)["name"], "Ada Lovelace");
  // The record came from Redis: only the catalog was read from the store.
  EXPECT_NE(get.err.find(R"("get":1,)"), std::string::npos) << get.err;
  // An update by a run without the cache is invisible to it (no invalidation was sent)...
  ASSERT_TRUE(Succeeded(Run({"update", "users", "ada", R"({"age":37})"})));
  EXPECT_EQ(Json::parse(Run({"--cache", cache, "get", "users", "ada"}).out)["age"], 36);
  // ...until the resource's entries are cleared, for every process.
  ASSERT_TRUE(Succeeded(Run({"--cache", cache, "cache", "clear", "users"})));
  EXPECT_EQ(Json::parse(Run({"--cache", cache, "get", "users", "ada"}).out)["age"], 37);
  // An update through the cache is seen by the next run at once.
  ASSERT_TRUE(Succeeded(Run({"--cache", cache, "update", "users", "ada", R"({"age":38})"})));
  EXPECT_EQ(Json::parse(Run({"--cache", cache, "get", "users", "ada"}).out)["age"], 38);
  const Json stats = Json::parse(Run({"--cache", cache, "cache", "stats"}).out);
  EXPECT_EQ(stats["driver"], "redis");
  EXPECT_GE(stats["entries"], 1);
}

TEST_F(CliTest, RedisWrongPasswordIsExit6WithoutThePassword) {
  if (RedisUri() == nullptr) GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis";
  CreateUsers();
  std::string bad = RedisUri();
  const size_t at = bad.find(":s3dbtestpass@");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 14, ":Wrong-Pass-5@");
  const RunResult run = Run({"--cache", bad, "count", "users"});
  EXPECT_TRUE(FailedWith(run, kStorage, "refused the credentials"));
  EXPECT_EQ(run.err.find("Wrong-Pass-5"), std::string::npos) << run.err;
}

// `bench --workload cached-get`: the uncached gets, the gets that fill, then the cached ones,
// which the command itself checks were all hits and read nothing from the store.
TEST_F(CliTest, BenchCachedGetReadsFromTheCacheOnly) {
  const RunResult run =
      Run({"--cache", "memory", "--cache-ttl", "10m", "bench", "--workload", "cached-get", "--n", "12"});
  ASSERT_EQ(run.exit_code, kOk) << Describe(run);
  const Json line = Json::parse(run.out);
  EXPECT_EQ(line["workload"], "cached-get");
  EXPECT_EQ(line["cache"], "memory");
  EXPECT_EQ(line["errors"], 0);
  EXPECT_EQ(line["get_requests"], 12);       // uncached: one GET each
  EXPECT_EQ(line["get_fill_requests"], 12);  // misses: one GET each
  EXPECT_EQ(line["get_cached_requests"], 0);
  EXPECT_GT(line["get_cached_ops_s"].get<double>(), 0);
  EXPECT_FALSE(line.contains("update_ops_s"));
  EXPECT_TRUE(FailedWith(Run({"bench", "--workload", "cached-get", "--n", "3"}), kUsage, "needs --cache"));
  EXPECT_TRUE(FailedWith(Run({"bench", "--workload", "other", "--n", "3"}), kUsage, "workload"));
}

}  // namespace
}  // namespace s3db::clitest
