// Resource behaviour on every local backend (memory and file), through the public API.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "s3db/database.h"
#include "support/counting_store.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

ResourceDefinition Users() {
  ResourceDefinition def;
  def.name = "users";
  def.attributes = Json::parse(R"({
    "name": "string|min:2|max:100",
    "email": "email",
    "age": "number|integer|positive|optional",
    "active": "boolean|default:true",
    "tags": "array|items:string|optional",
    "bio": "string|optional",
    "extra": "object|optional",
    "address": {"city": "string", "country": "string", "zip": "string|optional"}
  })");
  return def;
}

Json Ada() {
  return Json::parse(R"({"id": "ada", "name": "Ada Lovelace", "email": "ada@example.com", "age": 36,
                         "tags": ["math", "a|b"], "address": {"city": "London", "country": "UK"}})");
}

class ResourceTest : public ::testing::TestWithParam<Backend> {
 protected:
  StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
  Resource& users_ = db_->CreateResource(Users());
};

TEST_P(ResourceTest, InsertGetRoundTripWithDefaultsAndMeta) {
  Record inserted = users_.Insert(Ada());
  EXPECT_EQ(inserted.id, "ada");
  EXPECT_EQ(inserted.data["active"], true);  // default applied
  EXPECT_FALSE(inserted.etag.empty());
  Record got = users_.Get("ada");
  EXPECT_EQ(got.data, inserted.data);
  EXPECT_EQ(got.etag, inserted.etag);
  EXPECT_EQ(got.schema_version, 1);
  EXPECT_GT(got.last_modified_ms, 0);
  EXPECT_FALSE(got.data.contains("id"));
  EXPECT_EQ(got.ToJson()["id"], "ada");
  EXPECT_TRUE(got.ToJson(true).contains("_etag"));
}

TEST_P(ResourceTest, InsertFromACopyLeavesTheCallersDataAndMatchesAMovedOne) {
  const Json given = Ada();
  Json kept = given;
  Record from_copy = users_.Insert(kept);
  EXPECT_EQ(kept, given);  // the const& overload works on its own copy: id, no defaults added
  Json moved = Ada();
  moved["id"] = "ada2";
  Record from_move = users_.Insert(std::move(moved));
  EXPECT_EQ(from_move.id, "ada2");
  EXPECT_EQ(from_move.data, from_copy.data);
  EXPECT_EQ(users_.Get("ada2").data, users_.Get("ada").data);
}

TEST_P(ResourceTest, GeneratedIdsAreUniqueAlnum) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Json data = Ada();
    data.erase("id");
    Record r = users_.Insert(data);
    EXPECT_EQ(r.id.size(), 22u);
    for (char c : r.id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
    ids.insert(r.id);
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(users_.Count(), 20u);
}

TEST_P(ResourceTest, InsertNeverOverwrites) {
  users_.Insert(Ada());
  Json other = Ada();
  other["name"] = "Impostor";
  EXPECT_THROW(users_.Insert(other), AlreadyExists);
  EXPECT_EQ(users_.Get("ada").data["name"], "Ada Lovelace");
}

TEST_P(ResourceTest, ValidationReportsEveryFieldAndWritesNothing) {
  Json bad = Json::parse(R"({"id": "x", "name": "A", "email": "nope", "age": -3.5,
                             "address": {"city": 7}, "unknown": 1})");
  try {
    users_.Insert(bad);
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    std::set<std::string> paths;
    for (const auto& f : e.fields()) paths.insert(f.path + ":" + f.rule);
    EXPECT_TRUE(paths.count("name:min"));
    EXPECT_TRUE(paths.count("email:type"));
    EXPECT_TRUE(paths.count("age:integer"));
    EXPECT_TRUE(paths.count("age:positive"));
    EXPECT_TRUE(paths.count("address.city:type"));
    EXPECT_TRUE(paths.count("address.country:required"));
    EXPECT_TRUE(paths.count("unknown:unknown"));
    EXPECT_EQ(e.resource(), "users");
    EXPECT_NE(std::string(e.what()).find("users"), std::string::npos);
  }
  EXPECT_FALSE(users_.Exists("x"));
  EXPECT_EQ(users_.Count(), 0u);
}

