// The seeds' executorPool and httpClientOptions as DatabaseOptions::executor and ::http: each
// option does what it says, shown by its effect on real stores (memory, RGW) and, where a
// real server cannot be made slow on demand, on the loopback HTTP peer (tests/s3/
// loopback_http_server.h says why it exists).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "s3/loopback_http_server.h"
#include "s3db/database.h"
#include "s3db/stores.h"
#include "support/definitions.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;
using testing::Def;
using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::ScriptedReply;

// ---- concurrency: one setting under two names --------------------------------------------------

TEST(DatabaseOptionsTest, ConcurrencyIsOneSettingUnderTwoNames) {
  DatabaseOptions seeds_style;  // executorPool: {concurrency: 100}
  seeds_style.uri = "memory://options-concurrency";
  seeds_style.executor.concurrency = 100;
  EXPECT_EQ(Database::Connect(seeds_style)->executor_stats().concurrency, 100);

  DatabaseOptions ours;
  ours.uri = "memory://options-concurrency";
  ours.concurrency = 16;
  EXPECT_EQ(Database::Connect(ours)->executor_stats().concurrency, 16);

  DatabaseOptions both = ours;
  both.executor.concurrency = 16;
  EXPECT_EQ(Database::Connect(both)->executor_stats().concurrency, 16);
  both.executor.concurrency = 32;
  try {
    Database::Connect(both);
    ADD_FAILURE() << "two different concurrencies were accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("executor.concurrency 32"), std::string::npos) << e.what();
  }
}

// ---- autotune: the slots it grows are requests really in flight -------------------------------

// Delays every GET a little, so that requests overlap and autotune sees fast answers.
class SlowGets : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<GetResult> Get(const std::string& key) override {
    std::this_thread::sleep_for(milliseconds(2));
    return ForwardingStore::Get(key);
  }
  Status Read(const std::string& key, const ObjectVisitor& visit) override {
    std::this_thread::sleep_for(milliseconds(2));
    return ForwardingStore::Read(key, visit);
  }
};

DatabaseOptions Autotuned() {
  DatabaseOptions options;
  options.concurrency = 2;
  options.executor.autotune.enabled = true;
  options.executor.autotune.min_concurrency = 2;
  options.executor.autotune.max_concurrency = 16;
  options.executor.autotune.window = 4;
  options.executor.autotune.target_latency = milliseconds(2000);  // every answer is fast: grow
  return options;
}

void ReadManyAndCheckAutotuneRaisedTheRequestsInFlight(Database& db) {
  Resource& items = db.CreateResource(Def("items", {{"n", "number"}}));
  std::vector<Json> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 400; ++i) {
    batch.push_back({{"id", "i" + std::to_string(i)}, {"n", i}});
    ids.push_back("i" + std::to_string(i));
  }
  ASSERT_EQ(items.InsertMany(batch).inserted.size(), 400u);
  for (int round = 0; round < 3; ++round) ASSERT_EQ(items.GetMany(ids).records.size(), 400u);
  const ExecutorStats stats = db.executor_stats();
  EXPECT_GT(stats.concurrency, 2) << "autotune grew the slots";
  EXPECT_GT(stats.peak_in_flight, 2) << "and more requests than the starting concurrency ran at once";
  EXPECT_LE(stats.peak_in_flight, 16);
}

TEST(DatabaseOptionsTest, AutotuneRaisesTheRequestsInFlight) {
  auto db = Database::Open(std::make_unique<SlowGets>(NewMemoryStore("options-autotune")), "db", Autotuned());
  ReadManyAndCheckAutotuneRaisedTheRequestsInFlight(*db);
}

TEST(DatabaseOptionsTest, AutotuneRaisesTheRequestsInFlightOnS3) {
  if (testing::TestS3Uri().empty()) GTEST_SKIP() << "no S3 server (S3DB_TEST_S3_URI)";
  DatabaseOptions options = Autotuned();
  options.uri = testing::TestS3Uri() + "/options-autotune-" + testing::StoreFactory::RandomTag() + "-" +
                std::to_string(::getpid());
  auto db = Database::Connect(options);
  ReadManyAndCheckAutotuneRaisedTheRequestsInFlight(*db);
  db->Clear();
}

// ---- timeouts and connections, on an S3 peer that can be made slow ----------------------------

// A loopback S3 peer holding one database's catalog (made on a memory store), answering 404
// for every record, after `delay` for keys that contain "slow"; it counts requests in flight.
class SlowS3 {
 public:
  SlowS3() {
    ClearMemoryBucket("options-slow-s3-catalog");
    auto source = Database::Open(NewMemoryStore("options-slow-s3-catalog"), "db");
    source->CreateResource(Def("users", {{"name", "string"}}));
    catalog_ = source->store().Get("db/s3db.json")->body;
    server_ = std::make_unique<LoopbackHttpServer>([this](const ReceivedRequest& r) { return Answer(r); });
  }
  std::string Uri() const {
    return "http://AKIDSLOW:slowsecret@127.0.0.1:" + std::to_string(server_->port()) + "/bucket/db?probe=false";
  }
  LoopbackHttpServer& server() { return *server_; }
  int peak_in_flight() const { return peak_.load(); }

