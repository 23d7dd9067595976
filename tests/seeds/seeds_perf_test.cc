// Seed 004 (the s3db.js performance guide), every code block: the executor pool (concurrency,
// retries, timeout, autotune), priority queues, httpClientOptions, the memory client reset
// between tests, partitions with asyncPartitions, the CachePlugin with each driver (redis
// against the real redis-server of scripts/redis.sh, skipped without S3DB_TEST_REDIS_URI) and
// the Memoizer. Each asserts that the option is applied (a priority reaches the store, the
// concurrency bounds the requests in flight, ...), never how fast anything is.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "s3db/cache.h"
#include "s3db/database.h"
#include "s3db/plugin.h"
#include "seeds/seeds_examples_support.h"
#include "support/fault_store.h"

namespace s3db::seeds {
namespace {

using std::chrono::milliseconds;

// Under the executor: notes each request's key and priority, tracks how many are in flight,
// and can hold requests (a gate) or slow them down. A decorator, not a mock: the requests go
// on to the real store of the backend.
class ObservedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<ObjectInfo> Put(const PutRequest& r) override {
    Enter(r.key);
    auto out = ForwardingStore::Put(r);
    --in_flight;
    return out;
  }
  Result<GetResult> Get(const std::string& k) override {
    Enter(k);
    auto out = ForwardingStore::Get(k);
    --in_flight;
    return out;
  }
  Result<ObjectInfo> Head(const std::string& k) override {
    Enter(k);
    auto out = ForwardingStore::Head(k);
    --in_flight;
    return out;
  }

  struct Seen {
    std::string key;
    int priority;
  };
  std::vector<Seen> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(seen_, {});
  }
  // Requests whose key contains `key_part` wait until Open().
  void HoldWhenKeyHas(std::string key_part) {
    std::lock_guard lock(mu_);
    hold_ = std::move(key_part);
    held_ = 0;
  }
  void Open() {
    std::lock_guard lock(mu_);
    hold_.clear();
    cv_.notify_all();
  }
  int held() {
    std::lock_guard lock(mu_);
    return held_;
  }

  std::atomic<int> in_flight{0}, peak{0};
  std::atomic<int> delay_ms{0};

