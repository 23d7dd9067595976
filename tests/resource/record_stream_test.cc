// Resource::Scan and Resource::Writer on every backend (memory, file, and S3 when
// $S3DB_TEST_S3_URI is set): order and completeness across listing pages, partitions, the
// bound on read-ahead and on pending writes, per-record failures, and priorities.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "s3db/database.h"
#include "s3db/executor.h"
#include "s3db/object_store.h"
#include "support/fault_store.h"
#include "support/raw_objects.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::FaultStore;
using testing::PutRawReference;
using testing::StoreFactory;

bool IsRecordKey(const std::string& key) {
  return key.find("/data/id=") != std::string::npos && key.find("/partition=") == std::string::npos;
}

// What ProbeStore saw, and a gate that holds record PUTs while it is closed.
struct Probe {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  int puts_inside = 0;                 // record PUTs entered and not yet returned
  std::atomic<int> records_landed{0};  // record PUTs that succeeded
  std::set<int> put_priorities, get_priorities, list_priorities;

  void SetGate(bool open) {
    {
      std::lock_guard lock(mu);
      gate_open = open;
    }
    cv.notify_all();
  }
  int PutsInside() {
    std::lock_guard lock(mu);
    return puts_inside;
  }
};

// Records the priority (PriorityScope::Current) of each request as it reaches the store,
// below the executor, and counts record writes.
class ProbeStore : public ForwardingStore {
 public:
  ProbeStore(std::unique_ptr<ObjectStore> inner, std::shared_ptr<Probe> probe)
      : ForwardingStore(std::move(inner)), probe_(std::move(probe)) {}

  Result<ObjectInfo> Put(const PutRequest& r) override {
    if (!IsRecordKey(r.key)) return inner().Put(r);
    {
      std::unique_lock lock(probe_->mu);
      probe_->put_priorities.insert(PriorityScope::Current());
      ++probe_->puts_inside;
      probe_->cv.wait(lock, [&] { return probe_->gate_open; });
    }
    Result<ObjectInfo> put = inner().Put(r);
    if (put.ok()) ++probe_->records_landed;
    std::lock_guard lock(probe_->mu);
    --probe_->puts_inside;
    return put;
  }
  Result<GetResult> Get(const std::string& key) override {
    if (IsRecordKey(key)) {
      std::lock_guard lock(probe_->mu);
      probe_->get_priorities.insert(PriorityScope::Current());
    }
    return inner().Get(key);
  }
  Result<ListPage> List(const ListRequest& r) override {
    {
      std::lock_guard lock(probe_->mu);
      probe_->list_priorities.insert(PriorityScope::Current());
    }
    return inner().List(r);
  }

 private:
  std::shared_ptr<Probe> probe_;
};

ResourceDefinition Items() {
  ResourceDefinition def;
  def.name = "items";
  def.attributes = Json::parse(R"({"name": "string|min:2", "n": "number|optional", "region": "string|optional"})");
  def.partitions = Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})");
  return def;
}

Json Item(int n) {
  return {{"id", "u" + std::to_string(n)},
          {"name", "item " + std::to_string(n)},
          {"n", n},
          {"region", n % 3 == 0 ? "eu" : "us"}};
}

std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

