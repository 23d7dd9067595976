// Resource::InsertMany on every backend (memory, file, and the real S3 server when one is
// configured, where the writes go through the S3 store's event loop): per-item answers in
// item order, exactly what Insert would have written or refused, references after records,
// hooks and events once per record, the unique-field path, asynchronous partitions.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

ResourceDefinition InsertManyPeople(bool async_partitions = false) {
  ResourceDefinition def;
  def.name = "people";
  def.attributes = Json::parse(R"({
    "name": "string|min:2",
    "region": "string",
    "note": "string|optional"
  })");
  def.partitions = Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})");
  def.async_partitions = async_partitions;
  return def;
}

Json InsertManyPerson(int i) {
  return Json{{"id", "p" + std::to_string(100 + i)},
              {"name", "person " + std::to_string(i)},
              {"region", i % 3 == 0 ? "eu" : "us"}};
}

// The code of each failed item, by its position.
std::map<size_t, ErrorCode> InsertManyErrorCodes(const std::vector<BulkItemError>& errors) {
  std::map<size_t, ErrorCode> out;
  for (const BulkItemError& e : errors) out[e.index] = e.code;
  return out;
}

class InsertManyTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  testing::StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
};

TEST_P(InsertManyTest, EachItemGetsWhatInsertWouldAnswerInItemOrder) {
  Resource& people = db_->CreateResource(InsertManyPeople());
  people.Insert(InsertManyPerson(7));  // taken before the batch
  std::vector<Json> items;
  for (int i = 0; i < 60; ++i) items.push_back(InsertManyPerson(i));
  items[10] = Json{{"id", "p-bad"}, {"name", "x"}, {"region", "eu"}};  // invalid: name too short
  items[20] = Json::array({1, 2});                                     // not an object
  items[30] = InsertManyPerson(31);                                    // the same id twice in one batch
  items[45] = Json{{"name", "no id given"}, {"region", "eu"}};         // generated id
  items[50] = Json{{"id", "bad/id"}, {"name", "slashed"}, {"region", "eu"}};

  InsertManyResult result = people.InsertMany(items);
  const std::map<size_t, ErrorCode> errors = InsertManyErrorCodes(result.errors);
  EXPECT_EQ(errors.at(7), ErrorCode::kAlreadyExists);
  EXPECT_EQ(errors.at(10), ErrorCode::kValidation);
  EXPECT_EQ(errors.at(20), ErrorCode::kInvalidArgument);
  EXPECT_EQ(errors.at(50), ErrorCode::kInvalidArgument);
  // Items 30 and 31 both name p131: exactly one of them wins.
  EXPECT_EQ(errors.count(30) + errors.count(31), 1u);
  EXPECT_EQ((errors.count(30) ? errors.at(30) : errors.at(31)), ErrorCode::kAlreadyExists);
  EXPECT_EQ(errors.size(), 5u);
  for (size_t i = 1; i < result.errors.size(); ++i) EXPECT_LT(result.errors[i - 1].index, result.errors[i].index);
  for (const BulkItemError& e : result.errors) {
    EXPECT_NE(e.message.find("people"), std::string::npos) << e.message;
  }

  ASSERT_EQ(result.inserted.size(), 55u);
  std::set<std::string> ids;
  for (const Record& r : result.inserted) {
    ids.insert(r.id);
    const Record stored = people.Get(r.id);
    EXPECT_EQ(stored.etag, r.etag) << r.id;
    EXPECT_EQ(stored.data, r.data) << r.id;
  }
  EXPECT_EQ(ids.size(), 55u);
  EXPECT_EQ(people.Count(), 56u) << "the 55 and the one inserted before";
  // Every inserted record is found through its partition, references written with it.
  size_t eu = 0;
  for (const Record& r : result.inserted) eu += r.data["region"] == "eu";
  EXPECT_EQ(people.ListIds({.partition = "byRegion", .partition_values = {{"region", "eu"}}}).size(), eu);
}

TEST_P(InsertManyTest, HooksAndEventsRunOncePerRecordInItemOrder) {
  Resource& people = db_->CreateResource(InsertManyPeople());
  std::vector<std::string> before, after, events;
  people.hooks().AddPreInsert([&](Json& data) {
    before.push_back(data.value("id", ""));
    if (data.value("id", "") == "p105") throw std::runtime_error("refused by a hook");
    data["note"] = "stamped by the hook";
  });
  people.hooks().AddAfterInsert([&](const Record& r) { after.push_back(r.id); });
  people.events().On(events::kInsert, [&](const Json& p) { events.push_back(p["id"].get<std::string>()); });
  std::vector<Json> items;
  for (int i = 0; i < 12; ++i) items.push_back(InsertManyPerson(i));
  InsertManyResult result = people.InsertMany(items);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].index, 5u);
  EXPECT_NE(result.errors[0].message.find("refused by a hook"), std::string::npos) << result.errors[0].message;
  EXPECT_FALSE(people.Exists("p105"));
  ASSERT_EQ(before.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(before[static_cast<size_t>(i)], "p" + std::to_string(100 + i));
  std::vector<std::string> want;
  for (int i = 0; i < 12; ++i) {
    if (i != 5) want.push_back("p" + std::to_string(100 + i));
  }
  EXPECT_EQ(after, want);
  EXPECT_EQ(events, want);
  EXPECT_EQ(people.Get("p100").data["note"], "stamped by the hook");
}

