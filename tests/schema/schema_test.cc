// The schema as stored: typed values (dates), versions and the field registry, export and
// import, declared ids, and the seeds' largest schemas end to end, on every local backend.
#include <gtest/gtest.h>

#include "format/key_layout.h"
#include "format/value_codec.h"
#include "s3db/database.h"
#include "support/definitions.h"
#include "support/test_stores.h"
#include "util/time_format.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

class SchemaTest : public ::testing::TestWithParam<Backend> {
 protected:
  Metadata Raw(const std::string& resource, const std::string& id) {
    auto got = db_->store().Get("db/resource=" + resource + "/data/id=" + id);
    EXPECT_TRUE(got.ok()) << resource << "/" << id;
    return got.ok() ? got->info.metadata : Metadata{};
  }
  Json Catalog() { return Json::parse(db_->store().Get("db/s3db.json")->body); }

  StoreFactory stores_{GetParam()};
  std::unique_ptr<Database> db_ = stores_.Connect();
};

TEST_P(SchemaTest, DatesAreStoredCompactlyAndReadBackAsIsoText) {
  ResourceDefinition def = Def("logs", {{"message", "string"}, {"at", "date"}, {"days", "array|items:date|optional"}});
  def.timestamps = true;
  Resource& logs = db_->CreateResource(def);
  Record r = logs.Insert(Json::parse(R"({"id": "l1", "message": "User login", "at": "2024-06-27",
                                         "days": ["2024-01-01", "2024-01-02T10:00:00+01:00"]})"));
  EXPECT_EQ(r.data["at"], "2024-06-27T00:00:00.000Z");
  EXPECT_EQ(r.data["days"], Json::parse(R"(["2024-01-01T00:00:00.000Z", "2024-01-02T09:00:00.000Z"])"));
  const Json fields = Catalog()["resources"]["logs"]["versions"]["1"]["fields"];
  const Metadata raw = Raw("logs", "l1");
  const std::string at_key = format::ToBase36(fields["at"].get<uint64_t>());
  EXPECT_EQ(raw.at(at_key), format::EncodeDateMs(*util::ParseIso8601Ms("2024-06-27T00:00:00.000Z")));
  EXPECT_EQ(raw.at(at_key), "Dlxwhzpc0");
  // Timestamps are dates too.
  const std::string created_key = format::ToBase36(fields["createdAt"].get<uint64_t>());
  EXPECT_EQ(raw.at(created_key)[0], 'D');
  EXPECT_LE(raw.at(created_key).size(), 10u);
  Record got = logs.Get("l1");
  EXPECT_EQ(got.data, r.data);
  EXPECT_EQ(got.data["createdAt"].get<std::string>().size(), 24u);
}

TEST_P(SchemaTest, TimestampFieldsMayBeDeclaredAsTheSeedsDo) {
  // The seeds' orders example: createdAt declared as a date beside timestamps:true.
  ResourceDefinition def = Def("orders", {{"total", "number"}, {"createdAt", "date"}});
  def.timestamps = true;
  def.partitions = Json{{"byDay", {{"fields", {{"createdAt", "date|maxlength:10"}}}}}};
  Resource& orders = db_->CreateResource(def);
  const Record first = orders.Insert({{"id", "o1"}, {"total", 5}});
  const std::string created = first.data.at("createdAt").get<std::string>();
  EXPECT_EQ(created.size(), 24u) << created;  // ISO 8601 with milliseconds, set by timestamps
  EXPECT_TRUE(first.data.contains("updatedAt"));
  ListOptions by_day;
  by_day.partition = "byDay";
  by_day.partition_values = {{"createdAt", created.substr(0, 10)}};
  EXPECT_EQ(orders.ListIds(by_day), std::vector<std::string>{"o1"});
  const Record updated = orders.Update("o1", {{"total", 6}});
  EXPECT_EQ(updated.data.at("createdAt"), created);  // kept

  // A declared rule that cannot hold the time timestamps write is refused, naming the field.
  ResourceDefinition bad = Def("bad", {{"createdAt", "number"}});
  bad.timestamps = true;
  try {
    db_->CreateResource(bad);
    FAIL() << "accepted createdAt: number with timestamps";
  } catch (const InvalidSchema& e) {
    EXPECT_NE(std::string(e.what()).find("createdAt"), std::string::npos) << e.what();
  }
}

