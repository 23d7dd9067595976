// The three options the HTTP server needed from the library (docs/API.md): a whole-record
// replace, a delete guarded by an ETag, and listing from an id on (S3's start-after); on every
// local backend, through the public API.
#include <gtest/gtest.h>

#include "s3db/database.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;

ResourceDefinition ServeOptionsPeople(bool timestamps) {
  ResourceDefinition def;
  def.name = "people";
  def.attributes = Json::parse(R"({"name": "string", "age": "number|optional", "city": "string|optional"})");
  def.timestamps = timestamps;
  return def;
}

class ResourceServeOptionsTest : public ::testing::TestWithParam<Backend> {
 protected:
  testing::StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
};

TEST_P(ResourceServeOptionsTest, ReplaceDropsTheFieldsThePatchDoesNotNameAndKeepsCreatedAt) {
  Resource& people = db_->CreateResource(ServeOptionsPeople(/*timestamps=*/true));
  Record first = people.Insert({{"id", "ada"}, {"name", "Ada"}, {"age", 36}, {"city", "London"}});
  UpdateOptions replace;
  replace.replace = true;
  Record replaced = people.Update("ada", {{"name", "Ada L"}}, replace);
  EXPECT_EQ(replaced.data["name"], "Ada L");
  EXPECT_FALSE(replaced.data.contains("age"));
  EXPECT_FALSE(replaced.data.contains("city"));
  EXPECT_EQ(replaced.data["createdAt"], first.data["createdAt"]);
  EXPECT_EQ(people.Get("ada").data, replaced.data);
  // Merging (the default) keeps what the patch does not name.
  Record merged = people.Update("ada", {{"age", 40}});
  EXPECT_EQ(merged.data["name"], "Ada L");
  EXPECT_EQ(merged.data["age"], 40);
  // With a stale ETag nothing is replaced.
  replace.if_match = first.etag;
  EXPECT_THROW(people.Update("ada", {{"name", "Old"}}, replace), PreconditionFailed);
  EXPECT_EQ(people.Get("ada").data["age"], 40);
  // A replacement is validated as a whole record.
  UpdateOptions unguarded;
  unguarded.replace = true;
  EXPECT_THROW(people.Update("ada", {{"age", 1}}, unguarded), ValidationError);
}

TEST_P(ResourceServeOptionsTest, DeleteWithIfMatchDeletesOnlyAtThatEtag) {
  // Without and with partitions: the delete takes a different path for each.
  for (bool partitioned : {false, true}) {
    ResourceDefinition def = ServeOptionsPeople(false);
    def.name = partitioned ? "partitioned" : "plain";
    if (partitioned) def.partitions = Json::parse(R"({"byCity": {"fields": {"city": "string"}}})");
    Resource& people = db_->CreateResource(def);
    Record first = people.Insert({{"id", "bo"}, {"name", "Bo"}, {"city", "Oslo"}});
    Record second = people.Update("bo", {{"age", 3}});
    DeleteOptions stale;
    stale.if_match = first.etag;
    EXPECT_THROW(people.Delete("bo", stale), PreconditionFailed) << def.name;
    EXPECT_TRUE(people.Exists("bo")) << def.name;
    DeleteOptions fresh;
    fresh.if_match = second.etag;
    people.Delete("bo", fresh);
    EXPECT_FALSE(people.Exists("bo")) << def.name;
    EXPECT_THROW(people.Delete("bo", fresh), NotFound) << def.name;
  }
}

TEST_P(ResourceServeOptionsTest, StartAfterListsFromTheNextIdOn) {
  ResourceDefinition def = ServeOptionsPeople(false);
  def.partitions = Json::parse(R"({"byCity": {"fields": {"city": "string"}}})");
  Resource& people = db_->CreateResource(def);
  for (const char* id : {"a", "b", "c", "d", "e"}) people.Insert({{"id", id}, {"name", id}, {"city", "Oslo"}});
  ListOptions after_b;
  after_b.start_after = "b";
  EXPECT_EQ(people.ListIds(after_b), (std::vector<std::string>{"c", "d", "e"}));
  after_b.limit = 2;
  std::vector<std::string> listed;
  for (const Record& record : people.List(after_b)) listed.push_back(record.id);
  EXPECT_EQ(listed, (std::vector<std::string>{"c", "d"}));
  after_b.offset = 1;
  EXPECT_EQ(people.ListIds(after_b), (std::vector<std::string>{"d", "e"}));
  ListOptions after_last;
  after_last.start_after = "e";
  EXPECT_TRUE(people.ListIds(after_last).empty());
  ListOptions before_all;
  before_all.start_after = "0";  // not an id: listing starts at the first key after it
  EXPECT_EQ(people.Count(before_all), 5u);
  ListOptions in_partition;
  in_partition.start_after = "b";
  in_partition.partition = "byCity";
  in_partition.partition_values = {{"city", "Oslo"}};
  EXPECT_THROW(people.ListIds(in_partition), InvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceServeOptionsTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
