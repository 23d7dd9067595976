// The s3db.js README's "API Reference" examples (Database Operations, Resource Operations,
// Bulk Operations), ported to our API. Each test names the seed section it ports
// (docs/SEEDS.md) and asserts what the seed says the call returns or does, on every backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "seeds/seeds_core_fixture.h"
#include "support/definitions.h"

namespace s3db {
namespace {

using seeds::IdsOf;
using seeds::SeedsTest;
using testing::Def;

ResourceDefinition Users() {
  return Def("users", {{"name", "string"}, {"email", "email"}, {"age", "number|optional"}});
}

using SeedsApiTest = SeedsTest;

// Seed "Connect to Database": connect() emits 'connected' when ready.
TEST_P(SeedsApiTest, ConnectToDatabase) {
  DatabaseOptions options;
  std::vector<Json> seen;
  options.listeners.emplace("connected", [&](const Json& e) { seen.push_back(e); });
  auto db = stores_.Connect("api", options);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["prefix"], "api");
  EXPECT_FALSE(seen[0]["store"].get<std::string>().empty());
}

// Seed "Create Resource".
TEST_P(SeedsApiTest, CreateResource) {
  Resource& users = db_->CreateResource(Def("users", {{"name", "string"}, {"email", "email"}}));
  EXPECT_EQ(users.name(), "users");
  EXPECT_EQ(users.version(), 1);
  EXPECT_EQ(db_->ResourceNames(), std::vector<std::string>{"users"});
  EXPECT_THROW(db_->CreateResource(Def("users", {{"name", "string"}})), AlreadyExists);
}

// Seed "Check Resource Existence": resourceExists("users") is true or false.
TEST_P(SeedsApiTest, CheckResourceExistence) {
  EXPECT_FALSE(db_->ResourceExists("users"));
  db_->CreateResource(Users());
  EXPECT_TRUE(db_->ResourceExists("users"));
  EXPECT_TRUE(stores_.Connect()->ResourceExists("users"));  // another connection sees it
}

// Seed "Create Resource If Not Exists": {resource, created, reason}; a second call with the same
// definition returns the existing resource with created false.
TEST_P(SeedsApiTest, CreateResourceIfNotExists) {
  const Json seed = Json::parse(R"({
    "name": "users",
    "attributes": {"name": "string|required", "email": "email|required"},
    "options": {"timestamps": true},
    "behavior": "user-management"
  })");
  const CreateResourceResult result = db_->CreateResourceIfNotExists(ResourceDefinition::FromJson("users", seed));
  ASSERT_NE(result.resource, nullptr);
  EXPECT_TRUE(result.created);
  EXPECT_EQ(result.reason, "New resource created");

  const CreateResourceResult same = db_->CreateResourceIfNotExists(ResourceDefinition::FromJson("users", seed));
  EXPECT_EQ(same.resource, result.resource);  // the existing resource
  EXPECT_FALSE(same.created);
  EXPECT_EQ(same.reason, "Resource already exists with same definition hash");
  EXPECT_EQ(same.resource->version(), 1);

  // The seed's result2 leaves out the options (no timestamps): created is false there too, but
  // that is another definition, so we record it as version 2 of the resource and say so.
  const Json without_options = Json::parse(R"({
    "name": "users",
    "attributes": {"name": "string|required", "email": "email|required"}
  })");
  const CreateResourceResult result2 =
      db_->CreateResourceIfNotExists(ResourceDefinition::FromJson("users", without_options));
  EXPECT_FALSE(result2.created);
  EXPECT_EQ(result2.reason, "Resource already exists with another definition hash: recorded it as version 2");
  EXPECT_EQ(result2.resource->version(), 2);
  EXPECT_FALSE(result2.resource->definition().timestamps);
}

// Seed "Get Resource Reference": s3db.resource("users").
TEST_P(SeedsApiTest, GetResourceReference) {
  Resource& created = db_->CreateResource(Users());
  EXPECT_EQ(&db_->resource("users"), &created);
  auto other = stores_.Connect();  // a connection that has not seen it yet re-reads the catalog
  EXPECT_EQ(other->resource("users").name(), "users");
  EXPECT_THROW(db_->resource("nobody"), NotFound);
}