TEST_P(SchemaTest, RemovedAttributeKeysAreNeverReused) {
  Resource& users = db_->CreateResource(
      Def("users", {{"name", "string"}, {"nick", "string|optional"}, {"address", {{"city", "string|optional"}}}}));
  users.Insert(Json::parse(R"({"id": "v1", "name": "Ada", "nick": "countess", "address": {"city": "London"}})"));
  // v2 drops nick and address.city (address becomes free-form), adds age.
  db_->CreateResourceIfNotExists(
      Def("users", {{"name", "string"}, {"age", "number|optional"}, {"address", "object|optional"}}));
  users.Insert(Json::parse(R"({"id": "v2", "name": "Bob", "age": 3, "address": {"zip": "1"}})"));
  // v3 brings nick and address.city back: both get new indexes, never their burned ones.
  db_->CreateResourceIfNotExists(Def("users", {{"name", "string"},
                                               {"age", "number|optional"},
                                               {"nick", "string|optional"},
                                               {"address", {{"city", "string|optional"}}}}));
  EXPECT_EQ(users.version(), 3);
  users.Insert(Json::parse(R"({"id": "v3", "name": "Cy", "nick": "c", "address": {"city": "Porto"}})"));

  const Json entry = Catalog()["resources"]["users"];
  const Json& registry = entry["registry"];
  std::set<uint64_t> burned;
  for (const auto& b : registry["burned"]) burned.insert(b["index"].get<uint64_t>());
  const Json& v1 = entry["versions"]["1"]["fields"];
  const Json& v3 = entry["versions"]["3"]["fields"];
  EXPECT_TRUE(burned.count(v1["nick"].get<uint64_t>()));
  EXPECT_TRUE(burned.count(v1["address.city"].get<uint64_t>()));
  EXPECT_NE(v3["nick"], v1["nick"]);
  EXPECT_NE(v3["address.city"], v1["address.city"]);
  EXPECT_EQ(v3["name"], v1["name"]);  // kept paths keep their keys
  EXPECT_EQ(v3["address"], v1["address"]);
  std::set<uint64_t> all;
  for (const auto& [path, index] : registry["mapping"].items()) {
    EXPECT_FALSE(burned.count(index.get<uint64_t>())) << path;
    EXPECT_TRUE(all.insert(index.get<uint64_t>()).second) << path;
  }
  EXPECT_EQ(registry["nextIndex"].get<uint64_t>(), all.size() + burned.size());
  // The v3 record's nick sits under its new key, not the burned one.
  const Metadata raw = Raw("users", "v3");
  EXPECT_TRUE(raw.count(format::ToBase36(v3["nick"].get<uint64_t>())));
  EXPECT_FALSE(raw.count(format::ToBase36(v1["nick"].get<uint64_t>())));

  // Every record reads with the version that wrote it, here and in another process.
  auto other = stores_.Connect();
  for (Database* db : {db_.get(), other.get()}) {
    Resource& r = db->resource("users");
    EXPECT_EQ(r.Get("v1").data, Json::parse(R"({"name": "Ada", "nick": "countess", "address": {"city": "London"}})"));
    EXPECT_EQ(r.Get("v1").schema_version, 1);
    EXPECT_EQ(r.Get("v2").data, Json::parse(R"({"name": "Bob", "age": 3, "address": {"zip": "1"}})"));
    EXPECT_EQ(r.Get("v3").data, Json::parse(R"({"name": "Cy", "nick": "c", "address": {"city": "Porto"}})"));
  }
  // An update rewrites a v1 record under v3's registry.
  Record updated = users.Update("v1", Json{{"age", 36}});
  EXPECT_EQ(updated.schema_version, 3);
  EXPECT_EQ(users.Get("v1").data["nick"], "countess");
  EXPECT_TRUE(Raw("users", "v1").count(format::ToBase36(v3["nick"].get<uint64_t>())));
}

TEST_P(SchemaTest, OlderVersionsKeepTheirOwnRules) {
  Resource& items = db_->CreateResource(Def("items", {{"code", "string"}, {"when", "string|optional"}}));
  items.Insert(Json{{"id", "old"}, {"code", "42"}, {"when", "2024-06-27"}});
  db_->CreateResourceIfNotExists(Def("items", {{"code", "number"}, {"when", "date|optional"}}));
  items.Insert(Json{{"id", "new"}, {"code", 42}, {"when", "2024-06-27"}});
  EXPECT_EQ(items.Get("old").data, (Json{{"code", "42"}, {"when", "2024-06-27"}}));  // text stays text
  EXPECT_EQ(items.Get("new").data, (Json{{"code", 42}, {"when", "2024-06-27T00:00:00.000Z"}}));
  // The old record does not fit the new rules; an update says so instead of guessing.
  EXPECT_THROW(items.Update("old", Json::object()), ValidationError);
  EXPECT_EQ(items.Update("old", Json{{"code", 7}}).data["when"], "2024-06-27T00:00:00.000Z");
}