// Polls `done` until it holds (false after a generous deadline, so a bug fails, not hangs).
template <typename F>
bool Eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Waits until `count` stops changing (no request is in flight any more), returns its value.
int Settled(const std::atomic<int>& count) {
  int last = count;
  for (int quiet = 0; quiet < 5;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int now = count;
    quiet = now == last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

class RecordStreamTest : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Database> Connect(DatabaseOptions options = {}) {
    options.executor.retries = 0;  // injected failures fail at once
    auto faulty = std::make_unique<FaultStore>(stores_.Open(), control_);
    return Database::Open(std::make_unique<ProbeStore>(std::move(faulty), probe_), "db", options);
  }
  bool OnS3() const { return GetParam() == Backend::kS3; }

  // Writes items 0..n-1 through a writer; every one must land.
  void WriteItems(int n) {
    RecordWriter writer = items_.Writer();
    for (int i = 0; i < n; ++i) writer.Write(Item(i));
    const WriterResult result = writer.Close();
    ASSERT_EQ(result.written, static_cast<size_t>(n));
    ASSERT_EQ(result.failed, 0u);
  }

  StoreFactory stores_{GetParam()};
  std::shared_ptr<FaultStore::Control> control_ = std::make_shared<FaultStore::Control>();
  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  std::unique_ptr<Database> db_ = Connect();
  Resource& items_ = db_->CreateResource(Items());
};

// ---- Scan -------------------------------------------------------------------------------------

TEST_P(RecordStreamTest, ScanYieldsEveryRecordInListIdsOrderAcrossPages) {
  EXPECT_FALSE(items_.Scan().Next().has_value());  // empty resource

  const int n = OnS3() ? 1200 : 2500;  // more than one page of 1000 keys either way
  WriteItems(n);
  const std::vector<std::string> ids = items_.ListIds();
  ASSERT_EQ(ids.size(), static_cast<size_t>(n));
  const std::vector<Record> all = items_.GetAll();

  std::vector<Record> scanned;
  for (const Record& r : items_.Scan()) scanned.push_back(r);
  EXPECT_EQ(IdsOf(scanned), ids);
  ASSERT_EQ(scanned.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(scanned[i].data, all[i].data) << all[i].id;
    EXPECT_EQ(scanned[i].etag, all[i].etag) << all[i].id;
  }

  // Next() and a moved scan give the same, with a small read-ahead.
  ScanOptions small;
  small.prefetch = 3;
  RecordScan first = items_.Scan(small);
  RecordScan moved = std::move(first);
  std::vector<std::string> again;
  while (std::optional<Record> r = moved.Next()) again.push_back(r->id);
  EXPECT_EQ(again, ids);
  EXPECT_FALSE(moved.Next().has_value());  // stays at the end
}

TEST_P(RecordStreamTest, ScanSkipsRecordsDeletedAfterTheListing) {
  WriteItems(40);
  const std::vector<std::string> ids = items_.ListIds();
  ScanOptions one;
  one.prefetch = 1;  // read one at a time: the rest is listed but not read yet
  RecordScan scan = items_.Scan(one);
  std::optional<Record> first = scan.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, ids[0]);
  const std::string gone = ids[20];
  items_.Delete(gone);
  std::vector<std::string> rest;
  while (std::optional<Record> r = scan.Next()) rest.push_back(r->id);
  std::vector<std::string> expected(ids.begin() + 1, ids.end());
  expected.erase(std::find(expected.begin(), expected.end(), gone));
  EXPECT_EQ(rest, expected);
}

TEST_P(RecordStreamTest, ScanThroughAPartitionEqualsListAndSkipsStaleReferences) {
  WriteItems(60);
  // A record that moved (its old reference left behind) and a reference to nothing: what an
  // interrupted writer can leave.
  items_.Update("u1", {{"region", "asia"}});
  PutRawReference(*stores_.Open(), "db/resource=items/partition=byRegion/region=eu/id=u1");
  PutRawReference(*stores_.Open(), "db/resource=items/partition=byRegion/region=eu/id=ghost");

  ListOptions eu;
  eu.partition = "byRegion";
  eu.partition_values = {{"region", "eu"}};
  ScanOptions through;
  through.partition = eu.partition;
  through.partition_values = eu.partition_values;
  std::vector<Record> scanned;
  for (const Record& r : items_.Scan(through)) scanned.push_back(r);

  const std::vector<Record> listed = items_.List(eu);
  EXPECT_EQ(IdsOf(scanned), IdsOf(listed));
  EXPECT_EQ(IdsOf(scanned), items_.ListIds(eu));
  EXPECT_EQ(scanned.size(), 20u);  // u0, u3, ..., u57
  for (const Record& r : scanned) EXPECT_EQ(r.data["region"], "eu") << r.id;
  for (size_t i = 0; i < scanned.size() && i < listed.size(); ++i) EXPECT_EQ(scanned[i].data, listed[i].data);

  ScanOptions unknown;
  unknown.partition = "byNothing";
  EXPECT_THROW(items_.Scan(unknown), InvalidArgument);
  ScanOptions values_only;
  values_only.partition_values = {{"region", "eu"}};
  EXPECT_THROW(items_.Scan(values_only), InvalidArgument);
  ScanOptions bad_field;
  bad_field.partition = "byRegion";
  bad_field.partition_values = {{"nope", "x"}};
  EXPECT_THROW(items_.Scan(bad_field), InvalidArgument);
}

TEST_P(RecordStreamTest, ScanReadsAtMostPrefetchAheadAndStopsWhenDestroyed) {
  WriteItems(300);
  constexpr size_t kPrefetch = 10;
  const size_t concurrency = static_cast<size_t>(DatabaseOptions{}.concurrency);
  control_->ResetCounts();
  {
    ScanOptions options;
    options.prefetch = kPrefetch;
    RecordScan scan = items_.Scan(options);
    constexpr size_t kTaken = 5;
    for (size_t i = 0; i < kTaken; ++i) ASSERT_TRUE(scan.Next().has_value());
    // The consumer pauses: the read-ahead fills up, then stops.
    const int gets = Settled(control_->gets);
    EXPECT_LE(static_cast<size_t>(gets), kTaken + kPrefetch + concurrency);
    EXPECT_GE(static_cast<size_t>(gets), kTaken);
  }
  // Destroyed early: no GET starts after it returned.
  const int at_close = control_->gets;
  EXPECT_EQ(Settled(control_->gets), at_close);
  EXPECT_LT(at_close, 300);
}

