// Seed 000 (the s3db.js README), "Partitions": defining them, listIds / count / listByPartition /
// page through a partition, the time-based example, nested fields, rules, the important
// notes and the partition-aware methods, on every backend of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "s3db/plugin.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
std::vector<std::string> IdsOf(const std::vector<Record>& records) {
  std::vector<std::string> ids;
  for (const Record& r : records) ids.push_back(r.id);
  return Sorted(ids);
}

class SeedsPartitionsTest : public SeedsExampleTest {
 protected:
  // Seed 000, "Defining partitions": byRegion, byAgeGroup and byDate (a date cut to the day).
  Resource& Users(Database& db) {
    ResourceDefinition def = Def(
        "users",
        {{"name", "string"}, {"email", "email"}, {"region", "string"}, {"ageGroup", "string"}, {"createdAt", "date"}});
    def.partitions = Json::parse(R"({
      "byRegion": {"fields": {"region": "string"}},
      "byAgeGroup": {"fields": {"ageGroup": "string"}},
      "byDate": {"fields": {"createdAt": "date|maxlength:10"}}
    })");
    Resource& users = db.CreateResource(def);
    struct Person {
      const char* id;
      const char* region;
      const char* age;
      const char* day;
    };
    for (const Person& p : {Person{"u01", "south", "adult", "2024-06-27T08:00:00Z"},
                            Person{"u02", "south", "teen", "2024-06-27T20:00:00Z"},
                            Person{"u03", "north", "adult", "2024-06-28T08:00:00Z"},
                            Person{"u04", "south", "adult", "2024-06-29T08:00:00Z"},
                            Person{"u05", "southeast", "adult", "2024-06-29T08:00:00Z"}}) {
      users.Insert({{"id", p.id},
                    {"name", std::string("User ") + p.id},
                    {"email", std::string(p.id) + "@example.com"},
                    {"region", p.region},
                    {"ageGroup", p.age},
                    {"createdAt", p.day}});
    }
    return users;
  }
};

ListOptions In(const std::string& partition, Json values, bool verify = true) {
  ListOptions options;
  options.partition = partition;
  options.partition_values = std::move(values);
  options.verify = verify;
  return options;
}

// Seed 000, "Defining partitions" and "List IDs by partition".
TEST_P(SeedsPartitionsTest, ListIdsByPartition) {
  auto db = Connect();
  Resource& users = Users(*db);
  EXPECT_EQ(Sorted(users.ListIds(In("byRegion", {{"region", "south"}}))),
            (std::vector<std::string>{"u01", "u02", "u04"}))
      << "south, never southeast";
  EXPECT_EQ(Sorted(users.ListIds(In("byAgeGroup", {{"ageGroup", "adult"}}))),
            (std::vector<std::string>{"u01", "u03", "u04", "u05"}));
  EXPECT_EQ(Sorted(users.ListIds(In("byDate", {{"createdAt", "2024-06-27"}}))),
            (std::vector<std::string>{"u01", "u02"}));
}

// Seed 000, "Count documents by partition".
TEST_P(SeedsPartitionsTest, CountByPartition) {
  auto db = Connect();
  Resource& users = Users(*db);
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "south"}})), 3u);
  EXPECT_EQ(users.Count(In("byAgeGroup", {{"ageGroup", "adult"}})), 4u);
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "west"}})), 0u);
  EXPECT_EQ(users.Count(), 5u);
}

// Seed 000, "List objects by partition": every user of a region, and adults with
// { limit: 10, offset: 0 }.
TEST_P(SeedsPartitionsTest, ListByPartition) {
  auto db = Connect();
  Resource& users = Users(*db);
  std::vector<Record> south = users.ListByPartition("byRegion", {{"region", "south"}});
  EXPECT_EQ(IdsOf(south), (std::vector<std::string>{"u01", "u02", "u04"}));
  for (const Record& r : south) EXPECT_EQ(r.data["region"], "south");
  ListOptions window;
  window.limit = 10;
  window.offset = 0;
  EXPECT_EQ(users.ListByPartition("byAgeGroup", {{"ageGroup", "adult"}}, window).size(), 4u);
  window.limit = 2;
  window.offset = 3;
  EXPECT_EQ(users.ListByPartition("byAgeGroup", {{"ageGroup", "adult"}}, window).size(), 1u) << "the 4th only";
}

// Seed 000, "Page through partition data": page 0 of size 10 of the south region, with items,
// totalItems and totalPages.
TEST_P(SeedsPartitionsTest, PageThroughPartitionData) {
  auto db = Connect();
  Resource& users = Users(*db);
  PageOptions first;
  first.offset = 0;
  first.size = 10;
  first.partition = "byRegion";
  first.partition_values = {{"region", "south"}};
  PageResult page = users.Page(first);
  EXPECT_EQ(IdsOf(page.items), (std::vector<std::string>{"u01", "u02", "u04"}));
  EXPECT_EQ(page.total_items, 3u);
  EXPECT_EQ(page.total_pages, 1u);
  EXPECT_EQ(page.page, 0u);
  first.size = 2;
  first.offset = 2;
  page = users.Page(first);
  EXPECT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.total_pages, 2u);
  EXPECT_EQ(page.page, 1u);
}

