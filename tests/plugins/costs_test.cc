// CostsPlugin: counts against known request sequences and an independent counter, on the
// real memory and file stores; prices; attribution; placement under the executor.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "exec/executing_store.h"
#include "plugin_test_util.h"
#include "plugins/plugin_host.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"

namespace s3db {
namespace {

enum class Kind { kMemory, kFile };

class CostsOnStore : public ::testing::TestWithParam<Kind> {
 protected:
  std::unique_ptr<ObjectStore> Backend() {
    if (GetParam() == Kind::kMemory) return NewMemoryStore(bucket_);
    FileStoreOptions options;
    options.root = dir_.str("store");
    options.fsync = false;
    auto store = NewFileStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }
  void TearDown() override { ClearMemoryBucket(bucket_); }

  std::string bucket_ = testing::UniqueBucket("costs");
  testing::TempDir dir_;
};

PutRequest MakePut(const std::string& key, const std::string& body, Metadata metadata = {}) {
  PutRequest p;
  p.key = key;
  p.body = body;
  p.metadata = std::move(metadata);
  return p;
}

TEST(CostPrices, MatchS3StandardAndDeleteIsFree) {
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kPut), 0.005);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kCopy), 0.005);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kPost), 0.005);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kList), 0.005);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kGet), 0.0004);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kHead), 0.0004);
  EXPECT_DOUBLE_EQ(PricePerThousand(RequestKind::kDelete), 0.0);
  CostTotals t;
  t.requests[static_cast<size_t>(RequestKind::kDelete)] = 1'000'000;
  EXPECT_EQ(t.usd(), 0.0);
  t.requests[static_cast<size_t>(RequestKind::kPut)] = 1'000'000;  // the seeds' "$5 per million PUTs"
  t.requests[static_cast<size_t>(RequestKind::kGet)] = 1'000'000;  // and "$0.40 per million GETs"
  EXPECT_DOUBLE_EQ(t.usd(), 5.40);
}

TEST(CostTotals, LineHasTheContractsMembersInOrder) {
  CostTotals t;
  EXPECT_EQ(t.ToLine(), R"({"requests":{"put":0,"get":0,"head":0,"list":0,"delete":0,"copy":0,"post":0,"total":0},)"
                        R"("bytes_out":0,"bytes_in":0,"usd":0.0,"total":0.0})");
  t.requests = {1, 2, 3, 4, 5, 6, 7};
  t.bytes_out = 10;
  t.bytes_in = 20;
  EXPECT_EQ(Json::parse(t.ToLine()), t.ToJson());
  EXPECT_EQ(t.ToJson()["requests"]["copy"], 6);
  EXPECT_EQ(t.total_requests(), 28u);
  CostTotals u = t;
  u += t;
  EXPECT_EQ(u.count(RequestKind::kPost), 14u);
  EXPECT_EQ(u.bytes_in, 40u);
  EXPECT_FALSE(u == t);
}