 private:
  ScriptedReply Answer(const ReceivedRequest& r) {
    ScriptedReply reply;
    if (r.target.find("s3db.json") != std::string::npos) {
      reply.status = 200;
      reply.body = catalog_;
      reply.headers = {{"ETag", "\"0123456789abcdef0123456789abcdef\""}};
      return reply;
    }
    const int now = ++in_flight_;
    int seen = peak_.load();
    while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(r.target.find("slow") != std::string::npos ? milliseconds(3000) : milliseconds(50));
    --in_flight_;
    reply.status = 404;
    reply.body = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>none</Message></Error>";
    return reply;
  }

  std::string catalog_;
  std::atomic<int> in_flight_{0}, peak_{0};
  std::unique_ptr<LoopbackHttpServer> server_;
};

// Runs `call` and expects it to throw a kTimeout StorageError well before the peer's 3 s answer.
template <typename Call>
void ExpectTimeoutSoon(Call&& call) {
  const auto start = std::chrono::steady_clock::now();
  try {
    call();
    ADD_FAILURE() << "no timeout";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
}

TEST(DatabaseOptionsTest, TimeoutsCutSlowS3Requests) {
  SlowS3 s3;
  DatabaseOptions options;
  options.uri = s3.Uri();
  auto db = Database::Connect(options);
  Resource& users = db->resource("users");
  // A call's own timeout (the seeds' per-call options).
  ExpectTimeoutSoon([&] { users.Get("slow", {.timeout = milliseconds(300)}); });
  const auto start = std::chrono::steady_clock::now();
  GetManyResult many = users.GetMany({"slow1", "slow2"}, {.timeout = milliseconds(300)});
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
  ASSERT_EQ(many.errors.size(), 2u) << "items that ran out of time are failed items";
  for (const BulkItemError& e : many.errors) EXPECT_EQ(e.code, ErrorCode::kTimeout) << e.message;
  EXPECT_THROW(users.Get("fast", {.timeout = milliseconds(2000)}), NotFound) << "a call within its time";

  // executorPool.timeout: every request.
  options.executor.timeout = milliseconds(300);
  auto bounded = Database::Connect(options);
  ExpectTimeoutSoon([&] { bounded->resource("users").Get("slow"); });

  // httpClientOptions.timeout: one attempt (no retries here, so the call).
  DatabaseOptions per_attempt;
  per_attempt.uri = s3.Uri();
  per_attempt.executor.retries = 0;
  per_attempt.http.timeout = milliseconds(300);
  auto attempts = Database::Connect(per_attempt);
  ExpectTimeoutSoon([&] { attempts->resource("users").Get("slow"); });
}

TEST(DatabaseOptionsTest, KeepAliveAndMaxSocketsShapeTheConnections) {
  SlowS3 s3;
  DatabaseOptions options;
  options.uri = s3.Uri();
  {
    auto db = Database::Connect(options);
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(db->resource("users").TryGet("a" + std::to_string(i)).has_value());
  }
  EXPECT_EQ(s3.server().connections(), 1) << "kept alive: the catalog and four reads on one connection";

  options.http.keep_alive = false;
  {
    auto db = Database::Connect(options);
    for (int i = 0; i < 4; ++i) EXPECT_FALSE(db->resource("users").TryGet("b" + std::to_string(i)).has_value());
  }
  EXPECT_EQ(s3.server().connections(), 1 + 5) << "without keep-alive: one connection per request";

  // maxSockets below the concurrency: at most that many requests reach the server at once.
  std::vector<std::string> ids;
  for (int i = 0; i < 16; ++i) ids.push_back("c" + std::to_string(i));
  options.http.keep_alive = true;
  options.concurrency = 8;
  options.http.max_sockets = 2;
  auto narrow = Database::Connect(options);
  EXPECT_EQ(narrow->resource("users").GetMany(ids).records.size(), 0u);
  EXPECT_EQ(s3.peak_in_flight(), 2);
  options.http.max_sockets = 0;  // the default: the concurrency
  auto wide = Database::Connect(options);
  EXPECT_EQ(wide->resource("users").GetMany(ids).records.size(), 0u);
  EXPECT_GT(s3.peak_in_flight(), 2);
}

TEST(DatabaseOptionsTest, BadHttpOptionsAreRefusedByName) {
  auto refused = [](auto change, const std::string& name) {
    DatabaseOptions options;
    options.uri = "memory://options-bad-http";
    change(options);
    try {
      Database::Connect(options);
      ADD_FAILURE() << name << " was accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  refused([](DatabaseOptions& o) { o.http.max_sockets = 2000; }, "http.max_sockets");
  refused(
      [](DatabaseOptions& o) {
        o.http.max_sockets = 4;
        o.http.max_free_sockets = 5;
      },
      "http.max_free_sockets");
  refused([](DatabaseOptions& o) { o.http.keep_alive_interval = milliseconds(10); }, "http.keep_alive_interval");
  refused([](DatabaseOptions& o) { o.http.timeout = milliseconds(0); }, "http.timeout");
}

}  // namespace
}  // namespace s3db