 private:
  void Enter(const std::string& key) {
    const int now = ++in_flight;
    int before = peak.load();
    while (now > before && !peak.compare_exchange_weak(before, now)) {
    }
    std::unique_lock lock(mu_);
    seen_.push_back({key, PriorityScope::Current()});
    if (!hold_.empty() && key.find(hold_) != std::string::npos) {
      ++held_;
      cv_.wait(lock, [&] { return hold_.empty(); });
    }
    lock.unlock();
    if (delay_ms > 0) std::this_thread::sleep_for(milliseconds(delay_ms.load()));
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
  std::string hold_;
  int held_ = 0;
};

template <typename Condition>
void WaitFor(Condition condition) {
  for (int i = 0; i < 5000 && !condition(); ++i) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(condition()) << "timed out waiting";
}

class SeedsPerfTest : public SeedsExampleTest {
 protected:
  // A database over an ObservedStore on this backend.
  std::unique_ptr<Database> Observed(DatabaseOptions options = {}) {
    auto observed = std::make_unique<ObservedStore>(stores_.Open());
    observed_ = observed.get();
    return Database::Open(std::move(observed), "db", options);
  }
  ObservedStore* observed_ = nullptr;
};

// Seed 004, "Executor Pool" > "Configuration": the seed's executorPool as given (concurrency
// 100, retries 3, retryDelay 1000, timeout 30000, autotune 50..500 at 100 ms) is accepted and
// applied: the slots start within the autotune bounds; without autotune they are exactly the
// concurrency; and the concurrency bounds the requests in flight.
TEST_P(SeedsPerfTest, ExecutorPoolConfiguration) {
  DatabaseOptions options;
  options.executor.concurrency = 100;
  options.executor.retries = 3;
  options.executor.retry_delay = milliseconds(1000);
  options.executor.timeout = milliseconds(30000);
  options.executor.autotune.enabled = true;
  options.executor.autotune.target_latency = milliseconds(100);
  options.executor.autotune.min_concurrency = 50;
  options.executor.autotune.max_concurrency = 500;
  {
    auto db = Connect(options);
    const ExecutorStats stats = db->executor_stats();
    EXPECT_GE(stats.concurrency, 50);
    EXPECT_LE(stats.concurrency, 500);
    db->CreateResource(Def("users", {{"name", "string"}})).Insert({{"id", "a"}, {"name", "Ada"}});
  }
  options.executor.autotune.enabled = false;
  auto fixed = Connect(options);
  EXPECT_EQ(fixed->executor_stats().concurrency, 100);

  // "The concurrency setting determines how many operations are sent to S3 simultaneously".
  DatabaseOptions narrow;
  narrow.executor.concurrency = 4;
  auto db = Observed(narrow);
  Resource& users = db->resource("users");
  std::vector<std::string> ids;
  for (int i = 0; i < 24; ++i) ids.push_back("missing" + std::to_string(i));
  observed_->delay_ms = 20;
  observed_->peak = 0;
  EXPECT_EQ(users.GetMany(ids).missing.size(), 24u);
  EXPECT_LE(observed_->peak.load(), 4) << "never more than the concurrency";
  EXPECT_EQ(db->executor_stats().peak_in_flight, observed_->peak.load());
  EXPECT_GE(observed_->peak.load(), 2) << "bulk reads do run in parallel";
}

// Seed 004, "Executor Pool": retries (retryable failures are retried, up to `retries` extra
// attempts) and timeout (a request that cannot get a slot in time fails with kTimeout). The
// seed's retryDelay of 1 s is cut to 1 ms here to keep the test fast.
TEST_P(SeedsPerfTest, ExecutorPoolRetriesAndTimeout) {
  auto control = std::make_shared<testing::FaultStore::Control>();
  std::atomic<int> failures_left{2};
  control->FailWhen([&](testing::FaultStore::Op op, const std::string& key) {
    return op == testing::FaultStore::Op::kGet && key.find("id=ada") != std::string::npos && failures_left-- > 0;
  });
  DatabaseOptions options;
  options.executor.retries = 3;
  options.executor.retry_delay = milliseconds(1);
  {
    auto db = Database::Open(std::make_unique<testing::FaultStore>(stores_.Open(), control), "db", options);
    Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
    users.Insert({{"id", "ada"}, {"name", "Ada"}});
    const uint64_t retries_before = db->executor_stats().retries;
    EXPECT_EQ(users.Get("ada").data["name"], "Ada") << "two failures, then the third attempt";
    EXPECT_EQ(db->executor_stats().retries - retries_before, 2u);

    failures_left = 10;  // more than 3 retries can cover
    EXPECT_THROW(users.Get("ada"), StorageError);
  }
  control->Heal();

  // timeout: one slot, held by a request the store keeps waiting; another request gives up.
  DatabaseOptions bounded;
  bounded.concurrency = 1;
  bounded.executor.timeout = milliseconds(200);
  auto db = Observed(bounded);
  Resource& users = db->resource("users");
  observed_->HoldWhenKeyHas("id=ada");
  // The held request itself may finish or time out (a local store is not interrupted); only
  // the one waiting for the slot is checked.
  std::thread holder([&] {
    try {
      users.Get("ada");
    } catch (const StorageError&) {
    }
  });
  WaitFor([&] { return observed_->held() == 1; });
  try {
    users.Get("someone");
    ADD_FAILURE() << "no timeout";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
  }
  observed_->Open();
  holder.join();
}

// Seed 004, "Priority Queues": users.get('user-123', {priority: 100}) and
// analytics.insert(eventData, {priority: 0}). The priority reaches the store's requests, and
// a waiting high-priority request goes before background ones that queued earlier.
TEST_P(SeedsPerfTest, PriorityQueues) {
  DatabaseOptions options;
  options.concurrency = 1;
  auto db = Observed(options);
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  Resource& analytics = db->CreateResource(Def("analytics", {{"event", "string"}}));
  users.Insert({{"id", "user-123"}, {"name", "Ada"}});
  users.Insert({{"id", "blocker"}, {"name", "Bo"}});
  observed_->Take();

  EXPECT_EQ(users.Get("user-123", {.priority = 100}).data["name"], "Ada");
  analytics.Insert({{"event", "click"}}, {.priority = 0});
  std::vector<ObservedStore::Seen> seen = observed_->Take();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].priority, 100);
  EXPECT_NE(seen[0].key.find("id=user-123"), std::string::npos) << seen[0].key;
  EXPECT_EQ(seen[1].priority, 0);

  // The one slot is held; three background inserts queue, then the user request; when the
  // slot frees, the user request goes first.
  observed_->HoldWhenKeyHas("id=blocker");
  std::thread holder([&] { users.Get("blocker"); });
  WaitFor([&] { return observed_->held() == 1; });
  std::vector<std::thread> background;
  for (int i = 0; i < 3; ++i) {
    background.emplace_back([&, i] {
      analytics.Insert({{"id", "e" + std::to_string(i)}, {"event", "view"}}, {.priority = 0});
    });
  }
  WaitFor([&] { return db->executor_stats().waiting == 3; });
  std::thread user([&] { users.Get("user-123", {.priority = 100}); });
  WaitFor([&] { return db->executor_stats().waiting == 4; });
  observed_->Take();
  observed_->Open();
  holder.join();
  user.join();
  for (auto& t : background) t.join();
  seen = observed_->Take();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_NE(seen[0].key.find("id=user-123"), std::string::npos)
      << "the user request overtook the queue: " << seen[0].key;
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].priority, 0);
  EXPECT_EQ(analytics.Count(), 4u);
}