TEST_P(ResourceTest, BadIdsAreRejectedBeforeAnyWrite) {
  for (std::string id : {std::string(""), std::string("a/b"), std::string(".."), std::string("."),
                         std::string("tab\there"), std::string(300, 'x')}) {
    Json data = Ada();
    data["id"] = id;
    EXPECT_THROW(users_.Insert(data), InvalidArgument) << id;
  }
  Json numeric = Ada();
  numeric["id"] = 5;
  EXPECT_THROW(users_.Insert(numeric), InvalidArgument);
  EXPECT_EQ(users_.Count(), 0u);
}

// An id that is not a string is named by its kind and a short quote, never copied whole.
TEST_P(ResourceTest, ANonStringIdIsQuotedShortInTheError) {
  Json data = Ada();
  data["id"] = Json::array();
  for (int i = 0; i < 100000; ++i) data["id"].push_back("element-" + std::to_string(i));
  try {
    users_.Insert(data);
    FAIL() << "an array id was accepted";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("the id must be a string, got an array, [\"element-0\""), std::string::npos) << message;
    EXPECT_LT(message.size(), 200u) << message.substr(0, 300);
  }
  EXPECT_EQ(users_.Count(), 0u);
}

TEST_P(ResourceTest, UnusualIdsRoundTrip) {
  for (std::string id : {"with space", "ünïcødé-日本", "100%", "a=b&c", "-starts-with-dash", "~tilde"}) {
    Json data = Ada();
    data["id"] = id;
    users_.Insert(data);
    EXPECT_EQ(users_.Get(id).id, id);
  }
  auto ids = users_.ListIds();
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).count("ünïcødé-日本"), 1u);
}

TEST_P(ResourceTest, UpdateMergesNestedAndKeepsTheRest) {
  users_.Insert(Ada());
  Record updated = users_.Update("ada", Json::parse(R"({"age": 37, "address": {"zip": "N1"}})"));
  EXPECT_EQ(updated.data["age"], 37);
  EXPECT_EQ(updated.data["address"]["city"], "London");
  EXPECT_EQ(updated.data["address"]["zip"], "N1");
  EXPECT_EQ(updated.data["name"], "Ada Lovelace");
  EXPECT_EQ(users_.Get("ada").data, updated.data);
  EXPECT_THROW(users_.Update("nobody", Json{{"age", 1}}), NotFound);
  EXPECT_THROW(users_.Update("ada", Json{{"age", "old"}}), ValidationError);
  EXPECT_EQ(users_.Get("ada").data["age"], 37);
}

TEST_P(ResourceTest, UpdateWithStaleEtagFails) {
  Record first = users_.Insert(Ada());
  users_.Update("ada", Json{{"age", 40}});
  UpdateOptions stale;
  stale.if_match = first.etag;
  EXPECT_THROW(users_.Update("ada", Json{{"age", 41}}, stale), PreconditionFailed);
  UpdateOptions fresh;
  fresh.if_match = users_.Get("ada").etag;
  EXPECT_EQ(users_.Update("ada", Json{{"age", 42}}, fresh).data["age"], 42);
}

TEST_P(ResourceTest, EveryWriteChangesTheEtagEvenWithEqualData) {
  Record a = users_.Insert(Ada());
  Record b = users_.Update("ada", Json::object());
  Record c = users_.Update("ada", Json::object());
  EXPECT_NE(a.etag, b.etag);
  EXPECT_NE(b.etag, c.etag);
}

TEST_P(ResourceTest, ConcurrentUpdatersLoseNothing) {
  Json data = Ada();
  data["age"] = 1;
  users_.Insert(data);
  constexpr int kThreads = 8, kIncrements = 25;  // issue 4: exactly 200 on every backend
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      // Each thread is its own Database, as another process would be.
      auto db = stores_.Connect();
      Resource& users = db->resource("users");
      for (int i = 0; i < kIncrements; ++i) {
        UpdateOptions options;
        while (true) {
          Record current = users.Get("ada");
          options.if_match = current.etag;
          try {
            users.Update("ada", Json{{"age", current.data["age"].get<int>() + 1}}, options);
            break;
          } catch (const PreconditionFailed&) {
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(users_.Get("ada").data["age"], 1 + kThreads * kIncrements);
}

TEST_P(ResourceTest, TwoWritersInsertingOneIdGiveOneSuccess) {
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        auto db = stores_.Connect();  // each writer its own connection, as two processes
        Json data = Ada();
        data["id"] = "race-" + std::to_string(round);
        data["name"] = "Writer " + std::to_string(w);
        try {
          db->resource("users").Insert(data);
          won++;
        } catch (const AlreadyExists&) {
          lost++;
        }
      });
    }
    for (auto& t : writers) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 1);
  }
}

