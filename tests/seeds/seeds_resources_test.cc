// The s3db.js README's "Core Concepts" examples on resources, ported to our API: "2. Resources
// (Collections)", list/listIds/count/page/query with partitions, partitions on nested fields,
// getPartitionKey/getFromPartition and automatic timestamps. Each test names the seed section
// it ports (docs/SEEDS.md) and asserts what the seed says, on every backend.
//
// Definitions the seeds write as JavaScript objects are given here as the same JSON read by
// ResourceDefinition::FromJson, which takes the seeds' form with "options".
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "seeds/seeds_core_fixture.h"

namespace s3db {
namespace {

using seeds::IdsOf;
using seeds::SeedsTest;

// The seeds' users with UTM and address fields and the two partitions of "Partições com
// Campos Aninhados", which "List, ListIds, Count, Page, Query" use too. isActive is declared so
// the query example has a field to filter on.
ResourceDefinition UtmUsers() {
  return ResourceDefinition::FromJson("users", Json::parse(R"({
    "name": "users",
    "attributes": {
      "name": "string|required",
      "isActive": "boolean|default:true",
      "utm": {"source": "string|required", "medium": "string|required"},
      "address": {"country": "string|required", "city": "string|required"}
    },
    "options": {
      "partitions": {
        "byUtmSource": {"fields": {"utm.source": "string"}},
        "byCountry": {"fields": {"address.country": "string"}}
      }
    }
  })"));
}

Json UtmUser(int i, const std::string& source, bool active, const std::string& country) {
  char id[16];
  std::snprintf(id, sizeof(id), "user-%02d", i);
  return {{"id", id},
          {"name", "User " + std::to_string(i)},
          {"isActive", active},
          {"utm", {{"source", source}, {"medium", "cpc"}}},
          {"address", {{"country", country}, {"city", country == "US" ? "Austin" : "Lisbon"}}}};
}

class SeedsResourcesTest : public SeedsTest {
 protected:
  // 12 users from google (the even ones inactive), 3 from bing; 9 in the US.
  Resource& SeedUtmUsers() {
    Resource& users = db_->CreateResource(UtmUsers());
    std::vector<Json> batch;
    for (int i = 0; i < 12; ++i) batch.push_back(UtmUser(i, "google", i % 2 == 1, i < 6 ? "US" : "PT"));
    for (int i = 12; i < 15; ++i) batch.push_back(UtmUser(i, "bing", true, "US"));
    const InsertManyResult inserted = users.InsertMany(batch);
    EXPECT_TRUE(inserted.errors.empty());
    EXPECT_EQ(inserted.inserted.size(), 15u);
    return users;
  }
  static ListOptions Google() {
    ListOptions options;
    options.partition = "byUtmSource";
    options.partition_values = {{"utm.source", "google"}};
    return options;
  }
};

// Seed "2. Resources (Collections)": users with a nested profile, a string array and a free-form
// metadata object.
TEST_P(SeedsResourcesTest, ResourcesCollections) {
  Resource& users = db_->CreateResource(ResourceDefinition::FromJson("users", Json::parse(R"({
    "name": "users",
    "attributes": {
      "name": "string|min:2|max:100",
      "email": "email|unique",
      "age": "number|integer|positive",
      "profile": {"bio": "string|optional", "avatar": "url|optional"},
      "tags": "array|items:string",
      "metadata": "object|optional"
    }
  })")));
  const Record ada = users.Insert({{"id", "ada"},
                                   {"name", "Ada"},
                                   {"email", "ada@example.com"},
                                   {"age", 36},
                                   {"profile", {{"avatar", "https://example.com/ada.png"}}},
                                   {"tags", {"math", "poetry"}},
                                   {"metadata", {{"source", "import"}, {"rank", 1}}}});
  EXPECT_EQ(users.Get("ada").data, ada.data);
  EXPECT_EQ(users.Get("ada").data["metadata"]["rank"], 1);

  // The profile is optional as a whole (all its fields are); its avatar must be a URL.
  EXPECT_NO_THROW(users.Insert({{"name", "Bo"}, {"email", "bo@example.com"}, {"age", 5}, {"tags", Json::array()}}));
  try {
    users.Insert(
        {{"name", "C"}, {"email", "c@example.com"}, {"age", -1}, {"tags", {1}}, {"profile", {{"avatar", "nope"}}}});
    FAIL() << "expected a ValidationError";
  } catch (const ValidationError& e) {
    std::set<std::string> paths;
    for (const FieldError& f : e.fields()) paths.insert(f.path);
    EXPECT_EQ(paths, (std::set<std::string>{"name", "age", "tags[0]", "profile.avatar"}));
  }
}

// Seed "List, ListIds, Count, Page, Query (Novo Formato)": every listing call takes one options
// object, with a partition and its values.
TEST_P(SeedsResourcesTest, ListListIdsCountPageQuery) {
  Resource& users = SeedUtmUsers();

  EXPECT_EQ(users.List().size(), 15u);  // users.list()

  const std::vector<Record> google = users.List(Google());  // list({partition, partitionValues})
  ASSERT_EQ(google.size(), 12u);
  for (const Record& r : google) EXPECT_EQ(r.data["utm"]["source"], "google");

  const std::vector<std::string> google_ids = users.ListIds(Google());  // listIds({...})
  EXPECT_EQ(google_ids, IdsOf(google));
  EXPECT_EQ(google_ids.front(), "user-00");
  EXPECT_EQ(google_ids.back(), "user-11");

  PageOptions page_options;  // page({partition, partitionValues, offset: 0, size: 10})
  page_options.partition = "byUtmSource";
  page_options.partition_values = {{"utm.source", "google"}};
  page_options.offset = 0;
  page_options.size = 10;
  const PageResult page = users.Page(page_options);
  EXPECT_EQ(page.items.size(), 10u);  // page.items
  EXPECT_EQ(page.total_items, 12u);   // page.totalItems
  EXPECT_EQ(page.total_pages, 2u);    // page.totalPages
  EXPECT_EQ(page.page, 0u);           // page.page
  EXPECT_EQ(page.page_size, 10u);     // page.pageSize

  page_options.skip_count = true;  // skipCount: true
  const PageResult fast = users.Page(page_options);
  EXPECT_EQ(IdsOf(fast.items), IdsOf(page.items));
  EXPECT_FALSE(fast.total_items.has_value());  // fastPage.totalItems: null

  EXPECT_EQ(users.Count(Google()), 12u);  // count({partition, partitionValues})

  ListOptions query_options = Google();  // query({isActive: true}, {partition, ..., limit: 5, offset: 0})
  query_options.limit = 5;
  query_options.offset = 0;
  const std::vector<Record> filtered = users.Query({{"isActive", true}}, query_options);
  ASSERT_EQ(filtered.size(), 5u);
  for (const Record& r : filtered) {
    EXPECT_EQ(r.data["isActive"], true);
    EXPECT_EQ(r.data["utm"]["source"], "google");
  }
  EXPECT_EQ(IdsOf(filtered), (std::vector<std::string>{"user-01", "user-03", "user-05", "user-07", "user-09"}));
}

// Seed "Partições com Campos Aninhados": partitions on dot paths of nested fields.
TEST_P(SeedsResourcesTest, PartitionsWithNestedFields) {
  Resource& users = SeedUtmUsers();
  ListOptions us;  // list({partition: 'byCountry', partitionValues: {'address.country': 'US'}})
  us.partition = "byCountry";
  us.partition_values = {{"address.country", "US"}};
  const std::vector<Record> us_users = users.List(us);
  EXPECT_EQ(us_users.size(), 9u);
  for (const Record& r : us_users) EXPECT_EQ(r.data["address"]["country"], "US");

  // A record that moves country moves partition.
  users.Update("user-00", {{"address", {{"country", "PT"}}}});
  EXPECT_EQ(users.Count(us), 8u);
  EXPECT_EQ(users.Get("user-00").data["address"]["city"], "Austin");  // nested update merged
}

// Seed "getPartitionKey e getFromPartition".
TEST_P(SeedsResourcesTest, GetPartitionKeyAndGetFromPartition) {
  Resource& users = db_->CreateResource(UtmUsers());
  // getPartitionKey({partitionName: 'byUtmSource', id: 'user-123', data: {utm: {source: 'google'}}})
  const std::optional<std::string> key =
      users.GetPartitionKey("byUtmSource", "user-123", {{"utm", {{"source", "google"}}}});
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, "db/resource=users/partition=byUtmSource/utm.source=google/id=user-123");
  EXPECT_FALSE(users.GetPartitionKey("byUtmSource", "user-123", {{"name", "x"}}).has_value());  // no utm.source

  Json data = UtmUser(0, "google", true, "US");
  data["id"] = "user-123";
  users.Insert(data);
  EXPECT_TRUE(db_->store().Head(*key).ok());  // the reference is that object

  // getFromPartition({id: 'user-123', partitionName: 'byUtmSource', partitionValues: {'utm.source': 'google'}})
  const Record user = users.GetFromPartition("user-123", "byUtmSource", {{"utm.source", "google"}});
  EXPECT_EQ(user.id, "user-123");
  EXPECT_EQ(user.data["utm"]["source"], "google");
  EXPECT_THROW(users.GetFromPartition("user-123", "byUtmSource", {{"utm.source", "bing"}}), NotFound);
}

// Seed "Automatic Timestamps": createdAt and updatedAt, ISO 8601, equal on insert.
TEST_P(SeedsResourcesTest, AutomaticTimestamps) {
  Resource& users = db_->CreateResource(ResourceDefinition::FromJson("users", Json::parse(R"({
    "name": "users",
    "attributes": {"name": "string", "email": "email"},
    "options": {"timestamps": true}
  })")));
  const Record user = users.Insert({{"name", "John"}, {"email", "john@example.com"}});
  const std::regex iso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");  // "2024-06-27T12:34:56.789Z"
  const std::string created = user.data["createdAt"];
  EXPECT_TRUE(std::regex_match(created, iso)) << created;
  EXPECT_EQ(user.data["updatedAt"], user.data["createdAt"]);  // same as createdAt on insert
  EXPECT_EQ(users.Get(user.id).data["createdAt"], created);

  const Record updated = users.Update(user.id, {{"name", "Johnny"}});
  EXPECT_EQ(updated.data["createdAt"], created);  // kept
  const std::string updated_at = updated.data["updatedAt"];
  EXPECT_TRUE(std::regex_match(updated_at, iso)) << updated_at;
  EXPECT_GE(updated_at, created);  // ISO text of one format sorts as time
}

S3DB_SEEDS_ON_EVERY_BACKEND(SeedsResourcesTest);

}  // namespace
}  // namespace s3db
