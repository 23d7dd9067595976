// Coherence across processes without lockstep, against the real redis-server of
// scripts/redis.sh (skipped when S3DB_TEST_REDIS_URI is unset). The lockstep test beside this
// one (redis_cache_database_test.cc) lets the reader read only between writes; here a writer
// process updates records continuously while two reader processes, four threads each, read
// them through the cache as fast as they can. Every operation is logged with its start and
// end on the machine's monotonic clock (CLOCK_MONOTONIC, one clock for every process), and
// afterwards the logs are checked: no read that started after a write had returned saw an
// older version of that record (nor a version whose write had not started when the read
// ended). The file store always, RGW too when S3DB_TEST_S3_URI is set. The same harness with
// the memory driver (per process) does read stale values, which shows the test can fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "support/definitions.h"
#include "support/environment.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace {

using testing::Def;
using testing::Env;

constexpr int kRecords = 8;
constexpr int kReaderProcesses = 2;
constexpr int kReaderThreads = 4;

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string RecordName(int k) { return "k" + std::to_string(k); }

// One logged operation: record k had (or was given) version v between start and end.
struct Op {
  int k = 0;
  int v = 0;
  int64_t start = 0;
  int64_t end = 0;
};

void WriteLog(const std::string& path, const std::vector<Op>& ops, const std::string& header) {
  std::ofstream out(path);
  out << header << "\n";
  for (const Op& op : ops) out << op.k << " " << op.v << " " << op.start << " " << op.end << "\n";
}

std::vector<Op> ReadLog(const std::string& path, std::string* header) {
  std::ifstream in(path);
  std::vector<Op> ops;
  std::getline(in, *header);
  Op op;
  while (in >> op.k >> op.v >> op.start >> op.end) ops.push_back(op);
  return ops;
}

std::shared_ptr<CachePlugin> ChildCache() {
  CacheOptions o;
  o.driver = Env("S3DB_FREE_DRIVER");
  if (o.driver == "redis") {
    o.uri = Env("S3DB_TEST_REDIS_URI");
    o.key_prefix = Env("S3DB_FREE_KEYS");
  }
  return std::make_shared<CachePlugin>(o);
}

// The writer, run in a child process by RunFree: updates the records one after the other,
// for S3DB_FREE_MS milliseconds, each to its next version, logging when each write started
// and returned. Disabled: it runs only when RunFree starts it.
TEST(RedisFreeCoherenceWriter, DISABLED_Process) {
  const char* uri = Env("S3DB_FREE_STORE");
  const char* log = Env("S3DB_FREE_LOG");
  if (uri == nullptr || log == nullptr) GTEST_SKIP() << "run by RedisFreeCoherence tests only";
  auto db = Database::Connect({.uri = uri, .concurrency = 4, .plugins = {ChildCache()}});
  Resource& notes = db->resource("notes");
  const int64_t until = MonotonicNs() + std::atoll(Env("S3DB_FREE_MS")) * 1000000;
  std::vector<int> version(kRecords, 0);
  std::vector<Op> ops;
  for (int i = 0; MonotonicNs() < until; ++i) {
    const int k = i % kRecords;
    Op op{k, ++version[k], MonotonicNs(), 0};
    notes.Update(RecordName(k), {{"v", op.v}});
    op.end = MonotonicNs();  // the write has returned
    ops.push_back(op);
  }
  WriteLog(log, ops, "writer");
}