TEST_P(ResourceTest, ConcurrentPlainUpdatesOfDifferentFieldsAllLand) {
  Json data = Ada();
  data["extra"] = Json::object();
  users_.Insert(data);
  constexpr int kThreads = 6;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto db = stores_.Connect();
      db->resource("users").Update("ada", Json{{"extra", {{"k" + std::to_string(t), t}}}});
    });
  }
  for (auto& t : threads) t.join();
  Json extra = users_.Get("ada").data["extra"];
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(extra["k" + std::to_string(t)], t) << extra.dump();
}

TEST_P(ResourceTest, UpsertInsertsThenUpdates) {
  Json data = Ada();
  data.erase("id");
  Record inserted = users_.Upsert("ada", data);
  EXPECT_EQ(inserted.data["name"], "Ada Lovelace");
  Record updated = users_.Upsert("ada", Json{{"age", 50}});
  EXPECT_EQ(updated.data["age"], 50);
  EXPECT_EQ(updated.data["name"], "Ada Lovelace");
  EXPECT_EQ(users_.Count(), 1u);
}

TEST_P(ResourceTest, DeleteAndExists) {
  users_.Insert(Ada());
  EXPECT_TRUE(users_.Exists("ada"));
  users_.Delete("ada");
  EXPECT_FALSE(users_.Exists("ada"));
  EXPECT_FALSE(users_.TryGet("ada").has_value());
  EXPECT_THROW(users_.Get("ada"), NotFound);
  EXPECT_THROW(users_.Delete("ada"), NotFound);
}

TEST_P(ResourceTest, BulkOperationsReportPerItem) {
  Json existing = Ada();
  existing["id"] = "pre";
  users_.Insert(existing);
  std::vector<Json> items;
  for (int i = 0; i < 30; ++i) {
    Json d = Ada();
    d["id"] = "u" + std::to_string(100 + i);
    items.push_back(d);
  }
  items.push_back(Json{{"id", "bad"}, {"name", "x"}});  // invalid
  items.push_back(existing);                            // id taken before the batch
  InsertManyResult inserted = users_.InsertMany(items);
  EXPECT_EQ(inserted.inserted.size(), 30u);
  ASSERT_EQ(inserted.errors.size(), 2u);
  EXPECT_EQ(inserted.errors[0].index, 30u);
  EXPECT_EQ(inserted.errors[0].code, ErrorCode::kValidation);
  EXPECT_EQ(inserted.errors[1].code, ErrorCode::kAlreadyExists);

  GetManyResult got = users_.GetMany({"u100", "nope", "u129"});
  EXPECT_EQ(got.records.size(), 2u);
  EXPECT_EQ(got.missing, std::vector<std::string>{"nope"});

  EXPECT_EQ(users_.GetAll().size(), 31u);
  DeleteRecordsResult deleted = users_.DeleteMany({"u100", "u101", "ghost"});
  EXPECT_EQ(deleted.deleted.size(), 2u);
  EXPECT_EQ(deleted.missing, std::vector<std::string>{"ghost"});
  EXPECT_EQ(users_.DeleteAll(), 29u);
  EXPECT_EQ(users_.Count(), 0u);
}