// Seed "Insert Document": with a custom id, and with a generated one (s3db.js: nanoid).
TEST_P(SeedsApiTest, InsertDocument) {
  Resource& users = db_->CreateResource(Users());
  const Record custom = users.Insert({{"id", "user-123"}, {"name", "John Doe"}, {"email", "john@example.com"}});
  EXPECT_EQ(custom.id, "user-123");
  const Record generated = users.Insert({{"name", "Jane Doe"}, {"email", "jane@example.com"}});
  EXPECT_EQ(generated.id.size(), 22u);
  EXPECT_TRUE(std::all_of(generated.id.begin(), generated.id.end(), [](char c) { return std::isalnum(c) != 0; }));
  EXPECT_EQ(users.Get(generated.id).data["name"], "Jane Doe");
  EXPECT_THROW(users.Insert({{"id", "user-123"}, {"name", "Again"}, {"email", "a@example.com"}}), AlreadyExists);
}

// Seed "Get Document": get("user-123").name is "John Doe".
TEST_P(SeedsApiTest, GetDocument) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "user-123"}, {"name", "John Doe"}, {"email", "john@example.com"}});
  EXPECT_EQ(users.Get("user-123").data["name"], "John Doe");
  try {
    users.Get("user-999");
    FAIL() << "a missing record was found";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
}

// Seed "Update Document": only the fields given change.
TEST_P(SeedsApiTest, UpdateDocument) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "user-123"}, {"name", "John Doe"}, {"email", "john@example.com"}});
  const Record updated = users.Update("user-123", {{"name", "John Smith"}, {"age", 31}});
  const Json expected = {{"name", "John Smith"}, {"email", "john@example.com"}, {"age", 31}};
  EXPECT_EQ(updated.data, expected);
  EXPECT_EQ(users.Get("user-123").data, expected);
}

// Seed "Upsert Document": insert if it does not exist, update if it does.
TEST_P(SeedsApiTest, UpsertDocument) {
  Resource& users = db_->CreateResource(Users());
  users.Upsert("user-123", {{"name", "John Doe"}, {"email", "john@example.com"}, {"age", 30}});
  EXPECT_EQ(users.Get("user-123").data["age"], 30);
  users.Upsert("user-123", {{"name", "John Doe"}, {"email", "john@example.com"}, {"age", 31}});
  EXPECT_EQ(users.Get("user-123").data["age"], 31);
  EXPECT_EQ(users.Count(), 1u);
}

// Seed "Delete Document".
TEST_P(SeedsApiTest, DeleteDocument) {
  Resource& users = db_->CreateResource(Users());
  users.Insert({{"id", "user-123"}, {"name", "John Doe"}, {"email", "john@example.com"}});
  users.Delete("user-123");
  EXPECT_FALSE(users.Exists("user-123"));
  EXPECT_THROW(users.Delete("user-123"), NotFound);
}

// Seed "Count Documents": "Total users: N".
TEST_P(SeedsApiTest, CountDocuments) {
  Resource& users = db_->CreateResource(Users());
  EXPECT_EQ("Total users: " + std::to_string(users.Count()), "Total users: 0");
  for (int i = 0; i < 3; ++i) users.Insert({{"name", "User " + std::to_string(i)}, {"email", "u@example.com"}});
  EXPECT_EQ("Total users: " + std::to_string(users.Count()), "Total users: 3");
}