// Seed 000, "Example: Time-based partition": logs by day; a log of 2024-06-27 is listed and
// counted under that day.
TEST_P(SeedsPartitionsTest, TimeBasedPartition) {
  auto db = Connect();
  ResourceDefinition def = Def("logs", {{"message", "string"}, {"level", "string"}, {"createdAt", "date"}});
  def.partitions = Json::parse(R"({"byDate": {"fields": {"createdAt": "date|maxlength:10"}}})");
  Resource& logs = db->CreateResource(def);
  Record log = logs.Insert({{"message", "User login"}, {"level", "info"}, {"createdAt", "2024-06-27"}});
  logs.Insert({{"message", "User logout"}, {"level", "info"}, {"createdAt", "2024-06-28T00:00:01Z"}});
  std::vector<Record> today = logs.ListByPartition("byDate", {{"createdAt", "2024-06-27"}});
  ASSERT_EQ(today.size(), 1u);
  EXPECT_EQ(today[0].id, log.id);
  EXPECT_EQ(today[0].data["message"], "User login");
  EXPECT_EQ(logs.Count(In("byDate", {{"createdAt", "2024-06-27"}})), 1u);
}

// Seed 000, "Partitions with Nested Fields": four partitions on dot paths (one of them mixing
// utm and address), each queried with listIds, and count / listByPartition on one.
TEST_P(SeedsPartitionsTest, PartitionsWithNestedFields) {
  auto db = Connect();
  ResourceDefinition def =
      Def("users",
          {{"name", "string|required"},
           {"utm", {{"source", "string|required"}, {"medium", "string|required"}, {"campaign", "string|required"}}},
           {"address", {{"country", "string|required"}, {"state", "string|required"}, {"city", "string|required"}}},
           {"metadata", {{"category", "string|required"}, {"priority", "string|required"}}}});
  def.partitions = Json::parse(R"({
    "byUtmSource": {"fields": {"utm.source": "string"}},
    "byAddressCountry": {"fields": {"address.country": "string|maxlength:2"}},
    "byAddressState": {"fields": {"address.country": "string|maxlength:2", "address.state": "string"}},
    "byUtmAndAddress": {"fields": {"utm.source": "string", "utm.medium": "string", "address.country": "string|maxlength:2"}}
  })");
  Resource& users = db->CreateResource(def);
  users.Insert({{"id", "john"},
                {"name", "John Doe"},
                {"utm", {{"source", "google"}, {"medium", "cpc"}, {"campaign", "brand"}}},
                {"address", {{"country", "US"}, {"state", "California"}, {"city", "San Francisco"}}},
                {"metadata", {{"category", "premium"}, {"priority", "high"}}}});
  users.Insert({{"id", "jane"},
                {"name", "Jane Roe"},
                {"utm", {{"source", "google"}, {"medium", "organic"}, {"campaign", "brand"}}},
                {"address", {{"country", "US"}, {"state", "Texas"}, {"city", "Austin"}}},
                {"metadata", {{"category", "basic"}, {"priority", "low"}}}});
  users.Insert({{"id", "hans"},
                {"name", "Hans"},
                {"utm", {{"source", "bing"}, {"medium", "cpc"}, {"campaign", "brand"}}},
                {"address", {{"country", "DE"}, {"state", "Berlin"}, {"city", "Berlin"}}},
                {"metadata", {{"category", "basic"}, {"priority", "low"}}}});

  EXPECT_EQ(Sorted(users.ListIds(In("byUtmSource", {{"utm.source", "google"}}))),
            (std::vector<std::string>{"jane", "john"}));
  EXPECT_EQ(Sorted(users.ListIds(In("byAddressCountry", {{"address.country", "US"}}))),
            (std::vector<std::string>{"jane", "john"}));
  EXPECT_EQ(users.ListIds(In("byAddressState", {{"address.country", "US"}, {"address.state", "California"}})),
            (std::vector<std::string>{"john"}));
  EXPECT_EQ(users.ListIds(
                In("byUtmAndAddress", {{"utm.source", "google"}, {"utm.medium", "cpc"}, {"address.country", "US"}})),
            (std::vector<std::string>{"john"}));
  EXPECT_EQ(users.Count(In("byUtmSource", {{"utm.source", "google"}})), 2u);
  std::vector<Record> google = users.ListByPartition("byUtmSource", {{"utm.source", "google"}});
  EXPECT_EQ(IdsOf(google), (std::vector<std::string>{"jane", "john"}));
  for (const Record& r : google) EXPECT_EQ(r.data["utm"]["source"], "google");
  // "Rules support": maxlength:2 applies to the values a query gives too.
  EXPECT_EQ(users.Count(In("byAddressCountry", {{"address.country", "USA"}})), 2u);
}