TEST_P(ResourceTest, ListPageAndQuery) {
  const char* countries[] = {"UK", "PT", "UK", "BR", "PT"};
  for (int i = 0; i < 25; ++i) {
    Json d = Ada();
    d["id"] = "id" + std::to_string(10 + i);
    d["address"]["country"] = countries[i % 5];
    d["active"] = i % 2 == 0;
    users_.Insert(d);
  }
  auto ids = users_.ListIds();
  ASSERT_EQ(ids.size(), 25u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  ListOptions window;
  window.offset = 5;
  window.limit = 3;
  EXPECT_EQ(users_.ListIds(window), (std::vector<std::string>{ids[5], ids[6], ids[7]}));
  EXPECT_EQ(users_.List(window).size(), 3u);

  PageOptions page_options;
  page_options.offset = 20;
  page_options.size = 10;
  PageResult page = users_.Page(page_options);
  EXPECT_EQ(page.items.size(), 5u);
  EXPECT_EQ(page.total_items, 25u);
  EXPECT_EQ(page.total_pages, 3u);
  EXPECT_EQ(page.page, 2u);
  page_options.skip_count = true;
  PageResult fast = users_.Page(page_options);
  EXPECT_EQ(fast.items.size(), 5u);
  EXPECT_FALSE(fast.total_items.has_value());

  auto uk = users_.Query(Json{{"address.country", "UK"}});
  EXPECT_EQ(uk.size(), 10u);
  for (const auto& r : uk) EXPECT_EQ(r.data["address"]["country"], "UK");
  auto uk_active = users_.Query(Json{{"address.country", "UK"}, {"active", true}});
  EXPECT_EQ(uk_active.size(), 6u);  // i%5 in {0,2} and i even: 0,2,10,12,20,22
  ListOptions limited;
  limited.limit = 2;
  EXPECT_EQ(users_.Query(Json{{"address.country", "PT"}}, limited).size(), 2u);
  EXPECT_TRUE(users_.Query(Json{{"address.country", "XX"}}).empty());
}

TEST_P(ResourceTest, TrickyValuesRoundTripExactly) {
  Json d = Ada();
  d["name"] = "  spaced | pipes = equals % 日本語 😀 \t\n ";
  d["bio"] = "null";
  d["tags"] = Json::array();
  d["extra"] =
      Json::parse(R"({"n": null, "e": {}, "a": [], "f": 1.0, "i": 1, "s": "1", "deep": {"x": [null, {"y": "é"}]}})");
  users_.Insert(d);
  Record got = users_.Get("ada");
  d.erase("id");
  d["active"] = true;
  EXPECT_EQ(got.data.dump(), d.dump());
  EXPECT_TRUE(got.data["extra"]["f"].is_number_float());
  EXPECT_TRUE(got.data["extra"]["i"].is_number_integer());
}

TEST_P(ResourceTest, LargeRecordsOverflowToTheBodyAndNothingIsLost) {
  Json d = Ada();
  d["bio"] = std::string(5000, 'x') + "é";
  Record inserted = users_.Insert(d);
  EXPECT_EQ(users_.Get("ada").data["bio"], d["bio"]);
  Record shrunk = users_.Update("ada", Json{{"bio", "short"}});
  EXPECT_EQ(users_.Get("ada").data["bio"], "short");
  (void)inserted;
  (void)shrunk;
}

TEST_P(ResourceTest, EnforceLimitsRejectsBeforeWriting) {
  ResourceDefinition def;
  def.name = "strict";
  def.behavior = "enforce-limits";
  def.attributes = Json{{"text", "string"}};
  Resource& strict = db_->CreateResource(def);
  EXPECT_THROW(strict.Insert(Json{{"id", "big"}, {"text", std::string(3000, 'a')}}), MetadataTooLarge);
  EXPECT_FALSE(strict.Exists("big"));
  strict.Insert(Json{{"id", "small"}, {"text", "fine"}});
  EXPECT_EQ(strict.Get("small").data["text"], "fine");
}

TEST_P(ResourceTest, ValidateChecksAsInsertWouldWithoutARequest) {
  // A counting store under a database of its own: Validate must not reach the store at all.
  auto counts = std::make_shared<testing::RequestCounts>();
  std::unique_ptr<Database> counted =
      Database::Open(std::make_unique<testing::CountingStore>(stores_.Open(), counts), "validate");
  ResourceDefinition def = Users();
  def.name = "checked";
  def.timestamps = true;
  def.attributes["handle"] = "string|unique|optional";
  Resource& checked = counted->CreateResource(def);
  counts->Clear();

  const ValidatedRecord ok = checked.Validate(Json::parse(
      R"({"id": "ada", "name": "Ada", "email": "ada@example.com", "handle": "countess",
          "address": {"city": "London", "country": "UK"}})"));
  EXPECT_EQ(ok.id, "ada");
  EXPECT_FALSE(ok.data.contains("id"));
  EXPECT_EQ(ok.data["active"], true);  // the default Insert would store
  EXPECT_TRUE(ok.data.contains("createdAt"));
  ASSERT_EQ(ok.unique_values.size(), 1u);
  EXPECT_EQ(ok.unique_values[0].first, "handle");
  EXPECT_EQ(ok.unique_values[0].second, "countess");
  // No id given: Insert would draw one, so none is reported.
  EXPECT_TRUE(checked
                  .Validate(Json::parse(R"({"name": "Bo", "email": "bo@example.com",
                                               "address": {"city": "a", "country": "b"}})"))
                  .id.empty());

  try {
    checked.Validate(Json::parse(R"({"name": "A", "email": "nope"})"));
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    std::set<std::string> paths;
    for (const auto& f : e.fields()) paths.insert(f.path);
    EXPECT_TRUE(paths.count("name") && paths.count("email") && paths.count("address")) << e.what();
    // The message names every failing field too.
    for (const std::string field : {"name", "email", "address"}) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(checked.Validate(Json::parse(R"({"id": "a/b", "name": "Ada", "email": "a@b.co",
                                                "address": {"city": "a", "country": "b"}})")),
               InvalidArgument);
  EXPECT_THROW(checked.Validate(Json::array()), InvalidArgument);
  for (const auto& [kind, n] : counts->by_kind) EXPECT_EQ(n, 0u) << kind;

  // The metadata budget, as enforce-limits spends it.
  ResourceDefinition strict_def;
  strict_def.name = "strict";
  strict_def.behavior = "enforce-limits";
  strict_def.attributes = Json{{"text", "string"}};
  Resource& strict = counted->CreateResource(strict_def);
  counts->Clear();
  EXPECT_THROW(strict.Validate(Json{{"text", std::string(3000, 'a')}}), MetadataTooLarge);
  EXPECT_NO_THROW(strict.Validate(Json{{"text", "fine"}}));
  for (const auto& [kind, n] : counts->by_kind) EXPECT_EQ(n, 0u) << kind;
}

TEST_P(ResourceTest, BodyOnlyKeepsFieldsInTheBody) {
  ResourceDefinition def;
  def.name = "notes";
  def.behavior = "body-only";
  def.attributes = Json{{"text", "string"}, {"n", "number"}};
  Resource& notes = db_->CreateResource(def);
  notes.Insert(Json{{"id", "a"}, {"text", "hello"}, {"n", 3}});
  auto raw = db_->store().Get("db/resource=notes/data/id=a");
  ASSERT_TRUE(raw.ok());
  for (const auto& [k, v] : raw->info.metadata) EXPECT_EQ(k[0], '_') << k;
  EXPECT_EQ(notes.Get("a").data, (Json{{"text", "hello"}, {"n", 3}}));
}

TEST_P(ResourceTest, TimestampsAreSetAndKept) {
  ResourceDefinition def;
  def.name = "events";
  def.timestamps = true;
  def.attributes = Json{{"kind", "string"}};
  Resource& events = db_->CreateResource(def);
  Record r = events.Insert(Json{{"id", "e1"}, {"kind", "click"}});
  ASSERT_TRUE(r.data["createdAt"].is_string());
  EXPECT_EQ(r.data["createdAt"], r.data["updatedAt"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Record u = events.Update("e1", Json{{"kind", "tap"}});
  EXPECT_EQ(u.data["createdAt"], r.data["createdAt"]);
  EXPECT_NE(u.data["updatedAt"], r.data["updatedAt"]);
  EXPECT_EQ(events.Get("e1").data, u.data);
}

// The seeds write option objects with only the members they need; so do designated
// initializers, and with -Wextra -Werror (the project's build) this file fails to compile if
// a public option struct has a member without a default that one leaves out.
TEST_P(ResourceTest, OptionStructsTakeDesignatedInitializersOfAnyMember) {
  for (const char* id : {"a", "b", "c"}) {
    Json data = Ada();
    data["id"] = id;
    users_.Insert(data);
  }
  EXPECT_EQ(users_.List({.limit = 2}).size(), 2u);
  EXPECT_EQ(users_.ListIds({.offset = 1}), (std::vector<std::string>{"b", "c"}));
  const PageResult page = users_.Page({.size = 2, .skip_count = true});
  EXPECT_EQ(page.items.size(), 2u);
  EXPECT_FALSE(page.total_items.has_value());
  size_t scanned = 0;
  for (const Record& r : users_.Scan({.prefetch = 1})) scanned += r.data["name"] == "Ada Lovelace";
  EXPECT_EQ(scanned, 3u);
  const std::string etag = users_.Get("a").etag;
  EXPECT_EQ(users_.Update("a", {{"age", 40}}, {.if_match = etag}).data["age"], 40);
  const CacheOptions cache{.ttl = std::chrono::seconds(3600)};
  EXPECT_EQ(cache.driver, "memory");
  const ResourceDefinition def{.attributes = {{"n", "number"}}};
  EXPECT_TRUE(def.name.empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