// Seed 004, "HTTP Client Tuning" > "Tuning for Throughput": the seed's httpClientOptions with
// an executor concurrency of 200 to match maxSockets. Accepted and working on every backend
// (memory:// and file:// have no connections, so there they change nothing); bad values are
// refused by name. What each option does to real connections is tested against a loopback
// S3 server in tests/database/database_options_test.cc.
TEST_P(SeedsPerfTest, HttpClientOptions) {
  std::string uri = SharedUri();
  if (uri.empty()) uri = "memory://seeds-http-" + StoreFactory::RandomTag();
  DatabaseOptions options;
  options.uri = uri;
  options.executor.concurrency = 200;
  options.http.keep_alive = true;
  options.http.keep_alive_interval = milliseconds(1000);
  options.http.max_sockets = 200;
  options.http.max_free_sockets = 50;
  options.http.timeout = milliseconds(60000);
  auto db = Database::Connect(options);
  EXPECT_EQ(db->executor_stats().concurrency, 200);
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  std::vector<Json> batch;
  for (int i = 0; i < 50; ++i) batch.push_back({{"id", "u" + std::to_string(i)}, {"name", "n"}});
  EXPECT_TRUE(users.InsertMany(batch).errors.empty());
  EXPECT_EQ(users.Count(), 50u);

  options.http.max_free_sockets = 300;  // more idle sockets than sockets
  try {
    Database::Connect(options);
    ADD_FAILURE() << "max_free_sockets above max_sockets was accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("http.max_free_sockets"), std::string::npos) << e.what();
  }
}

// Seed 004, "MemoryClient: Fast Testing": connectionString 'memory://test-bucket/integration-tests'
// and db.client.clear() after each test. Clear() empties the database on every backend and
// the Database goes on as a new one.
TEST_P(SeedsPerfTest, MemoryClientResetBetweenTests) {
  std::unique_ptr<Database> db;
  if (GetParam() == Backend::kMemory) {
    db = Database::Connect({.uri = "memory://test-bucket-" + StoreFactory::RandomTag() + "/integration-tests"});
  } else {
    db = Connect();
  }
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  users.Insert({{"id", "ada"}, {"name", "Ada"}});
  db->Clear();  // afterEach
  EXPECT_TRUE(db->ResourceNames().empty());
  EXPECT_THROW(users.Get("ada"), NotFound);
  Resource& again = db->CreateResource(Def("users", {{"name", "string"}}));
  EXPECT_EQ(again.Count(), 0u) << "the next test starts empty";
}