TEST_P(SchemaTest, ExportImportAndTheDefinitionHash) {
  ResourceDefinition def =
      Def("users", Json::parse(R"({"name": "string|min:2", "tags": "array|items:string|optional"})"));
  def.timestamps = true;
  def.behavior = "body-overflow";
  Resource& users = db_->CreateResource(def);
  Json exported = users.ExportSchema();
  EXPECT_EQ(exported["name"], "users");
  EXPECT_EQ(exported["version"], 1);
  EXPECT_EQ(exported["hash"], def.DefinitionHash());
  EXPECT_EQ(exported["behavior"], "body-overflow");
  EXPECT_EQ(exported["timestamps"], true);
  EXPECT_TRUE(exported["fields"].contains("createdAt"));
  EXPECT_EQ(exported["fields"]["name"], "0");

  ResourceDefinition imported = ResourceDefinition::Import(exported);
  EXPECT_EQ(imported.DefinitionHash(), def.DefinitionHash());
  EXPECT_FALSE(db_->CreateResourceIfNotExists(imported).created);
  EXPECT_EQ(users.version(), 1);
  // Into another database: the same resource.
  StoreFactory other(GetParam());
  auto copy = other.Connect();
  copy->CreateResource(imported);
  EXPECT_EQ(copy->resource("users").ExportSchema()["hash"], exported["hash"]);

  // A changed export with its old hash is refused; without the hash it is a new version.
  Json edited = exported;
  edited["attributes"]["age"] = "number|optional";
  EXPECT_THROW(ResourceDefinition::Import(edited), InvalidSchema);
  edited.erase("hash");
  auto result = db_->CreateResourceIfNotExists(ResourceDefinition::Import(edited));
  EXPECT_FALSE(result.created);
  EXPECT_EQ(users.version(), 2);
  EXPECT_NE(users.ExportSchema()["hash"], exported["hash"]);
  EXPECT_EQ(users.ExportSchema()["fields"]["name"], "0");  // a kept field keeps its key

  // The hash ignores how the JSON was written (key order), not what it says.
  ResourceDefinition a = Def("x", Json::parse(R"({"b": "string", "a": {"y": "number", "x": "date"}})"));
  ResourceDefinition b = Def("x", Json::parse(R"({"a": {"x": "date", "y": "number"}, "b": "string"})"));
  EXPECT_EQ(a.DefinitionHash(), b.DefinitionHash());
  b.attributes["b"] = "string|optional";
  EXPECT_NE(a.DefinitionHash(), b.DefinitionHash());
}

TEST_P(SchemaTest, NonStrictObjectsKeepUndeclaredFields) {
  Resource& things = db_->CreateResource(Def("things", Json::parse(R"({
    "meta": {"$$type": "object|strict:false", "kind": "string"},
    "tidy": {"$$type": "object|strict:remove|optional", "kind": "string"}
  })")));
  const Json data = Json::parse(R"({"meta": {"kind": "a", "extra": {"x": [1, null]}, "n": null, "s": "1"},
                                    "tidy": {"kind": "b", "junk": true}})");
  Record r = things.Insert(Json{{"id", "t"}, {"meta", data["meta"]}, {"tidy", data["tidy"]}});
  Json expected = data;
  expected["tidy"].erase("junk");
  EXPECT_EQ(r.data, expected);
  EXPECT_EQ(things.Get("t").data.dump(), expected.dump());
  things.Update("t", Json{{"meta", {{"extra", "replaced"}}}});
  EXPECT_EQ(things.Get("t").data["meta"]["extra"], "replaced");
  EXPECT_EQ(things.Get("t").data["meta"]["kind"], "a");
}

TEST_P(SchemaTest, DeclaredIdsAreCheckedWithTheFields) {
  Resource& users = db_->CreateResource(Def("users", Json::parse(R"({"id": ["string", "number"], "name": "string"})")));
  Record numeric = users.Insert(Json{{"id", 42}, {"name", "n"}});
  EXPECT_EQ(numeric.id, "42");
  EXPECT_EQ(users.Get("42").data["name"], "n");
  EXPECT_FALSE(users.Get("42").data.contains("id"));
  users.Insert(Json{{"id", "user-123"}, {"name", "s"}});
  users.Insert(Json{{"name", "generated"}});  // no id: one is drawn, the rule is not asked
  EXPECT_EQ(users.Count(), 3u);
  try {
    users.Insert(Json{{"id", true}, {"name", 5}});
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    std::set<std::string> failed;
    for (const auto& f : e.fields()) failed.insert(f.path + ":" + f.rule);
    EXPECT_EQ(failed, (std::set<std::string>{"id:type", "name:type"}));
  }
  EXPECT_EQ(users.Count(), 3u);
}