// Every kind of call once or more, failures included, and the totals worked out by hand.
TEST_P(CostsOnStore, CountsAKnownSequenceExactlyOnceEach) {
  CostsPlugin costs("db");
  auto store = costs.Wrap(Backend());
  const std::string users = "db/resource=users/data/id=";
  ASSERT_TRUE(store->Put(MakePut("db/s3db.json", "{}")).ok());                               // out 2
  ASSERT_TRUE(store->Put(MakePut(users + "a", "hello", {{"0", "Ada"}, {"_v", "1"}})).ok());  // out 5+3+1
  PutRequest again = MakePut(users + "a", "hello", {{"0", "Ada"}, {"_v", "1"}});
  again.if_none_match_star = true;
  EXPECT_EQ(store->Put(again).code(), ErrorCode::kPreconditionFailed);  // a failed PUT is billed too
  EXPECT_TRUE(store->Get(users + "a").ok());                            // in 5
  EXPECT_EQ(store->Get(users + "zz").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Head("db/resource=orders/data/id=o").code(), ErrorCode::kNotFound);
  ListRequest list_users;
  list_users.prefix = users;
  EXPECT_TRUE(store->List(list_users).ok());
  EXPECT_TRUE(store->Delete(users + "a").ok());
  EXPECT_TRUE(store->DeleteMany({}).ok());  // sends nothing: not counted
  EXPECT_TRUE(store->DeleteMany({users + "x", users + "y"}).ok());
  EXPECT_TRUE(store->DeleteMany({users + "x", "db/resource=orders/data/id=y"}).ok());
  ListRequest list_all;
  list_all.prefix = "db/";
  EXPECT_TRUE(store->List(list_all).ok());
  EXPECT_TRUE(store->Get("db/s3db.json").ok());  // in 2

  EXPECT_EQ(costs.Totals().ToLine(),
            R"({"requests":{"put":3,"get":3,"head":1,"list":2,"delete":1,"copy":0,"post":2,"total":12},)"
            R"("bytes_out":20,"bytes_in":7,"usd":3.66e-05,"total":3.66e-05})");
  EXPECT_EQ(costs.ToJson(), costs.Totals().ToJson());

  CostTotals u = costs.ResourceTotals("users");
  EXPECT_EQ(u.count(RequestKind::kPut), 2u);
  EXPECT_EQ(u.count(RequestKind::kGet), 2u);
  EXPECT_EQ(u.count(RequestKind::kList), 1u);
  EXPECT_EQ(u.count(RequestKind::kDelete), 1u);
  EXPECT_EQ(u.count(RequestKind::kPost), 1u);  // the mixed batch counts for the database only
  EXPECT_EQ(u.bytes_out, 18u);
  EXPECT_EQ(u.bytes_in, 5u);
  CostTotals o = costs.ResourceTotals("orders");
  EXPECT_EQ(o.count(RequestKind::kHead), 1u);
  EXPECT_EQ(o.total_requests(), 1u);
  EXPECT_EQ(costs.ResourceTotals("nobody").total_requests(), 0u);
  EXPECT_EQ(costs.ByResource().size(), 2u);

  Json report = costs.Report();
  EXPECT_EQ(report["database"], costs.ToJson());
  EXPECT_EQ(report["resources"]["users"], u.ToJson());

  costs.Reset();
  EXPECT_EQ(costs.Totals().total_requests(), 0u);
  EXPECT_TRUE(costs.ByResource().empty());
}