// A reader, run in a child process by RunFree: reads every record twice (filling the cache),
// says so on the ready pipe, then reads records at random on four threads until the stop
// pipe closes, logging each read's version, start and end.
TEST(RedisFreeCoherenceReader, DISABLED_Process) {
  const char* uri = Env("S3DB_FREE_STORE");
  const char* log = Env("S3DB_FREE_LOG");
  const char* fds = Env("S3DB_FREE_FDS");
  if (uri == nullptr || log == nullptr || fds == nullptr) GTEST_SKIP() << "run by RedisFreeCoherence tests only";
  int ready = -1, stop = -1;
  ASSERT_EQ(std::sscanf(fds, "%d,%d", &ready, &stop), 2);
  auto cache = ChildCache();
  auto db = Database::Connect({.uri = uri, .concurrency = kReaderThreads, .plugins = {cache}});
  Resource& notes = db->resource("notes");
  for (int pass = 0; pass < 2; ++pass) {
    for (int k = 0; k < kRecords; ++k) notes.Get(RecordName(k));
  }
  char byte = 'r';
  ASSERT_EQ(write(ready, &byte, 1), 1);
  std::atomic<bool> stopped{false};
  std::atomic<int> failures{0};
  std::vector<std::vector<Op>> logs(kReaderThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kReaderThreads; ++t) {
    threads.emplace_back([&, t] {
      uint32_t state = static_cast<uint32_t>(getpid()) * 2654435761u + static_cast<uint32_t>(t);
      while (!stopped) {
        state = state * 1664525u + 1013904223u;
        const int k = static_cast<int>((state >> 16) % kRecords);
        Op op{k, -1, MonotonicNs(), 0};
        try {
          op.v = notes.Get(RecordName(k)).data["v"].get<int>();
        } catch (const std::exception&) {
          failures++;
          continue;
        }
        op.end = MonotonicNs();
        logs[t].push_back(op);
      }
    });
  }
  pollfd p{stop, POLLIN, 0};
  while (poll(&p, 1, 20000) == 0) {
  }  // readable (EOF) once RunFree closes its end
  stopped = true;
  for (auto& thread : threads) thread.join();
  std::vector<Op> all;
  for (const auto& l : logs) all.insert(all.end(), l.begin(), l.end());
  const CacheStats s = cache->stats();
  WriteLog(log, all, std::to_string(s.hits) + " " + std::to_string(s.misses) + " " + std::to_string(failures.load()));
}

struct FreeResult {
  size_t writes = 0;
  size_t reads = 0;
  size_t stale = 0;          // reads that started after a newer write returned
  size_t future = 0;         // reads of a version whose write had not started when the read ended
  size_t updated_reads = 0;  // reads that saw a version > 0 (the cache was in play during the writes)
  uint64_t hits = 0;
  uint64_t misses = 0;
  int failures = 0;
  std::string first_stale;
};