TEST_P(SchemaTest, MultiTypeValuesKeepTheirType) {
  Resource& r =
      db_->CreateResource(Def("mixed", Json::parse(R"({"v": ["string", "number"], "w": ["number", "date"]})")));
  r.Insert(Json{{"id", "s"}, {"v", "1"}, {"w", 1}});
  r.Insert(Json{{"id", "n"}, {"v", 1}, {"w", "2024-01-01"}});
  EXPECT_EQ(r.Get("s").data, (Json{{"v", "1"}, {"w", 1}}));
  EXPECT_EQ(r.Get("n").data, (Json{{"v", 1}, {"w", "2024-01-01T00:00:00.000Z"}}));
}

// The seeds' "complete resource configuration reference": every type and rule at once,
// secrets included, through insert, get and update.
TEST_P(SchemaTest, TheSeedsCompleteReferenceWorksEndToEnd) {
  DatabaseOptions options;
  options.passphrase = "seed passphrase";
  options.kdf_iterations = 1000;
  auto db = stores_.Connect("seeds", options);
  ResourceDefinition def = ResourceDefinition::FromJson("users", Json::parse(R"({
    "attributes": {
      "name": "string|min:2|max:100", "email": "email|unique", "age": "number|integer|positive",
      "isActive": "boolean", "website": "url", "uuid": "uuid", "createdAt": "date",
      "price": "currency|symbol:$", "password": "secret", "apiKey": "secret",
      "address": {"street": "string", "city": "string", "country": "string", "zipCode": "string|optional"},
      "profile": {"bio": "string|max:500|optional", "avatar": "url|optional", "birthDate": "date|optional",
                  "preferences": {"theme": "string|enum:light,dark|default:light",
                                  "language": "string|enum:en,es,fr|default:en",
                                  "notifications": "boolean|default:true"}},
      "contact": {"phone": {"mobile": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional",
                            "work": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional"},
                  "social": {"twitter": "string|optional", "linkedin": "url|optional", "github": "url|optional"}},
      "tags": "array|items:string|unique", "scores": "array|items:number|min:1",
      "id": ["string", "number"],
      "metadata": {"settings": "object|optional", "preferences": "object|optional"},
      "analytics": {"utm": {"source": "string|optional", "medium": "string|optional", "campaign": "string|optional",
                            "term": "string|optional", "content": "string|optional"},
                    "events": "array|items:object|optional", "lastVisit": "date|optional"}
    },
    "options": {"behavior": "body-overflow", "timestamps": false}
  })"));
  Resource& users = db->CreateResource(def);
  const Json input = Json::parse(R"({
    "id": "user-123", "name": "John Doe", "email": "john@example.com", "age": 30, "isActive": true,
    "website": "https://example.com", "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "createdAt": "2024-06-27T12:34:56.789Z", "price": "$1,299.99", "password": "my_secure_password",
    "apiKey": "sk_live_123456789",
    "address": {"street": "123 Main St", "city": "New York", "country": "USA", "zipCode": "10001"},
    "profile": {"bio": "Software developer", "birthDate": "1990-01-15", "preferences": {"theme": "dark"}},
    "contact": {"phone": {"mobile": "+1234567890"}, "social": {"linkedin": "https://linkedin.com/in/johndoe"}},
    "tags": ["tag|with|pipes", "normal-tag"], "scores": [1, 2.5, -3],
    "metadata": {"settings": {}, "preferences": null},
    "analytics": {"utm": {"source": "google"}, "events": [{"type": "page_view"}], "lastVisit": "2024-06-27"}
  })");
  Record inserted = users.Insert(input);
  EXPECT_EQ(inserted.id, "user-123");
  EXPECT_EQ(inserted.data["price"], 1299.99);
  EXPECT_EQ(inserted.data["profile"]["preferences"],
            Json::parse(R"({"theme": "dark", "language": "en", "notifications": true})"));
  EXPECT_EQ(inserted.data["profile"]["birthDate"], "1990-01-15T00:00:00.000Z");
  Record got = users.Get("user-123");
  EXPECT_EQ(got.data.dump(), inserted.data.dump());
  EXPECT_EQ(got.data["password"], "my_secure_password");
  Record updated =
      users.Update("user-123", Json::parse(R"({"profile": {"preferences": {"language": "fr"}}, "age": 31})"));
  EXPECT_EQ(updated.data["profile"]["preferences"]["theme"], "dark");
  EXPECT_EQ(users.Get("user-123").data.dump(), updated.data.dump());
  EXPECT_THROW(users.Insert(Json{{"name", "Other"}}), ValidationError);
  Json same_email = input;
  same_email["id"] = 7;
  EXPECT_THROW(users.Insert(same_email), AlreadyExists);  // email|unique
}

INSTANTIATE_TEST_SUITE_P(Backends, SchemaTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