// Seed 000, "Partition rules and transformations": a date partition keeps the day
// ("2024-06-27T15:30:00Z" is stored as "2024-06-27"), the record keeps the whole time.
TEST_P(SeedsPartitionsTest, PartitionRulesAndTransformations) {
  auto db = Connect();
  ResourceDefinition def =
      Def("products", {{"name", "string"}, {"category", "string"}, {"price", "number"}, {"createdAt", "date"}});
  def.partitions = Json::parse(R"({
    "byCategory": {"fields": {"category": "string"}},
    "byDate": {"fields": {"createdAt": "date|maxlength:10"}}
  })");
  Resource& products = db->CreateResource(def);
  Record widget = products.Insert(
      {{"name", "Widget"}, {"category", "electronics"}, {"price", 99.99}, {"createdAt", "2024-06-27T15:30:00Z"}});
  std::optional<std::string> key = products.GetPartitionKey("byDate", widget.id, widget.data);
  ASSERT_TRUE(key.has_value());
  EXPECT_NE(key->find("createdAt=2024-06-27/"), std::string::npos) << *key;
  EXPECT_EQ(products.ListIds(In("byDate", {{"createdAt", "2024-06-27"}})), std::vector<std::string>{widget.id});
  EXPECT_EQ(products.Get(widget.id).data["createdAt"], "2024-06-27T15:30:00.000Z");
  EXPECT_EQ(products.Count(In("byCategory", {{"category", "electronics"}})), 1u);
}

// Seed 000, "Important notes about partitions": references are made on insert (one object per
// partition, besides the record), kept in step on update and delete, and every partition
// field must be an attribute.
TEST_P(SeedsPartitionsTest, ImportantNotesAboutPartitions) {
  auto costs = std::make_shared<CostsPlugin>();
  auto db = Connect({.uri = "", .plugins = {costs}});
  Resource& users = Users(*db);
  costs->Reset();
  users.Insert({{"id", "u09"},
                {"name", "Nine"},
                {"email", "nine@example.com"},
                {"region", "west"},
                {"ageGroup", "teen"},
                {"createdAt", "2024-07-01"}});
  EXPECT_EQ(costs->Totals().count(RequestKind::kPut), 1u + 3u) << "1. automatic; 3. one object per partition";

  users.Update("u09", {{"region", "east"}});  // 4. consistency
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "west"}})), 0u);
  EXPECT_EQ(users.ListIds(In("byRegion", {{"region", "east"}})), std::vector<std::string>{"u09"});
  users.Delete("u09");
  EXPECT_EQ(users.Count(In("byRegion", {{"region", "east"}}, false)), 0u);
  EXPECT_EQ(users.Count(In("byAgeGroup", {{"ageGroup", "teen"}})), 1u);

  ResourceDefinition bad = Def("bad", {{"name", "string"}});
  bad.partitions = Json::parse(R"({"byRegion": {"fields": {"region": "string"}}})");
  try {
    db->CreateResource(bad);
    ADD_FAILURE() << "5. a partition on a field that is not an attribute was accepted";
  } catch (const InvalidSchema& e) {
    EXPECT_NE(std::string(e.what()).find("region"), std::string::npos) << e.what();
  }
}

// Seed 000, "Available partition-aware methods": listIds, count, listByPartition, page (with
// skipCount), getFromPartition; query, which in s3db.js has no partition support, takes one
// here (and finds one by itself when the filter pins its fields).
TEST_P(SeedsPartitionsTest, PartitionAwareMethods) {
  auto db = Connect();
  Resource& users = Users(*db);
  const ListOptions south = In("byRegion", {{"region", "south"}});
  EXPECT_EQ(users.ListIds(south).size(), 3u);
  EXPECT_EQ(users.Count(south), 3u);
  EXPECT_EQ(users.ListByPartition("byRegion", {{"region", "south"}}).size(), 3u);
  PageOptions page;
  page.size = 2;
  page.skip_count = true;
  page.partition = "byRegion";
  page.partition_values = {{"region", "south"}};
  PageResult first = users.Page(page);
  EXPECT_EQ(first.items.size(), 2u);
  EXPECT_FALSE(first.total_items.has_value()) << "skipCount";
  EXPECT_EQ(users.GetFromPartition("u03", "byRegion", {{"region", "north"}}).data["name"], "User u03");
  EXPECT_THROW(users.GetFromPartition("u03", "byRegion", {{"region", "south"}}), NotFound) << "u03 is not there";
  EXPECT_EQ(IdsOf(users.Query({{"ageGroup", "adult"}}, south)), (std::vector<std::string>{"u01", "u04"}));
  EXPECT_EQ(IdsOf(users.Query({{"region", "south"}, {"ageGroup", "teen"}})), (std::vector<std::string>{"u02"}));
  EXPECT_THROW(users.ListIds(In("byNothing", {{"region", "south"}})), InvalidArgument);
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsPartitionsTest);

}  // namespace
}  // namespace s3db::seeds