pid_t Spawn(const std::string& filter, const std::vector<std::pair<std::string, std::string>>& env,
            const std::vector<int>& close_fds) {
  const std::string filter_argument = "--gtest_filter=" + filter;
  pid_t child = fork();
  if (child == 0) {
    // Only close, setenv and exec here: the parent may have threads.
    for (int fd : close_fds) close(fd);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    execl("/proc/self/exe", "database_tests", filter_argument.c_str(), "--gtest_also_run_disabled_tests",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return child;
}

bool ExitedOk(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Creates the records, starts the readers, waits until each has filled its cache, runs the
// writer for `write_ms`, stops the readers and checks their logs against the writer's.
FreeResult RunFree(const std::string& store_uri, const std::string& driver, const std::filesystem::path& dir,
                   int write_ms) {
  FreeResult out;
  {
    auto db = Database::Connect({.uri = store_uri, .concurrency = 4});
    Resource& notes = db->CreateResource(Def("notes", {{"v", "number"}}));
    for (int k = 0; k < kRecords; ++k) notes.Insert({{"id", RecordName(k)}, {"v", 0}});
  }
  const std::vector<std::pair<std::string, std::string>> common = {
      {"S3DB_FREE_STORE", store_uri},
      {"S3DB_FREE_DRIVER", driver},
      {"S3DB_FREE_KEYS", "s3dbtest:free-" + util::RandomAlnum(10) + ":"},
      {"S3DB_FREE_MS", std::to_string(write_ms)}};
  int ready[2], stop[2];
  EXPECT_EQ(pipe(ready), 0);
  EXPECT_EQ(pipe(stop), 0);
  std::vector<pid_t> readers;
  for (int r = 0; r < kReaderProcesses; ++r) {
    auto env = common;
    env.emplace_back("S3DB_FREE_LOG", (dir / ("reader" + std::to_string(r))).string());
    env.emplace_back("S3DB_FREE_FDS", std::to_string(ready[1]) + "," + std::to_string(stop[0]));
    readers.push_back(Spawn("RedisFreeCoherenceReader.DISABLED_Process", env, {ready[0], stop[1]}));
  }
  close(ready[1]);
  close(stop[0]);
  int warm = 0;
  for (; warm < kReaderProcesses; ++warm) {
    pollfd p{ready[0], POLLIN, 0};
    char byte = 0;
    if (poll(&p, 1, 30000) != 1 || read(ready[0], &byte, 1) != 1) break;
  }
  EXPECT_EQ(warm, kReaderProcesses) << "the readers did not fill their caches within 30 s";
  auto env = common;
  env.emplace_back("S3DB_FREE_LOG", (dir / "writer").string());
  pid_t writer = Spawn("RedisFreeCoherenceWriter.DISABLED_Process", env, {ready[0], stop[1]});
  EXPECT_TRUE(ExitedOk(writer)) << "the writer process failed";
  close(stop[1]);  // the readers stop
  for (pid_t r : readers) EXPECT_TRUE(ExitedOk(r)) << "a reader process failed";
  close(ready[0]);

  std::string header;
  const std::vector<Op> writes = ReadLog((dir / "writer").string(), &header);
  out.writes = writes.size();
  std::map<int, std::vector<Op>> by_record;  // in version order, as written
  for (const Op& w : writes) by_record[w.k].push_back(w);
  for (int r = 0; r < kReaderProcesses; ++r) {
    const std::vector<Op> reads = ReadLog((dir / ("reader" + std::to_string(r))).string(), &header);
    uint64_t hits = 0, misses = 0;
    int failures = 0;
    std::sscanf(header.c_str(), "%" SCNu64 " %" SCNu64 " %d", &hits, &misses, &failures);
    out.hits += hits;
    out.misses += misses;
    out.failures += failures;
    out.reads += reads.size();
    for (const Op& read : reads) {
      if (read.v > 0) out.updated_reads++;
      int newest_returned = 0;  // the version of the last write that returned before the read started
      int newest_started = 0;   // the version of the last write that started before the read ended
      for (const Op& w : by_record[read.k]) {
        if (w.end < read.start) newest_returned = w.v;
        if (w.start < read.end) newest_started = w.v;
      }
      if (read.v < newest_returned) {
        if (out.stale++ == 0) {
          out.first_stale = RecordName(read.k) + ": read v" + std::to_string(read.v) + " though v" +
                            std::to_string(newest_returned) + " had returned " +
                            std::to_string((read.start - by_record[read.k][newest_returned - 1].end) / 1000) +
                            " us before the read started";
        }
      }
      if (read.v > newest_started) out.future++;
    }
  }
  return out;
}

class RedisFreeCoherence : public ::testing::Test {
 protected:
  void SetUp() override {
    if (Env("S3DB_TEST_REDIS_URI") == nullptr) {
      GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis (eval \"$(scripts/redis.sh start)\")";
    }
    dir_ = std::filesystem::temp_directory_path() / ("s3db-free-" + util::RandomAlnum(10));
    std::filesystem::create_directories(dir_ / "store");
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string FileUri() const { return "file://" + (dir_ / "store").string(); }

  // Every read ran, none failed, the writer wrote, the readers read through the cache while it
  // wrote (hits, and updated versions seen).
  static void ExpectARealRun(const FreeResult& r) {
    EXPECT_EQ(r.failures, 0);
    EXPECT_GE(r.writes, static_cast<size_t>(2 * kRecords));
    EXPECT_GE(r.reads, 1000u);
    EXPECT_GT(r.hits, r.reads / 4);
    EXPECT_GT(r.updated_reads, 0u);
    EXPECT_EQ(r.future, 0u);
  }

  std::filesystem::path dir_;
};

TEST_F(RedisFreeCoherence, NoReadStartedAfterAWriteReturnedSeesAnOlderVersion) {
  FreeResult r = RunFree(FileUri(), "redis", dir_, 3000);
  ExpectARealRun(r);
  EXPECT_EQ(r.stale, 0u) << r.first_stale;
  std::cerr << "[ free coherence, file ] " << r.writes << " writes, " << r.reads << " reads, " << r.hits << " hits, "
            << r.stale << " stale\n";
}

TEST_F(RedisFreeCoherence, OnRgwToo) {
  const char* s3 = Env("S3DB_TEST_S3_URI");
  if (s3 == nullptr) GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no real S3 server";
  std::string uri = std::string(s3) + "/free-coherence-" + util::RandomAlnum(10) + "?probe=false";
  FreeResult r = RunFree(uri, "redis", dir_, 4000);
  ExpectARealRun(r);
  EXPECT_EQ(r.stale, 0u) << r.first_stale;
  std::cerr << "[ free coherence, rgw ] " << r.writes << " writes, " << r.reads << " reads, " << r.hits << " hits, "
            << r.stale << " stale\n";
}

// The control: the memory driver is per process, so the readers go on reading what they
// cached before the writes.
TEST_F(RedisFreeCoherence, TheMemoryDriverReadsStale) {
  FreeResult r = RunFree(FileUri(), "memory", dir_, 1500);
  EXPECT_EQ(r.failures, 0);
  EXPECT_GE(r.writes, static_cast<size_t>(kRecords));
  EXPECT_GT(r.stale, r.reads / 4);
}

}  // namespace
}  // namespace s3db
