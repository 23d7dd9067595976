// Partitions kept in step with writes: deletes, crashes mended by repair, concurrent writers,
// asyncPartitions.
#include "partition_fixture.h"

namespace s3db::partition_testing {
namespace {

TEST_P(PartitionTest, DeleteAllDeletesWhatItCanAndNamesWhatItCouldNot) {
  Resource& users = db_->CreateResource(Users());
  for (const char* id : {"a1", "a2", "a3", "a4", "a5"}) {
    users.Insert({{"id", id}, {"name", id}, {"region", "eu"}});
  }
  const std::string stuck = "db/resource=users/data/id=a2";
  control_->FailWhen(
      [&](FaultStore::Op op, const std::string& key) { return op == FaultStore::Op::kDeleteManyKey && key == stuck; });
  try {
    users.DeleteAll();
    FAIL() << "DeleteAll reported success with a record left";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_NE(std::string(e.what()).find(stuck), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4 records were"), std::string::npos) << e.what();
  }
  EXPECT_EQ(users.ListIds(), std::vector<std::string>{"a2"});
  EXPECT_EQ(References().size(), 0u);  // every reference went
  control_->Heal();
  EXPECT_EQ(users.DeleteAll(), 1u);
  EXPECT_EQ(users.Count(), 0u);
}

TEST_P(PartitionTest, ACrashAfterTheRecordWriteIsMendedByRepair) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "bob"}, {"name", "Bob"}, {"region", "eu"}});
  // Every reference write fails after the record write: the state a crash right there leaves.
  control_->FailWhen([](FaultStore::Op op, const std::string& key) {
    return op == FaultStore::Op::kPut && FaultStore::IsReference(key);
  });
  try {
    users.Insert(Ada());
    FAIL() << "the insert reported success without its references";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIOError);
    EXPECT_EQ(e.id(), "ada");
    EXPECT_NE(std::string(e.what()).find("repair"), std::string::npos) << e.what();
  }
  control_->Heal();
  EXPECT_TRUE(users.Exists("ada"));  // the record stands
  const ListOptions eu = In("byRegion", {{"region", "eu"}});
  EXPECT_EQ(users.ListIds(eu), std::vector<std::string>{"bob"});  // no reference yet
  // A direct read goes by the record's data, so it finds the record anyway.
  EXPECT_EQ(users.GetFromPartition("ada", "byRegion", {{"region", "eu"}}).id, "ada");

  PartitionRepairOptions dry;
  dry.dry_run = true;
  PartitionRepairResult report = users.RepairPartitions(dry);
  EXPECT_EQ(report.missing, 6u);  // one per partition Ada has values for
  EXPECT_EQ(report.orphans, 0u);
  EXPECT_EQ(report.rebuilt, 0u);
  ASSERT_FALSE(report.missing_examples.empty());
  EXPECT_EQ(report.missing_examples[0].id, "ada");
  EXPECT_EQ(users.ListIds(eu), std::vector<std::string>{"bob"});

  PartitionRepairResult fixed = users.RepairPartitions();
  EXPECT_EQ(fixed.missing, 6u);
  EXPECT_EQ(fixed.rebuilt, 6u);
  EXPECT_TRUE(fixed.failures.empty());
  EXPECT_EQ(users.ListIds(eu), (std::vector<std::string>{"ada", "bob"}));
  EXPECT_EQ(References(), Expected(users, {"ada", "bob"}));
  PartitionRepairResult again = users.RepairPartitions();
  EXPECT_EQ(again.orphans + again.missing + again.rebuilt + again.removed, 0u);
}

TEST_P(PartitionTest, ConcurrentUpdatesOfThePartitionFieldEndWithEveryNeededReference) {
  Resource& users = db_->CreateResource(Users());
  const std::vector<std::string> ids = {"a", "b"};
  for (const auto& id : ids) users.Insert({{"id", id}, {"name", id}, {"region", "eu"}, {"tier", "gold"}});
  // Few records and few values: a value leaves a record and comes back often, the case where
  // one writer's removal can meet another's write of the same key.
  const std::vector<std::string> regions = {"eu", "us", "eu-west"};
  const int kWriters = 4;
  const int kUpdates = GetParam() == Backend::kS3 ? 10 : 25;
  std::vector<std::unique_ptr<Database>> connections;
  for (int w = 0; w < kWriters; ++w) connections.push_back(Connect());
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w) * 7919u + 1u);
      Resource& mine = connections[w]->resource("users");
      for (int i = 0; i < kUpdates; ++i) {
        try {
          mine.Update(ids[rng() % ids.size()],
                      {{"region", regions[rng() % regions.size()]}, {"tier", rng() % 2 ? "gold" : "silver"}});
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);

  // Guaranteed without repair: every reference a record's final data needs exists, so no
  // read through a partition misses it; stale ones may remain and reads skip them.
  const std::set<std::string> expected = Expected(users, ids);
  const std::set<std::string> present = References();
  for (const auto& key : expected) EXPECT_TRUE(present.count(key)) << "missing " << key;
  for (const auto& region : regions) {
    std::set<std::string> in_region;
    for (const auto& id : ids) {
      if (users.Get(id).data["region"] == region) in_region.insert(id);
    }
    EXPECT_EQ(AsSet(users.ListIds(In("byRegion", {{"region", region}}))), in_region) << region;
  }
  // After repair the references are exactly what the records say.
  PartitionRepairResult fixed = users.RepairPartitions();
  EXPECT_EQ(fixed.missing, 0u);
  EXPECT_EQ(fixed.orphans, present.size() - expected.size());
  EXPECT_EQ(References(), expected);
}