// A random workload from several threads; the costs decorator must agree with a counter
// placed right below it that knows nothing of prices or attribution.
TEST_P(CostsOnStore, AgreesWithAnIndependentCounterUnderConcurrency) {
  CostsPlugin costs("db");
  auto counting_owned = std::make_unique<testing::CountingStore>(Backend());
  testing::CountingStore* counting = counting_owned.get();
  auto store = costs.Wrap(std::move(counting_owned));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
      for (int i = 0; i < 150; ++i) {
        std::string key = "db/resource=r" + std::to_string(rng() % 3) + "/data/id=" + std::to_string(rng() % 20);
        switch (rng() % 6) {
          case 0:
            (void)store->Put(MakePut(key, std::string(rng() % 50, 'x'), {{"0", "v" + std::to_string(i)}}));
            break;
          case 1:
            (void)store->Get(key);
            break;
          case 2:
            (void)store->Head(key);
            break;
          case 3:
            (void)store->Delete(key);
            break;
          case 4: {
            ListRequest r;
            r.prefix = "db/resource=r1/";
            r.max_keys = 5;
            (void)store->List(r);
            break;
          }
          default:
            (void)store->DeleteMany({key, key + "-b"});
            break;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CostTotals totals = costs.Totals();
  std::map<std::string, uint64_t> independent = counting->counts();
  uint64_t sum = 0;
  for (size_t k = 0; k < kRequestKindCount; ++k) {
    std::string name = RequestKindName(static_cast<RequestKind>(k));
    EXPECT_EQ(totals.requests[k], independent[name]) << name;
    sum += independent[name];
  }
  EXPECT_EQ(sum, 600u);  // every call counted, none twice
  EXPECT_EQ(totals.bytes_out, counting->bytes_out());
  EXPECT_EQ(totals.bytes_in, counting->bytes_in());
  CostTotals by_resource;
  for (const auto& [name, t] : costs.ByResource()) by_resource += t;
  // Every key here belongs to a resource and no batch mixes resources, so the parts add up.
  EXPECT_EQ(by_resource, totals);
}

INSTANTIATE_TEST_SUITE_P(Stores, CostsOnStore, ::testing::Values(Kind::kMemory, Kind::kFile),
                         [](const auto& info) { return info.param == Kind::kMemory ? "Memory" : "File"; });

TEST(CostsAttribution, FollowsTheKeyLayout) {
  CostsPlugin costs("a/b/");  // outer slashes dropped, as the key layout does
  costs.Count(RequestKind::kGet, "a/b/resource=users/data/id=1", 0, 0);
  costs.Count(RequestKind::kList, "a/b/resource=users/", 0, 0);
  costs.Count(RequestKind::kList, "a/b/resource=user", 0, 0);                 // ambiguous prefix: database only
  costs.Count(RequestKind::kGet, "a/b/s3db.json", 0, 0);                      // the catalog
  costs.Count(RequestKind::kGet, "a/b/plugin=cache/resource=users/x", 0, 0);  // cache objects
  costs.Count(RequestKind::kGet, "other/resource=users/data/id=1", 0, 0);     // outside the database
  costs.Count(RequestKind::kGet, "a/bc/resource=users/data/id=1", 0, 0);      // not our prefix
  costs.Count(RequestKind::kGet, "a/b/resource=/x", 0, 0);                    // empty name
  EXPECT_EQ(costs.Totals().total_requests(), 8u);
  EXPECT_EQ(costs.ResourceTotals("users").total_requests(), 2u);
  EXPECT_EQ(costs.ByResource().size(), 1u);

  CostsPlugin bare;  // no prefix: keys start at "resource="
  bare.Count(RequestKind::kPut, "resource=orders/data/id=1", 7, 0);
  EXPECT_EQ(bare.ResourceTotals("orders").bytes_out, 7u);
}

TEST(CostsAttribution, SetupTakesTheDatabasePrefixAndWrapsInner) {
  auto costs = std::make_shared<CostsPlugin>("ignored");
  plugins::PluginHost host("db", {costs});
  host.SetupAll();
  std::string bucket = testing::UniqueBucket("costs-setup");
  auto store = host.BuildStore(NewMemoryStore(bucket));
  host.StartAll();
  (void)store->Get("db/resource=users/data/id=1");
  EXPECT_EQ(costs->ResourceTotals("users").count(RequestKind::kGet), 1u);
  ClearMemoryBucket(bucket);
}

// A backend that reports its own requests (the S3 store, per HTTP attempt) replaces the
// decorator's counting; both at once would count every request twice.
TEST(CostsBackendCounts, TheDecoratorStepsAsideWhenTheBackendReports) {
  CostsPlugin costs("db");
  std::string bucket = testing::UniqueBucket("costs-backend");
  auto store = costs.Wrap(NewMemoryStore(bucket));
  costs.set_backend_counts(true);
  (void)store->Get("db/resource=users/data/id=1");
  EXPECT_EQ(costs.Totals().total_requests(), 0u);
  // What the backend reports: the first attempt timed out, the retry answered.
  costs.Count(RequestKind::kGet, "db/resource=users/data/id=1", 0, 0);
  costs.Count(RequestKind::kGet, "db/resource=users/data/id=1", 0, 12);
  EXPECT_EQ(costs.Totals().count(RequestKind::kGet), 2u);
  EXPECT_EQ(costs.ResourceTotals("users").bytes_in, 12u);
  costs.set_backend_counts(false);
  (void)store->Get("db/resource=users/data/id=1");
  EXPECT_EQ(costs.Totals().count(RequestKind::kGet), 3u);
  ClearMemoryBucket(bucket);
}

// Fails the first `fail` calls with SlowDown, then forwards.
class Throttled : public ForwardingStore {
 public:
  Throttled(std::unique_ptr<ObjectStore> inner, int fail) : ForwardingStore(std::move(inner)), fail_(fail) {}
  Result<GetResult> Get(const std::string& k) override {
    calls++;
    if (fail_-- > 0) return Status(ErrorCode::kSlowDown, "throttled");
    return inner().Get(k);
  }
  int calls = 0;

 private:
  int fail_;
};

// Below the executor (kInner) each retry is a request S3 bills; above it, a retried call
// would look like one. The plugin must sit below.
TEST(CostsPlacement, BelowTheExecutorEveryRetryIsCounted) {
  std::string bucket = testing::UniqueBucket("costs-retry");
  auto backend = NewMemoryStore(bucket);
  ASSERT_TRUE(backend->Put(MakePut("k", "body")).ok());
  auto throttled_owned = std::make_unique<Throttled>(std::move(backend), 2);
  Throttled* throttled = throttled_owned.get();

  auto costs = std::make_shared<CostsPlugin>();
  plugins::PluginHost host("", {costs});
  host.SetupAll();
  ExecutorOptions options;
  options.retries = 3;
  auto store = host.BuildStore(std::move(throttled_owned), [&](std::unique_ptr<ObjectStore> inner) {
    return std::make_unique<exec::ExecutingStore>(std::move(inner), options, [](std::chrono::milliseconds) {});
  });
  host.StartAll();
  ASSERT_TRUE(store->Get("k").ok());
  EXPECT_EQ(throttled->calls, 3);
  EXPECT_EQ(costs->Totals().count(RequestKind::kGet), 3u);
  EXPECT_EQ(costs->Totals().bytes_in, 4u);  // only the attempt that returned a body
  ClearMemoryBucket(bucket);
}

}  // namespace
}  // namespace s3db