// Seed "Page Documents" (with "Page Response Structure" and its parameter table): a page of
// items with the total, the page count, the page number (0-based) and its size; with a
// partition; and with skipCount, no totals.
TEST_P(SeedsApiTest, PageDocuments) {
  ResourceDefinition def = Def("users", {{"name", "string"}, {"utm", {{"source", "string"}}}});
  def.partitions = Json::parse(R"({"byUtmSource": {"fields": {"utm.source": "string"}}})");
  Resource& users = db_->CreateResource(def);
  std::vector<Json> batch;
  for (int i = 0; i < 25; ++i) {
    char id[16];
    std::snprintf(id, sizeof(id), "user-%02d", i);
    batch.push_back({{"id", id}, {"name", id}, {"utm", {{"source", i < 7 ? "google" : "bing"}}}});
  }
  ASSERT_TRUE(users.InsertMany(batch).errors.empty());

  const PageOptions defaults;  // the parameter table: offset 0, size 100, skipCount false
  EXPECT_EQ(defaults.offset, 0u);
  EXPECT_EQ(defaults.size, 100u);
  EXPECT_FALSE(defaults.skip_count);
  EXPECT_TRUE(defaults.partition.empty());

  const PageResult page = users.Page({.offset = 0, .size = 10});
  EXPECT_EQ(page.items.size(), 10u);
  EXPECT_EQ(page.items.front().id, "user-00");
  EXPECT_EQ(page.total_items, 25u);
  EXPECT_EQ(page.total_pages, 3u);
  EXPECT_EQ(page.page, 0u);
  EXPECT_EQ(page.page_size, 10u);
  const PageResult third = users.Page({.offset = 20, .size = 10});
  EXPECT_EQ(third.page, 2u);
  EXPECT_EQ(IdsOf(third.items).front(), "user-20");
  EXPECT_EQ(third.items.size(), 5u);

  const PageResult google =
      users.Page({.offset = 0, .size = 5, .partition = "byUtmSource", .partition_values = {{"utm.source", "google"}}});
  EXPECT_EQ(google.items.size(), 5u);
  EXPECT_EQ(google.total_items, 7u);
  EXPECT_EQ(google.total_pages, 2u);
  for (const Record& r : google.items) EXPECT_EQ(r.data["utm"]["source"], "google");

  const PageResult fast = users.Page({.offset = 0, .size = 100, .skip_count = true});
  EXPECT_EQ(fast.items.size(), 25u);
  EXPECT_FALSE(fast.total_items.has_value());  // null (not counted)
  EXPECT_FALSE(fast.total_pages.has_value());  // null (not calculated)
}

// Seed "Bulk Operations": Insert Many, Get Many, Delete Many, Get All, List IDs, Delete All.
TEST_P(SeedsApiTest, BulkOperations) {
  Resource& users = db_->CreateResource(Users());
  // Insert Many (the seed's items get ids here, so that its getMany finds them).
  const InsertManyResult inserted = users.InsertMany({
      {{"id", "user-1"}, {"name", "User 1"}, {"email", "user1@example.com"}},
      {{"id", "user-2"}, {"name", "User 2"}, {"email", "user2@example.com"}},
      {{"id", "user-3"}, {"name", "User 3"}, {"email", "user3@example.com"}},
  });
  EXPECT_EQ(inserted.inserted.size(), 3u);
  EXPECT_TRUE(inserted.errors.empty());
  users.Insert({{"id", "user-4"}, {"name", "User 4"}, {"email", "user4@example.com"}});

  // Get Many
  const GetManyResult some = users.GetMany({"user-1", "user-2", "user-3"});
  EXPECT_EQ(IdsOf(some.records), (std::vector<std::string>{"user-1", "user-2", "user-3"}));
  EXPECT_TRUE(some.missing.empty());
  EXPECT_EQ(some.records[1].data["email"], "user2@example.com");

  // Get All
  EXPECT_EQ(users.GetAll().size(), 4u);
  // List IDs
  EXPECT_EQ(users.ListIds(), (std::vector<std::string>{"user-1", "user-2", "user-3", "user-4"}));

  // Delete Many
  const DeleteRecordsResult removed = users.DeleteMany({"user-1", "user-2", "user-3"});
  EXPECT_EQ(removed.deleted.size(), 3u);
  EXPECT_EQ(users.ListIds(), std::vector<std::string>{"user-4"});

  // Delete All: removes every document.
  users.InsertMany({{{"name", "A"}, {"email", "a@example.com"}}, {{"name", "B"}, {"email", "b@example.com"}}});
  EXPECT_EQ(users.DeleteAll(), 3u);
  EXPECT_EQ(users.Count(), 0u);
  EXPECT_TRUE(db_->ResourceExists("users"));  // the resource itself stays
}

S3DB_SEEDS_ON_EVERY_BACKEND(SeedsApiTest);

}  // namespace
}  // namespace s3db