// Seed 004, "Partitions: O(1) Queries" > "Configuration" (the form with partitions and
// asyncPartitions beside the attributes), "Async Partitions" and "Querying Partitions": the
// reference of a pending order sits under .../partition=byStatus/status=pending/; with
// asyncPartitions the references are written in the background (FlushPartitions waits for
// them); query({status: 'pending'}) and list through the partition give the same orders.
TEST_P(SeedsPerfTest, PartitionsWithAsyncPartitions) {
  auto db = Connect();
  const ResourceDefinition def = ResourceDefinition::FromJson("orders", Json::parse(R"({
    "attributes": {"status": "string", "total": "number", "createdAt": "date"},
    "partitions": {
      "byStatus": {"fields": {"status": "string"}},
      "byDate": {"fields": {"createdAt": "date"}}
    },
    "asyncPartitions": true
  })"));
  EXPECT_TRUE(def.async_partitions);
  Resource& orders = db->CreateResource(def);
  Record pending =
      orders.Insert({{"id", "o1"}, {"status", "pending"}, {"total", 10}, {"createdAt", "2024-01-01T10:00:00Z"}});
  orders.Insert({{"id", "o2"}, {"status", "paid"}, {"total", 20}, {"createdAt", "2024-01-01T11:00:00Z"}});
  orders.Insert({{"id", "o3"}, {"status", "pending"}, {"total", 30}, {"createdAt", "2024-01-02T10:00:00Z"}});
  PartitionFlushResult flushed = orders.FlushPartitions();
  EXPECT_EQ(flushed.written, 6u) << "two references per order, written in the background";
  EXPECT_TRUE(flushed.failures.empty());

  const std::optional<std::string> key = orders.GetPartitionKey("byStatus", "o1", pending.data);
  ASSERT_TRUE(key.has_value());
  EXPECT_NE(key->find("/partition=byStatus/status=pending/"), std::string::npos) << *key;
  const std::optional<std::string> day = orders.GetPartitionKey("byDate", "o1", pending.data);
  ASSERT_TRUE(day.has_value());
  EXPECT_NE(day->find("/partition=byDate/createdAt=2024-01-01/"), std::string::npos) << *day;

  ListOptions by_status;
  by_status.partition = "byStatus";
  by_status.partition_values = {{"status", "pending"}};
  std::vector<std::string> listed;
  for (const Record& r : orders.List(by_status)) listed.push_back(r.id);
  std::vector<std::string> queried;
  for (const Record& r : orders.Query({{"status", "pending"}})) queried.push_back(r.id);
  std::sort(listed.begin(), listed.end());
  std::sort(queried.begin(), queried.end());
  EXPECT_EQ(listed, (std::vector<std::string>{"o1", "o3"}));
  EXPECT_EQ(queried, listed);

  // The seed leaves the attributes out (`/* ... */`): with timestamps, byDate may be on the
  // createdAt that timestamps sets, and lists the day of the insert.
  const ResourceDefinition stamped = ResourceDefinition::FromJson("stamped", Json::parse(R"({
    "attributes": {"status": "string"},
    "timestamps": true,
    "partitions": {"byDate": {"fields": {"createdAt": "date"}}},
    "asyncPartitions": true
  })"));
  Resource& stamped_orders = db->CreateResource(stamped);
  const Record today = stamped_orders.Insert({{"id", "s1"}, {"status", "pending"}});
  stamped_orders.FlushPartitions();
  ListOptions by_day;
  by_day.partition = "byDate";
  by_day.partition_values = {{"createdAt", today.data["createdAt"].get<std::string>().substr(0, 10)}};
  EXPECT_EQ(stamped_orders.ListIds(by_day), std::vector<std::string>{"s1"});
}