TEST_P(RecordStreamTest, ScanReportsAFailingRecordToOnErrorAndGoesOn) {
  WriteItems(20);
  const std::vector<std::string> ids = items_.ListIds();
  const size_t bad = 7;
  const std::string bad_key = "db/resource=items/data/id=" + ids[bad];
  control_->FailWhen(
      [&](FaultStore::Op op, const std::string& key) { return op == FaultStore::Op::kGet && key == bad_key; });

  std::vector<BulkItemError> errors;
  ScanOptions options;
  options.on_error = [&](const BulkItemError& e) { errors.push_back(e); };
  std::vector<std::string> got;
  for (const Record& r : items_.Scan(options)) got.push_back(r.id);
  std::vector<std::string> expected = ids;
  expected.erase(expected.begin() + bad);
  EXPECT_EQ(got, expected);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].index, bad);
  EXPECT_EQ(errors[0].id, ids[bad]);
  EXPECT_EQ(errors[0].code, ErrorCode::kIOError);
  EXPECT_NE(errors[0].message.find(ids[bad]), std::string::npos) << errors[0].message;

  // Without on_error, Next() throws at that record's position, and the scan is over.
  RecordScan scan = items_.Scan();
  for (size_t i = 0; i < bad; ++i) {
    std::optional<Record> r = scan.Next();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->id, ids[i]);
  }
  try {
    scan.Next();
    FAIL() << "expected the read failure";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_EQ(e.id(), ids[bad]);
  }
  EXPECT_FALSE(scan.Next().has_value());

  // A listing that fails is thrown from Next().
  control_->FailWhen([](FaultStore::Op op, const std::string&) { return op == FaultStore::Op::kList; });
  RecordScan unlisted = items_.Scan();
  EXPECT_THROW(unlisted.Next(), StorageError);
  EXPECT_FALSE(unlisted.Next().has_value());
}

// ---- Writer -----------------------------------------------------------------------------------

TEST_P(RecordStreamTest, WriterWritesEverythingAndNeverHasMoreThanMaxPending) {
  const int n = OnS3() ? 1200 : 3000;
  constexpr size_t kMaxPending = 5;
  WriterOptions options;
  options.max_pending = kMaxPending;
  RecordWriter writer = items_.Writer(options);
  // Records accepted minus records on the store bounds what is pending from below.
  int most_ahead = 0;
  for (int i = 0; i < n; ++i) {
    writer.Write(Item(i));
    most_ahead = std::max(most_ahead, i + 1 - probe_->records_landed.load());
  }
  writer.Flush();
  EXPECT_EQ(probe_->records_landed.load(), n);
  const WriterResult result = writer.Close();
  EXPECT_EQ(result.written, static_cast<size_t>(n));
  EXPECT_EQ(result.failed, 0u);
  EXPECT_LE(most_ahead, static_cast<int>(kMaxPending));
  EXPECT_EQ(items_.Count(), static_cast<size_t>(n));
  EXPECT_EQ(items_.Get("u" + std::to_string(n - 1)).data["n"], n - 1);
}

