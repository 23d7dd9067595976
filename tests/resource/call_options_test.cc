// Per-call options (resource.h "per-call options", the seeds' `users.get(id, {priority: 100})`):
// the priority reaches every store request the call makes, bulk workers, scans and writers
// included; a timeout ends the call. On every backend of the run.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "s3db/database.h"
#include "support/definitions.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;
using testing::Backend;
using testing::Def;

// Under the executor: records the priority each request was made at.
class PriorityRecorder : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<ObjectInfo> Put(const PutRequest& r) override {
    Note();
    return ForwardingStore::Put(r);
  }
  Result<GetResult> Get(const std::string& k) override {
    Note();
    return ForwardingStore::Get(k);
  }
  Status Read(const std::string& k, const ObjectVisitor& visit) override {
    Note();
    return ForwardingStore::Read(k, visit);
  }
  Result<ObjectInfo> Head(const std::string& k) override {
    Note();
    return ForwardingStore::Head(k);
  }
  Result<ListPage> List(const ListRequest& r) override {
    Note();
    return ForwardingStore::List(r);
  }
  Status Delete(const std::string& k) override {
    Note();
    return ForwardingStore::Delete(k);
  }
  // The priorities seen since the last call.
  std::multiset<int> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(seen_, {});
  }
  std::chrono::milliseconds delay{0};

 private:
  void Note() {
    {
      std::lock_guard lock(mu_);
      seen_.insert(PriorityScope::Current());
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
  }
  std::mutex mu_;
  std::multiset<int> seen_;
};

class CallOptionsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto recorder = std::make_unique<PriorityRecorder>(stores_.Open());
    recorder_ = recorder.get();
    DatabaseOptions options;
    options.concurrency = 4;
    db_ = Database::Open(std::move(recorder), "db", options);
    users_ = &db_->CreateResource(Def("users", {{"name", "string"}}));
    for (int i = 0; i < 8; ++i) users_->Insert({{"id", "u" + std::to_string(i)}, {"name", "n"}});
    recorder_->Take();
  }
  // Every request since the last check was made at `priority` (and there was at least one).
  void ExpectAllAt(int priority, const std::string& call) {
    std::multiset<int> seen = recorder_->Take();
    EXPECT_FALSE(seen.empty()) << call << " made no request";
    for (int p : seen) EXPECT_EQ(p, priority) << call;
  }

  testing::StoreFactory stores_{GetParam()};
  PriorityRecorder* recorder_ = nullptr;
  std::unique_ptr<Database> db_;
  Resource* users_ = nullptr;
};

TEST_P(CallOptionsTest, ThePriorityReachesEveryRequestOfTheCall) {
  Resource& users = *users_;
  users.Get("u1", {.priority = 100});
  ExpectAllAt(100, "Get");
  users.Get("u1");
  ExpectAllAt(0, "Get without options");
  users.Insert({{"id", "new"}, {"name", "n"}}, {.priority = 0});
  ExpectAllAt(0, "Insert");
  users.Update("new", {{"name", "m"}}, {}, {.priority = 7});
  ExpectAllAt(7, "Update");
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back("u" + std::to_string(i));
  EXPECT_EQ(users.GetMany(ids, {.priority = 42}).records.size(), 8u);
  ExpectAllAt(42, "GetMany (bulk workers)");
  EXPECT_EQ(users.Count({}, {.priority = 3}), 9u);
  ExpectAllAt(3, "Count");
  EXPECT_EQ(users.Query({{"name", "n"}}, {}, {.priority = 9}).size(), 8u);
  ExpectAllAt(9, "Query");
  {
    RecordScan scan = users.Scan({}, {.priority = 11});
    size_t n = 0;
    while (scan.Next()) ++n;
    EXPECT_EQ(n, 9u);
  }
  ExpectAllAt(11, "Scan (its threads)");
  users.Delete("new", {.priority = 5});
  ExpectAllAt(5, "Delete");
  // The scope form still works, and an explicit priority wins inside it.
  {
    PriorityScope background(1);
    users.Exists("u1");
    ExpectAllAt(1, "Exists in a PriorityScope");
    users.Exists("u1", {.priority = 90});
    ExpectAllAt(90, "Exists with its own priority inside the scope");
  }
}

TEST_P(CallOptionsTest, ACallTimeoutEndsTheCallWhileItWaits) {
  // One slot, held by a slow request: a call with a short timeout gives up waiting.
  DatabaseOptions options;
  options.concurrency = 1;
  auto recorder = std::make_unique<PriorityRecorder>(stores_.Open());
  PriorityRecorder* slow = recorder.get();
  auto db = Database::Open(std::move(recorder), "db", options);
  Resource& users = db->resource("users");
  slow->delay = milliseconds(600);
  std::thread holder([&] { users.Get("u1"); });
  while (db->executor_stats().in_flight == 0) std::this_thread::sleep_for(milliseconds(1));
  try {
    users.Get("u2", {.timeout = milliseconds(100)});
    ADD_FAILURE() << "no timeout";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
    EXPECT_NE(std::string(e.what()).find("u2"), std::string::npos) << "names the record: " << e.what();
  }
  holder.join();
  slow->delay = milliseconds(0);
  EXPECT_EQ(users.Get("u2", {.timeout = milliseconds(5000)}).id, "u2");
  EXPECT_THROW(users.Get("u2", {.timeout = milliseconds(0)}), InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, CallOptionsTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