// The interleaving the restore step exists for, forced: writer A moves the record eu -> us and
// stops just before removing its "eu" reference; writer B moves it back us -> eu (writing
// "eu"); then A removes "eu". A's re-read sees the record in eu again and writes it back.
TEST_P(PartitionTest, AWriterThatRemovesAReferenceAnotherJustNeededWritesItBack) {
  Resource& users = db_->CreateResource(Users());
  users.Insert(Ada());  // eu
  auto other = Connect();
  Resource& b = other->resource("users");
  std::promise<void> a_paused, b_done;
  std::shared_future<void> resume = b_done.get_future().share();
  std::atomic<bool> first{true};
  control_->FailWhen([&](FaultStore::Op op, const std::string& key) {
    if (op == FaultStore::Op::kDelete && key.find("partition=byRegion/region=eu/") != std::string::npos &&
        first.exchange(false)) {
      a_paused.set_value();
      resume.wait();
    }
    return false;  // never fails; only pauses
  });
  std::thread a([&] { users.Update("ada", {{"region", "us"}}); });
  a_paused.get_future().wait();
  b.Update("ada", {{"region", "eu"}});
  b_done.set_value();
  a.join();
  control_->Heal();
  EXPECT_EQ(users.Get("ada").data["region"], "eu");
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "eu"}})), std::vector<std::string>{"ada"});
  const std::set<std::string> present = References();
  for (const auto& key : Expected(users, {"ada"})) EXPECT_TRUE(present.count(key)) << "missing " << key;
}

TEST_P(PartitionTest, AsyncPartitionsWriteInTheBackgroundAndFlushReportsFailures) {
  Resource& users = db_->CreateResource(Users(/*async=*/true));
  std::mutex mu;
  std::vector<Json> events;
  users.events().On(Resource::kPartitionErrorEvent, [&](const Json& payload) {
    std::lock_guard lock(mu);
    events.push_back(payload);
  });
  for (int i = 0; i < 10; ++i) {
    users.Insert({{"id", "u" + std::to_string(i)}, {"name", "n"}, {"region", i % 2 ? "eu" : "us"}});
  }
  PartitionFlushResult flushed = users.FlushPartitions();
  EXPECT_EQ(flushed.written, 10u);
  EXPECT_TRUE(flushed.failures.empty());
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "eu"}})), 5u);

  users.Update("u1", {{"region", "us"}});
  users.Delete("u3");
  flushed = users.FlushPartitions();
  EXPECT_EQ(flushed.written, 1u);
  EXPECT_EQ(flushed.removed, 2u);
  EXPECT_EQ(References(), Expected(users, users.ListIds()));

  // A failed reference write does not fail the insert: it is an event and a flush failure.
  control_->FailWhen([](FaultStore::Op op, const std::string& key) {
    return op == FaultStore::Op::kPut && FaultStore::IsReference(key);
  });
  EXPECT_NO_THROW(users.Insert(Ada()));
  flushed = users.FlushPartitions();
  control_->Heal();
  ASSERT_EQ(flushed.failures.size(), 6u);
  EXPECT_EQ(flushed.failures[0].id, "ada");
  EXPECT_EQ(flushed.failures[0].operation, "put");
  EXPECT_EQ(flushed.failures[0].code, ErrorCode::kIOError);
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[0]["resource"], "users");
    EXPECT_EQ(events[0]["id"], "ada");
    EXPECT_EQ(events[0]["code"], "io_error");
    EXPECT_TRUE(events[0]["key"].get<std::string>().find("/id=ada") != std::string::npos);
  }
  EXPECT_TRUE(users.FlushPartitions().failures.empty());  // reported once
  EXPECT_EQ(users.RepairPartitions().rebuilt, 6u);
  EXPECT_EQ(References(), Expected(users, users.ListIds()));
}

}  // namespace
}  // namespace s3db::partition_testing