TEST_P(RecordStreamTest, WriteBlocksWhileMaxPendingRecordsAreUnwritten) {
  constexpr int kMaxPending = 4;
  probe_->SetGate(false);  // record PUTs hang until the gate opens
  WriterOptions options;
  options.max_pending = kMaxPending;
  RecordWriter writer = items_.Writer(options);
  std::atomic<int> returned{0};
  std::thread producer([&] {
    for (int i = 0; i < 20; ++i) {
      writer.Write(Item(i));
      ++returned;
    }
  });
  ASSERT_TRUE(Eventually([&] { return probe_->PutsInside() == kMaxPending && returned == kMaxPending; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(returned.load(), kMaxPending);  // the next Write is held back
  EXPECT_EQ(probe_->PutsInside(), kMaxPending);
  probe_->SetGate(true);
  producer.join();
  const WriterResult result = writer.Close();
  EXPECT_EQ(result.written, 20u);
  EXPECT_EQ(items_.Count(), 20u);
}

TEST_P(RecordStreamTest, WriterReportsEachFailureWithItsIndexAndWritesTheRest) {
  items_.Insert(Item(100));
  {
    RecordWriter writer = items_.Writer();
    writer.Write(Item(0));                           // 0
    writer.Write({{"id", "short"}, {"name", "X"}});  // 1: name too short
    writer.Write(Item(2));                           // 2
    writer.Flush();                                  // so u0 is in before its twin
    writer.Write(Item(0));                           // 3: u0 again
    writer.Write(Item(100));                         // 4: taken before
    writer.Write({{"name", "no id, fine"}});         // 5: a generated id
    writer.Write(Json::array({1, 2}));               // 6: not an object
    const WriterResult result = writer.Close();
    EXPECT_EQ(result.written, 3u);
    EXPECT_EQ(result.failed, 4u);
    std::vector<BulkItemError> errors = result.errors;
    std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_EQ(errors[0].index, 1u);
    EXPECT_EQ(errors[0].id, "short");
    EXPECT_EQ(errors[0].code, ErrorCode::kValidation);
    ASSERT_EQ(errors[0].fields.size(), 1u);
    EXPECT_EQ(errors[0].fields[0].path, "name");
    EXPECT_EQ(errors[0].fields[0].rule, "min");
    EXPECT_EQ(errors[1].index, 3u);
    EXPECT_EQ(errors[1].id, "u0");
    EXPECT_EQ(errors[1].code, ErrorCode::kAlreadyExists);
    EXPECT_TRUE(errors[1].fields.empty());
    EXPECT_EQ(errors[2].index, 4u);
    EXPECT_EQ(errors[2].code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(errors[3].index, 6u);
    EXPECT_EQ(errors[3].code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(items_.Count(), 4u);  // u100, u0, u2 and the generated one
  EXPECT_EQ(items_.Get("u0").data["n"], 0);

  // With on_error, failures go there and are not kept.
  std::mutex mu;
  std::vector<BulkItemError> reported;
  WriterOptions options;
  options.on_error = [&](const BulkItemError& e) {
    std::lock_guard lock(mu);
    reported.push_back(e);
  };
  RecordWriter writer = items_.Writer(options);
  writer.Write(Item(7));
  writer.Write({{"id", "bad"}, {"name", 5}});
  const WriterResult result = writer.Close();
  EXPECT_EQ(result.written, 1u);
  EXPECT_EQ(result.failed, 1u);
  EXPECT_TRUE(result.errors.empty());
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0].index, 1u);
  EXPECT_EQ(reported[0].fields.at(0).path, "name");

  // InsertMany names the failing fields too.
  InsertManyResult many = items_.InsertMany({Item(8), {{"id", "x"}, {"name", "Y"}}});
  ASSERT_EQ(many.errors.size(), 1u);
  EXPECT_EQ(many.errors[0].fields.at(0).rule, "min");
}

TEST_P(RecordStreamTest, WriterUpsertsAndNeedsAnId) {
  items_.Insert({{"id", "u1"}, {"name", "Old"}, {"n", 1}});
  WriterOptions options;
  options.mode = WriteMode::kUpsert;
  RecordWriter writer = items_.Writer(options);
  writer.Write({{"id", "u1"}, {"name", "New"}});
  writer.Write(Item(2));
  writer.Write({{"name", "No id"}});
  const WriterResult result = writer.Close();
  EXPECT_EQ(result.written, 2u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].index, 2u);
  EXPECT_EQ(result.errors[0].code, ErrorCode::kInvalidArgument);
  const Record u1 = items_.Get("u1");
  EXPECT_EQ(u1.data["name"], "New");
  EXPECT_EQ(u1.data["n"], 1);  // merged
  EXPECT_TRUE(items_.Exists("u2"));
}

TEST_P(RecordStreamTest, WriteAfterCloseThrowsAndCloseRepeats) {
  RecordWriter writer = items_.Writer();
  writer.Write(Item(1));
  const WriterResult first = writer.Close();
  EXPECT_EQ(first.written, 1u);
  EXPECT_THROW(writer.Write(Item(2)), InvalidArgument);
  EXPECT_EQ(writer.Close().written, 1u);
  EXPECT_FALSE(items_.Exists("u2"));
  RecordWriter unused = items_.Writer();  // closes without having written
}

TEST_P(RecordStreamTest, StreamsRunAtThePriorityOfTheThreadThatMadeThem) {
  std::optional<RecordWriter> writer;
  {
    PriorityScope urgent(100);
    writer.emplace(items_.Writer());
  }
  for (int i = 0; i < 30; ++i) writer->Write(Item(i));  // from priority 0
  EXPECT_EQ(writer->Close().written, 30u);
  EXPECT_EQ(probe_->put_priorities, std::set<int>{100});

  {
    std::lock_guard lock(probe_->mu);
    probe_->get_priorities.clear();
    probe_->list_priorities.clear();
  }
  std::optional<RecordScan> scan;
  {
    PriorityScope background(-5);
    scan.emplace(items_.Scan());
  }
  size_t n = 0;
  while (scan->Next()) ++n;
  EXPECT_EQ(n, 30u);
  EXPECT_EQ(probe_->get_priorities, std::set<int>{-5});
  EXPECT_EQ(probe_->list_priorities, std::set<int>{-5});
}

INSTANTIATE_TEST_SUITE_P(Backends, RecordStreamTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
