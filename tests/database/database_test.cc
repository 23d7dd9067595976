// Database and catalog behaviour on every local backend.
#include <gtest/gtest.h>

#include <thread>

#include "s3db/database.h"
#include "s3db/stores.h"
#include "support/definitions.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  StoreFactory stores_{GetParam()};
};

TEST_P(DatabaseTest, ConnectWritesNothingUntilFirstResource) {
  auto db = stores_.Connect();
  EXPECT_TRUE(db->ResourceNames().empty());
  ListRequest all;
  auto page = db->store().List(all);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  db->CreateResource(Def("users", {{"name", "string"}}));
  EXPECT_TRUE(db->store().Head("db/s3db.json").ok());
}

TEST_P(DatabaseTest, CatalogSurvivesReconnect) {
  {
    auto db = stores_.Connect();
    db->CreateResource(Def("users", {{"name", "string"}})).Insert({{"id", "a"}, {"name", "Ada"}});
  }
  auto db = stores_.Connect();
  EXPECT_EQ(db->ResourceNames(), std::vector<std::string>{"users"});
  EXPECT_EQ(db->resource("users").Get("a").data["name"], "Ada");
  EXPECT_TRUE(db->ResourceExists("users"));
  EXPECT_FALSE(db->ResourceExists("nope"));
  EXPECT_THROW(db->resource("nope"), NotFound);
}

TEST_P(DatabaseTest, CreateTwiceIsAlreadyExists) {
  auto db = stores_.Connect();
  db->CreateResource(Def("users", {{"name", "string"}}));
  EXPECT_THROW(db->CreateResource(Def("users", {{"name", "string"}})), AlreadyExists);
}

TEST_P(DatabaseTest, BadDefinitionsAreRejected) {
  auto db = stores_.Connect();
  EXPECT_THROW(db->CreateResource(Def("users", {{"name", "strin"}})), InvalidSchema);
  EXPECT_THROW(db->CreateResource(Def("users", {{"name", "string|frobnicate"}})), InvalidSchema);
  EXPECT_THROW(db->CreateResource(Def("users", {{"age", "number|min:abc"}})), InvalidSchema);
  // "id" may be declared (the seeds do: id: ["string", "number"]), but only as an id can be.
  EXPECT_THROW(db->CreateResource(Def("users", {{"id", "boolean"}})), InvalidSchema);
  EXPECT_THROW(db->CreateResource(Def("users", {{"id", "string|default:x"}})), InvalidSchema);
  EXPECT_THROW(db->CreateResource(Def("bad/name", {{"name", "string"}})), InvalidArgument);
  ResourceDefinition def = Def("users", {{"name", "string"}});
  def.behavior = "whatever";
  EXPECT_THROW(db->CreateResource(def), InvalidSchema);
  try {
    db->CreateResource(Def("users", {{"profile", {{"city", "strin"}}}}));
  } catch (const InvalidSchema& e) {
    EXPECT_NE(std::string(e.what()).find("profile.city"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(db->ResourceNames().empty());
}

TEST_P(DatabaseTest, CreateIfNotExistsByDefinitionHash) {
  auto db = stores_.Connect();
  auto first = db->CreateResourceIfNotExists(Def("users", {{"name", "string"}}));
  EXPECT_TRUE(first.created);
  auto again = db->CreateResourceIfNotExists(Def("users", {{"name", "string"}}));
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.reason, "exists with the same definition");
  EXPECT_EQ(again.resource, first.resource);
  EXPECT_EQ(first.resource->version(), 1);
}

TEST_P(DatabaseTest, NewVersionKeepsOldRecordsReadable) {
  auto db = stores_.Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}, {"nick", "string|optional"}}));
  users.Insert({{"id", "old"}, {"name", "Ada"}, {"nick", "countess"}});
  auto changed = db->CreateResourceIfNotExists(Def("users", {{"name", "string"}, {"age", "number|optional"}}));
  EXPECT_FALSE(changed.created);
  EXPECT_EQ(users.version(), 2);
  Record old = users.Get("old");
  EXPECT_EQ(old.schema_version, 1);
  EXPECT_EQ(old.data["nick"], "countess");
  users.Insert({{"id", "new"}, {"name", "Bob"}, {"age", 3}});
  Record fresh = users.Get("new");
  EXPECT_EQ(fresh.schema_version, 2);
  EXPECT_EQ(fresh.data["age"], 3);
  // The removed attribute's key is burned: "age" did not take "nick"'s index.
  auto catalog = db->store().Get("db/s3db.json");
  ASSERT_TRUE(catalog.ok());
  Json doc = Json::parse(catalog->body);
  const Json& registry = doc["resources"]["users"]["registry"];
  EXPECT_EQ(registry["mapping"]["age"], 2);
  EXPECT_EQ(registry["burned"][0]["path"], "nick");
  // A second process sees version 2 and still reads version-1 records.
  auto other = stores_.Connect();
  EXPECT_EQ(other->resource("users").Get("old").data["nick"], "countess");
}

TEST_P(DatabaseTest, ConcurrentCreatorsAllSucceed) {
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto db = stores_.Connect();
        db->CreateResource(Def("r" + std::to_string(t), {{"name", "string"}}));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stores_.Connect()->ResourceNames().size(), static_cast<size_t>(kThreads));
}

TEST_P(DatabaseTest, ResourceCreatedElsewhereIsFound) {
  auto a = stores_.Connect();
  auto b = stores_.Connect();
  a->CreateResource(Def("users", {{"name", "string"}})).Insert({{"id", "x"}, {"name", "X"}});
  EXPECT_EQ(b->resource("users").Get("x").data["name"], "X");
}