// Seed 004, "CachePlugin": db.usePlugin(new CachePlugin({driver, ttl: 60000, max: 1000})) with
// each driver the seed names. Repeated get() of one record is served by the cache (one GET
// of the record at the store; the s3 driver's hits are GETs of its own entries), and this
// process's update is seen at once.
class SeedsCacheTest : public SeedsPerfTest {
 protected:
  static inline int namespaces_ = 0;
  void CheckDriver(const std::string& driver) {
    CacheOptions cache;
    cache.driver = driver;
    cache.ttl = milliseconds(60000);
    cache.max_entries = 1000;
    if (driver == "filesystem") cache.directory = (stores_.dir() / "cache").string();
    if (driver == "redis") {
      const char* uri = std::getenv("S3DB_TEST_REDIS_URI");
      if (uri == nullptr || *uri == '\0') GTEST_SKIP() << "S3DB_TEST_REDIS_URI is not set: no redis-server to test on";
      cache.uri = uri;
      // A namespace of this test's own: a Redis shared by databases of different stores
      // needs one per store (cache.h), and the three backends' tests may share a process.
      cache.key_prefix = "s3dbtest:seeds-" + std::to_string(::getpid()) + "-" + StoreFactory::RandomTag() + "-" +
                         testing::BackendName(GetParam()) + "-" + std::to_string(namespaces_++) + ":";
    }
    auto costs = std::make_shared<CostsPlugin>();
    auto db = Connect({.uri = "", .plugins = {costs}});
    Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
    users.Insert({{"id", "ada"}, {"name", "Ada"}});
    auto plugin = std::make_shared<CachePlugin>(cache);
    db->UsePlugin(plugin);

    costs->Reset();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(users.Get("ada").data["name"], "Ada");
    const CacheStats stats = plugin->stats();
    EXPECT_EQ(stats.hits, 4u) << driver;
    EXPECT_EQ(stats.misses, 1u) << driver;
    const uint64_t gets = costs->Totals().count(RequestKind::kGet);
    if (driver == "s3") {
      EXPECT_EQ(gets, 1u + 1u + 4u) << "the record, the missed entry, then each hit is one GET of the entry";
    } else {
      EXPECT_EQ(gets, 1u) << driver << ": the record once, then the cache";
    }
    users.Update("ada", {{"name", "Ada L"}});
    EXPECT_EQ(users.Get("ada").data["name"], "Ada L") << driver << ": a write invalidates";
  }
};

TEST_P(SeedsCacheTest, CachePluginMemoryDriver) { CheckDriver("memory"); }
TEST_P(SeedsCacheTest, CachePluginFilesystemDriver) { CheckDriver("filesystem"); }
TEST_P(SeedsCacheTest, CachePluginS3Driver) { CheckDriver("s3"); }
TEST_P(SeedsCacheTest, CachePluginRedisDriver) { CheckDriver("redis"); }

// Seed 004, "Application-Level Memoization": Memoizer(() => configs.get('global-settings'),
// {ttl: 300000}). The first call reads the record, later calls return it without a request.
TEST_P(SeedsPerfTest, ApplicationLevelMemoization) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .plugins = {costs}});
  Resource& configs = db->CreateResource(Def("configs", {{"theme", "string"}}));
  configs.Insert({{"id", "global-settings"}, {"theme", "dark"}});
  Memoizer<Json> memo(milliseconds(300000));
  auto get_config = [&] { return memo.Get("config", [&] { return configs.Get("global-settings").ToJson(); }); };
  costs->Reset();
  const Json settings = get_config();
  EXPECT_EQ(settings["theme"], "dark");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get_config(), settings);
  EXPECT_EQ(memo.computations(), 1u);
  EXPECT_EQ(costs->Totals().total_requests(), 1u) << "one GET, then instant returns";
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsPerfTest);
S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsCacheTest);

}  // namespace
}  // namespace s3db::seeds
