// The redis cache driver through a Database, against the real redis-server of scripts/redis.sh
// (skipped when S3DB_TEST_REDIS_URI is unset):
//  - coherence across processes: a writer process and a reader process, each with its own
//    Database on one store (the file store; RGW too when S3DB_TEST_S3_URI is set) and one
//    Redis namespace, 1,000 rounds: the reader never sees a value older than the one the
//    writer's last returned write stored. The same harness with the memory driver does see
//    stale values, which shows the test can fail.
//  - Redis killed mid-run: reads keep working (uncached, one warning), then the cache comes
//    back by itself once a redis-server answers on the port again.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/stores.h"
#include "support/definitions.h"
#include "support/environment.h"
#include "support/test_scale.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;
using testing::Def;
using testing::Env;

constexpr int kRounds = testing::ScaledForSanitizers(1000, 200);  // support/test_scale.h

// The writer's side, run in a child process (see RunRounds). Disabled: it runs only when
// RunRounds starts it with the variables below.
TEST(RedisCoherenceWriter, DISABLED_Process) {
  const char* uri = Env("S3DB_COHERENCE_STORE");
  const char* fds = Env("S3DB_COHERENCE_FDS");
  if (uri == nullptr || fds == nullptr) GTEST_SKIP() << "run by RedisCoherence tests only";
  int go = -1, done = -1;
  ASSERT_EQ(std::sscanf(fds, "%d,%d", &go, &done), 2);
  CacheOptions cache;
  cache.driver = Env("S3DB_COHERENCE_DRIVER");
  if (cache.driver == "redis") {
    cache.uri = Env("S3DB_TEST_REDIS_URI");
    cache.key_prefix = Env("S3DB_COHERENCE_KEYS");
  }
  auto db = Database::Connect({.uri = uri, .concurrency = 4, .cache = cache});
  Resource& notes = db->resource("notes");
  for (int i = 1; i <= kRounds; ++i) {
    char byte = 0;
    ASSERT_EQ(read(go, &byte, 1), 1);
    notes.Update("n", {{"v", i}});
    ASSERT_EQ(write(done, &byte, 1), 1);  // the write has returned
  }
}

struct RoundsResult {
  int stale = 0;
  uint64_t hits = 0;
};