TEST_P(DatabaseTest, DropRemovesRecordsAndCatalogEntry) {
  auto db = stores_.Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}}));
  for (int i = 0; i < 5; ++i) users.Insert({{"name", "n"}});
  db->CreateResource(Def("users2", {{"name", "string"}})).Insert({{"id", "keep"}, {"name", "k"}});
  db->DropResource("users");
  EXPECT_FALSE(db->ResourceExists("users"));
  EXPECT_THROW(db->DropResource("users"), NotFound);
  EXPECT_EQ(db->resource("users2").Count(), 1u);  // the "users" prefix never matched "users2"
  Resource& again = db->CreateResource(Def("users", {{"title", "string"}}));
  EXPECT_EQ(again.Count(), 0u);
}

TEST_P(DatabaseTest, CorruptCatalogIsReportedAtConnect) {
  auto store = stores_.Open();
  PutRequest put;
  put.key = "db/s3db.json";
  put.body = "{not json";
  ASSERT_TRUE(store->Put(put).ok());
  EXPECT_THROW(stores_.Connect(), Corruption);
}

TEST_P(DatabaseTest, TamperedRecordIsCorruptionNotGarbage) {
  auto db = stores_.Connect();
  db->CreateResource(Def("users", {{"name", "string"}})).Insert({{"id", "a"}, {"name", "Ada"}});
  auto raw = db->store().Get("db/resource=users/data/id=a");
  ASSERT_TRUE(raw.ok());
  PutRequest put;
  put.key = "db/resource=users/data/id=a";
  put.metadata = raw->info.metadata;
  put.metadata["0"] = "q???";  // unknown value tag
  put.body = raw->body;
  ASSERT_TRUE(db->store().Put(put).ok());
  EXPECT_THROW(db->resource("users").Get("a"), Corruption);
}

TEST_P(DatabaseTest, ClearEmptiesTheDatabaseAndALiveDatabaseGoesOn) {
  // The seeds reset with `db.client.clear()` between tests; the Database in use must agree.
  auto db = stores_.Connect();
  ResourceDefinition def = Def("users", {{"name", "string"}, {"email", "email|unique"}, {"team", "string"}});
  def.partitions = Json::parse(R"({"byTeam": {"fields": {"team": "string"}}})");
  int hook_runs = 0;
  HookSet hooks;
  hooks.pre_insert.push_back([&](Json&) { ++hook_runs; });
  Resource& users = db->CreateResource(def, hooks);
  for (int i = 0; i < 12; ++i) {
    users.Insert({{"id", "u" + std::to_string(i)},
                  {"name", "n"},
                  {"email", "u" + std::to_string(i) + "@x.io"},
                  {"team", i % 2 ? "red" : "blue"}});
  }
  db->CreateResource(Def("notes", {{"title", "string"}})).Insert({{"id", "n1"}, {"title", "t"}});
  ASSERT_EQ(hook_runs, 12);
  auto store = stores_.Open();  // a second view of the same bucket
  PutRequest stray;
  stray.key = "db/left-by-someone/x";
  stray.body = "x";
  ASSERT_TRUE(store->Put(stray).ok());
  PutRequest outside = stray;
  outside.key = "dbx/not-ours";  // shares the characters, not the prefix
  ASSERT_TRUE(store->Put(outside).ok());

  db->Clear();

  ListRequest ours;
  ours.prefix = "db/";
  auto page = store->List(ours);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty()) << page->objects.front().key;
  EXPECT_TRUE(store->Head("dbx/not-ours").ok());
  EXPECT_TRUE(db->ResourceNames().empty());
  EXPECT_FALSE(db->ResourceExists("users"));
  EXPECT_THROW(users.Get("u1"), NotFound);
  EXPECT_THROW(users.Insert({{"name", "n"}, {"email", "a@x.io"}, {"team", "red"}}), NotFound);
  EXPECT_THROW(db->resource("users"), NotFound);

  // Created again, the name starts empty: no old records, unique values free, no old hooks.
  Resource& again = db->CreateResource(def);
  EXPECT_EQ(again.Count(), 0u);
  again.Insert({{"id", "u1"}, {"name", "back"}, {"email", "u1@x.io"}, {"team", "red"}});
  EXPECT_EQ(hook_runs, 12);
  EXPECT_EQ(again.Count(), 1u);
  ListOptions red;
  red.partition = "byTeam";
  red.partition_values = Json{{"team", "red"}};
  EXPECT_EQ(again.ListIds(red), std::vector<std::string>{"u1"});
  // The old reference works again too: it names the same resource.
  EXPECT_EQ(users.Get("u1").data["name"], "back");
  // Another connection sees only the new state.
  auto other = stores_.Connect();
  EXPECT_EQ(other->ResourceNames(), std::vector<std::string>{"users"});
  EXPECT_EQ(other->resource("users").Count(), 1u);
  // Clearing an empty database is fine, twice.
  db->Clear();
  db->Clear();
  EXPECT_TRUE(db->ResourceNames().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

TEST(DatabaseConnect, BadUrisAndOptionsAreInvalidArgument) {
  DatabaseOptions options;
  options.uri = "ftp://nowhere";
  EXPECT_THROW(Database::Connect(options), InvalidArgument);
  options.uri = "memory://ok";
  options.metadata_budget = 5000;
  EXPECT_THROW(Database::Connect(options), InvalidArgument);
}

TEST(DatabaseConnect, S3SecretNeverAppearsInErrors) {
  DatabaseOptions options;
  options.uri = "s3://AKIAEXAMPLE:topsecretvalue@my-bucket/prefix";
  try {
    Database::Connect(options);
    FAIL() << "the S3 store is not built yet";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("topsecretvalue"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace s3db