TEST_P(InsertManyTest, UniqueFieldsAreClaimedRecordByRecord) {
  ResourceDefinition def;
  def.name = "accounts";
  def.attributes = Json::parse(R"({"email": "email|unique", "name": "string"})");
  Resource& accounts = db_->CreateResource(def);
  std::vector<Json> items;
  for (int i = 0; i < 10; ++i) {
    items.push_back(Json{
        {"id", "a" + std::to_string(i)}, {"email", "user" + std::to_string(i % 8) + "@example.com"}, {"name", "n"}});
  }
  InsertManyResult result = accounts.InsertMany(items);
  EXPECT_EQ(result.inserted.size(), 8u);
  ASSERT_EQ(result.errors.size(), 2u) << "two emails used twice";
  for (const BulkItemError& e : result.errors) EXPECT_EQ(e.code, ErrorCode::kAlreadyExists) << e.message;
}

TEST_P(InsertManyTest, AsynchronousPartitionsAreWrittenByTheFlush) {
  Resource& people = db_->CreateResource(InsertManyPeople(/*async_partitions=*/true));
  std::vector<Json> items;
  for (int i = 0; i < 30; ++i) items.push_back(InsertManyPerson(i));
  InsertManyResult result = people.InsertMany(items);
  ASSERT_TRUE(result.errors.empty());
  const PartitionFlushResult flushed = people.FlushPartitions();
  EXPECT_TRUE(flushed.failures.empty());
  EXPECT_EQ(people.ListIds({.partition = "byRegion", .partition_values = {{"region", "eu"}}}).size(), 10u);
  EXPECT_EQ(people.ListIds({.partition = "byRegion", .partition_values = {{"region", "us"}}}).size(), 20u);
}

TEST_P(InsertManyTest, LargeRecordsOverflowIntoTheBodyAsInsertWritesThem) {
  ResourceDefinition def = InsertManyPeople();
  def.behavior = "body-overflow";
  Resource& people = db_->CreateResource(def);
  std::vector<Json> items;
  for (int i = 0; i < 8; ++i) {
    Json p = InsertManyPerson(i);
    p["note"] = std::string(3000 + static_cast<size_t>(i), 'n');
    items.push_back(p);
  }
  InsertManyResult result = people.InsertMany(items);
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].message;
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(people.Get("p" + std::to_string(100 + i)).data["note"].get<std::string>().size(),
              3000u + static_cast<size_t>(i));
  }
}

TEST_P(InsertManyTest, UpsertManyInsertsTheAbsentAndMergesIntoTheRest) {
  Resource& people = db_->CreateResource(InsertManyPeople());
  for (int i = 0; i < 10; ++i) {
    Json p = InsertManyPerson(i);
    p["note"] = "kept";
    people.Insert(p);
  }
  std::vector<Json> items;
  for (int i = 5; i < 25; ++i)
    items.push_back(Json{{"id", "p" + std::to_string(100 + i)}, {"name", "renamed"}, {"region", "eu"}});
  items.push_back(Json{{"name", "no id"}, {"region", "eu"}});                  // 20: refused
  items.push_back(Json{{"id", "p200"}, {"name", "x"}, {"region", "eu"}});      // 21: absent, invalid
  items.push_back(Json{{"id", "p101"}, {"name", "y"}});                        // 22: present, invalid update
  items.push_back(Json{{"id", "p300"}, {"name", "twice"}, {"region", "us"}});  // 23 and 24: one id twice
  items.push_back(Json{{"id", "p300"}, {"name", "twice again"}, {"region", "us"}});
  UpsertManyResult result = people.UpsertMany(items);
  const std::map<size_t, ErrorCode> errors = InsertManyErrorCodes(result.errors);
  EXPECT_EQ(errors.at(20), ErrorCode::kInvalidArgument);
  EXPECT_EQ(errors.at(21), ErrorCode::kValidation);
  EXPECT_EQ(errors.at(22), ErrorCode::kValidation);
  EXPECT_EQ(errors.size(), 3u) << result.errors[0].message;
  ASSERT_EQ(result.upserted.size(), 22u);
  for (int i = 0; i < 25; ++i) {
    const Record r = people.Get("p" + std::to_string(100 + i));
    if (i < 5) {
      EXPECT_EQ(r.data["name"], "person " + std::to_string(i));
      continue;
    }
    EXPECT_EQ(r.data["name"], "renamed") << i;
    EXPECT_EQ(r.data["region"], "eu") << i;
    // Updated ones keep what the upsert did not name (a merge); inserted ones never had it.
    EXPECT_EQ(r.data.contains("note"), i < 10) << i;
  }
  EXPECT_FALSE(people.Exists("p200"));
  EXPECT_EQ(people.Get("p101").data["name"], "person 1");
  const std::string twice = people.Get("p300").data["name"].get<std::string>();
  EXPECT_TRUE(twice == "twice" || twice == "twice again") << twice;
  // The references follow: moved ones are found in their new partition only.
  EXPECT_EQ(people.ListIds({.partition = "byRegion", .partition_values = {{"region", "us"}}}).size(), 3u + 1u)
      << "p101, p102, p104 and p300";
}

INSTANTIATE_TEST_SUITE_P(Backends, InsertManyTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