// Reader in this process, writer in a child: each round the reader reads (twice: the second
// read is a hit), lets the writer write the next value, waits until the write returned and
// reads again, which must give the new value.
RoundsResult RunRounds(const std::string& store_uri, const std::string& driver) {
  RoundsResult out;
  const std::string keys = "s3dbtest:coherence-" + util::RandomAlnum(10) + ":";
  auto cache = std::make_shared<CachePlugin>([&] {
    CacheOptions o;
    o.driver = driver;
    if (driver == "redis") {
      o.uri = Env("S3DB_TEST_REDIS_URI");
      o.key_prefix = keys;
    }
    return o;
  }());
  auto db = Database::Connect({.uri = store_uri, .concurrency = 4, .plugins = {cache}});
  Resource& notes = db->CreateResource(Def("notes", {{"v", "number"}}));
  notes.Insert({{"id", "n"}, {"v", 0}});

  int go[2], done[2];
  EXPECT_EQ(pipe(go), 0);
  EXPECT_EQ(pipe(done), 0);
  pid_t child = fork();
  if (child == 0) {
    // Only exec here: the parent may have threads.
    setenv("S3DB_COHERENCE_STORE", store_uri.c_str(), 1);
    setenv("S3DB_COHERENCE_DRIVER", driver.c_str(), 1);
    setenv("S3DB_COHERENCE_KEYS", keys.c_str(), 1);
    const std::string fds = std::to_string(go[0]) + "," + std::to_string(done[1]);
    setenv("S3DB_COHERENCE_FDS", fds.c_str(), 1);
    execl("/proc/self/exe", "database_tests", "--gtest_filter=RedisCoherenceWriter.DISABLED_Process",
          "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(go[0]);
  close(done[1]);
  for (int i = 1; i <= kRounds; ++i) {
    for (int r = 0; r < 2; ++r) {
      if (notes.Get("n").data["v"] != i - 1) out.stale++;
    }
    char byte = 'w';
    if (write(go[1], &byte, 1) != 1) break;
    pollfd p{done[0], POLLIN, 0};
    if (poll(&p, 1, 30000) != 1 || read(done[0], &byte, 1) != 1) {
      ADD_FAILURE() << "the writer process did not answer in round " << i;
      break;
    }
    if (notes.Get("n").data["v"] != i) out.stale++;  // after the write returned
  }
  close(go[1]);
  close(done[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer process status " << status;
  out.hits = cache->stats().hits;
  return out;
}

class RedisCoherence : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("S3DB_TEST_REDIS_URI") == nullptr) {
      GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis (eval \"$(scripts/redis.sh start)\")";
    }
    dir_ = std::filesystem::temp_directory_path() / ("s3db-coherence-" + util::RandomAlnum(10));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string FileUri() const { return "file://" + dir_.string(); }

  std::filesystem::path dir_;
};

TEST_F(RedisCoherence, AReaderProcessNeverReadsStaleAfterTheWritersWriteReturned) {
  RoundsResult r = RunRounds(FileUri(), "redis");
  EXPECT_EQ(r.stale, 0);
  EXPECT_GE(r.hits, static_cast<uint64_t>(kRounds));  // the cache was in play every round
}

TEST_F(RedisCoherence, OnRgwToo) {
  const char* s3 = Env("S3DB_TEST_S3_URI");
  if (s3 == nullptr) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no real S3 server";
  std::string uri = std::string(s3) + "/coherence-" + util::RandomAlnum(10) + "?probe=false";
  RoundsResult r = RunRounds(uri, "redis");
  EXPECT_EQ(r.stale, 0);
  EXPECT_GE(r.hits, static_cast<uint64_t>(kRounds));
}

// The control: the memory driver is per process, so the same rounds read stale values.
TEST_F(RedisCoherence, TheMemoryDriverIsPerProcessAndReadsStale) {
  RoundsResult r = RunRounds(FileUri(), "memory");
  EXPECT_GE(r.stale, kRounds / 2);
}

// A redis-server of the test's own (scripts/redis.sh with its own directory and port), so
// killing it disturbs no other test.
class OwnRedis {
 public:
  OwnRedis() {
    port_ = 17470 + static_cast<int>(getpid() % 2000);
    dir_ = std::filesystem::temp_directory_path() / ("s3db-own-redis-" + util::RandomAlnum(8));
  }
  ~OwnRedis() { Script("stop"); }
  bool Start() { return Script("start") == 0; }
  void Kill() {
    std::ifstream in(dir_ / "redis.pid");
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(milliseconds(10));
  }
  std::string Uri() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  int Script(const std::string& what) {
    std::string command = "S3DB_REDIS_DIR='" + dir_.string() + "' S3DB_REDIS_PORT=" + std::to_string(port_) + " '" +
                          S3DB_SOURCE_DIR + "/scripts/redis.sh' " + what + " >/dev/null 2>&1";
    return std::system(command.c_str());
  }
  int port_;
  std::filesystem::path dir_;
};

TEST(RedisKilledMidRun, ReadsKeepWorkingThenTheCacheComesBack) {
  if (Env("S3DB_TEST_REDIS_URI") == nullptr) GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis";
  OwnRedis redis;
  ASSERT_TRUE(redis.Start());
  CacheOptions o;
  o.driver = "redis";
  o.uri = redis.Uri();
  o.timeout = milliseconds(200);
  auto cache = std::make_shared<CachePlugin>(o);
  std::vector<std::string> news;
  std::mutex news_mu;
  for (const char* event : {kCacheWarningEvent, kCacheRecoveredEvent}) {
    cache->events().On(event, [&, event](const Json&) {
      std::lock_guard lock(news_mu);
      news.push_back(event);
    });
  }
  DatabaseOptions options;
  options.plugins = {cache};
  auto db = Database::Open(NewMemoryStore("killed-" + util::RandomAlnum(8)), "db", options);
  Resource& notes = db->CreateResource(Def("notes", {{"v", "number"}}));
  notes.Insert({{"id", "n"}, {"v", 1}});
  notes.Insert({{"id", "m"}, {"v", 3}});
  EXPECT_EQ(notes.Get("n").data["v"], 1);
  EXPECT_EQ(notes.Get("n").data["v"], 1);
  const uint64_t hits_before = cache->stats().hits;
  EXPECT_EQ(hits_before, 1u);

  redis.Kill();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(notes.Get("n").data["v"], 1);  // never a failed get
  notes.Update("n", {{"v", 2}});  // its invalidation cannot reach Redis: this process reads around it
  for (int i = 0; i < 50; ++i) EXPECT_EQ(notes.Get("n").data["v"], 2);
  EXPECT_EQ(cache->stats().hits, hits_before);
  {
    std::lock_guard lock(news_mu);
    EXPECT_EQ(news, std::vector<std::string>{kCacheWarningEvent});  // one warning for the outage
  }

  ASSERT_TRUE(redis.Start());  // the same port, empty
  // Back within the longest backoff (5 s): a record not written during the outage fills and
  // hits again ("n" is read around until its entry would have expired: its invalidation was
  // lost).
  bool back = false;
  for (int i = 0; i < 80 && !back; ++i) {
    EXPECT_EQ(notes.Get("m").data["v"], 3);
    back = cache->stats().hits > hits_before;
    if (!back) std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(back) << "the cache did not come back";
  EXPECT_EQ(notes.Get("n").data["v"], 2);
  std::lock_guard lock(news_mu);
  EXPECT_EQ(news, (std::vector<std::string>{kCacheWarningEvent, kCacheRecoveredEvent}));
}

TEST(RedisCacheDatabase, GetManyOfCachedRecordsReadsNoStoreObject) {
  const char* uri = Env("S3DB_TEST_REDIS_URI");
  if (uri == nullptr) GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis";
  CacheOptions o;
  o.driver = "redis";
  o.uri = uri;
  o.key_prefix = "s3dbtest:getmany-" + util::RandomAlnum(10) + ":";
  auto cache = std::make_shared<CachePlugin>(o);
  auto costs = std::make_shared<CostsPlugin>();
  DatabaseOptions options;
  options.plugins = {costs, cache};
  auto db = Database::Open(NewMemoryStore("getmany-" + util::RandomAlnum(8)), "db", options);
  Resource& notes = db->CreateResource(Def("notes", {{"v", "number"}}));
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back("n" + std::to_string(i));
    notes.Insert({{"id", ids.back()}, {"v", i}});
  }
  GetManyResult first = notes.GetMany(ids);  // fills
  ASSERT_EQ(first.records.size(), 20u);
  notes.Update("n3", {{"v", 33}});
  const uint64_t gets = costs->Totals().count(RequestKind::kGet);
  GetManyResult second = notes.GetMany(ids);
  ASSERT_EQ(second.records.size(), 20u);
  // Nineteen from the one batch read of the cache; n3 (invalidated) from the store.
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet) - gets, 1u);
  for (const Record& r : second.records) EXPECT_EQ(r.data["v"], r.id == "n3" ? 33 : std::stoi(r.id.substr(1))) << r.id;
}

TEST(RedisCacheDatabase, AWrongPasswordFailsTheConnectWithAccessDenied) {
  const char* uri = Env("S3DB_TEST_REDIS_URI");
  if (uri == nullptr) GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis";
  std::string bad = uri;
  size_t at = bad.find(":s3dbtestpass@");
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, 14, ":wrong-Secret-7@");
  CacheOptions o;
  o.driver = "redis";
  o.uri = bad;
  try {
    DatabaseOptions options;
    options.cache = o;
    Database::Open(NewMemoryStore("wrongpass-" + util::RandomAlnum(8)), "db", options);
    FAIL() << "connected";
  } catch (const AccessDenied& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-Secret-7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("refused the credentials"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace s3db
