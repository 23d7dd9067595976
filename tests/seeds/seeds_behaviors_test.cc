// The s3db.js README's "Resource Behaviors" examples and its "Complete Resource Configuration
// Reference", ported to our API. Each test names the seed section it ports (docs/SEEDS.md) and
// asserts what the seed says, on every backend.
//
// Two differences with the seeds run through this file (docs/SEEDS.md says so too):
// - Our schemas name every field a record may hold; the seeds' limit examples insert a
//   `largeBio` their schema does not declare, so the ports declare it.
// - The seeds' `"Very long bio...".repeat(100)` is 1,600 bytes, which fits our 2,000-byte
//   metadata budget as it is encoded (printable ASCII is stored as itself). The tests check
//   that, then use a 2,400-byte bio to show what the seed says happens over the limit.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "seeds/seeds_core_fixture.h"

namespace s3db {
namespace {

using seeds::IdsOf;
using seeds::SeedsTest;

std::string Repeat(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

// The seeds' users of the behavior examples: name, email and one more string field, under
// options.behavior, read from the seeds' form.
ResourceDefinition UsersWith(const std::string& behavior, const std::string& text_field, const std::string& rule) {
  return ResourceDefinition::FromJson("users",
                                      {{"name", "users"},
                                       {"attributes", {{"name", "string"}, {"email", "email"}, {text_field, rule}}},
                                       {"options", {{"behavior", behavior}}}});
}

// The limit examples' users; the largeBio they insert but do not declare is declared.
ResourceDefinition LimitUsers(const std::string& behavior) {
  return UsersWith(behavior, "largeBio", "string|optional");
}

ResourceDefinition BioUsers(const std::string& behavior) { return UsersWith(behavior, "bio", "string"); }

using SeedsBehaviorsTest = SeedsTest;

// Seed "Available Behaviors": the table's four names (the seeds' aliases of ours), our own
// spellings, and body-only. A definition keeps the name as given; the aliases act as ours
// (the limit tests below use them).
TEST_P(SeedsBehaviorsTest, AvailableBehaviors) {
  const std::vector<std::string> names = {"user-management", "enforce-limits", "data-truncate", "body-overflow",
                                          "user-managed",    "truncate-data",  "body-only"};
  int i = 0;
  for (const std::string& given : names) {
    ResourceDefinition def = BioUsers(given);
    def.name = "users" + std::to_string(i++);
    EXPECT_EQ(db_->CreateResource(def).definition().behavior, given);
  }
  EXPECT_EQ(
      db_->CreateResource(ResourceDefinition::FromJson("plain", Json::parse(R"({"attributes": {"a": "string"}})")))
          .definition()
          .behavior,
      "user-managed");  // the default
  EXPECT_THROW(db_->CreateResource(BioUsers("body-everything")), InvalidSchema);

  // body-only: every field in the body, the metadata only the version and overflow keys.
  Resource& body_only = db_->resource("users6");
  body_only.Insert({{"id", "b"}, {"name", "Bo"}, {"email", "bo@example.com"}, {"bio", "short"}});
  Result<ObjectInfo> object = db_->store().Head("db/resource=users6/data/id=b");
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(object->metadata.size(), 2u);
  EXPECT_EQ(body_only.Get("b").data["bio"], "short");
}

// Seed "Behavior Configuration": body-overflow, timestamps, a byRegion partition and hooks.
// The seed partitions on `region`, which its attributes do not declare: we refuse that (a
// record could never hold it), so the port declares it.
TEST_P(SeedsBehaviorsTest, BehaviorConfiguration) {
  const Json seed = Json::parse(R"({
    "name": "users",
    "attributes": {
      "name": "string|min:2|max:100",
      "email": "email|unique",
      "bio": "string|optional",
      "preferences": "object|optional"
    },
    "options": {
      "behavior": "body-overflow",
      "timestamps": true,
      "partitions": {"byRegion": {"fields": {"region": "string"}}}
    }
  })");
  try {
    db_->CreateResource(ResourceDefinition::FromJson("users", seed));
    FAIL() << "a partition on an undeclared field was accepted";
  } catch (const InvalidSchema& e) {
    EXPECT_NE(std::string(e.what()).find("byRegion"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("region"), std::string::npos) << e.what();
  }

  Json ported = seed;
  ported["attributes"]["region"] = "string|optional";
  std::vector<std::string> created;  // console.log("User created:", data.id)
  HookSet hooks;
  hooks.pre_insert.push_back([](Json&) {});  // "Custom validation logic": returns the data as is
  hooks.after_insert.push_back([&](const Record& r) { created.push_back(r.id); });
  Resource& users = db_->CreateResource(ResourceDefinition::FromJson("users", ported), hooks);
  EXPECT_EQ(users.definition().behavior, "body-overflow");
  EXPECT_TRUE(users.definition().timestamps);

  const Record ada = users.Insert({{"id", "ada"},
                                   {"name", "Ada"},
                                   {"email", "ada@example.com"},
                                   {"region", "eu"},
                                   {"bio", std::string(3000, 'b')},
                                   {"preferences", {{"theme", "dark"}}}});
  EXPECT_EQ(created, std::vector<std::string>{"ada"});
  EXPECT_TRUE(ada.data.contains("createdAt"));
  EXPECT_EQ(users.Get("ada").data["bio"], std::string(3000, 'b'));  // overflowed, kept whole
  EXPECT_EQ(IdsOf(users.ListByPartition("byRegion", {{"region", "eu"}})), std::vector<std::string>{"ada"});
}

// Seed "1. User Management Behavior (Default)": a record over the limit is stored whole and an
// "exceedsLimit" event reports it (operation, totalSize, limit, excess).
TEST_P(SeedsBehaviorsTest, UserManagementBehavior) {
  Resource& users = db_->CreateResource(LimitUsers("user-management"));
  std::vector<Json> warnings;
  users.events().On("exceedsLimit", [&](const Json& info) { warnings.push_back(info); });

  // The seed's own data: 1,600 bytes of bio fit our budget, so it goes in without a warning.
  users.Insert({{"id", "seed"},
                {"name", "John Doe"},
                {"email", "john@example.com"},
                {"largeBio", Repeat("Very long bio...", 100)}});
  EXPECT_TRUE(warnings.empty());

  const std::string bio = Repeat("Very long bio...", 150);  // 2,400 bytes: over the limit
  const Record user =
      users.Insert({{"id", "john"}, {"name", "John Doe"}, {"email", "john@example.com"}, {"largeBio", bio}});
  ASSERT_EQ(warnings.size(), 1u);  // "Will trigger warning but succeed"
  const Json& info = warnings[0];
  EXPECT_EQ(info["operation"], "insert");
  EXPECT_EQ(info["behavior"], "user-managed");  // the seeds' "user-management" is our user-managed
  EXPECT_EQ(info["id"], "john");
  EXPECT_EQ(info["limit"], 2000);
  EXPECT_GT(info["totalSize"].get<size_t>(), 2400u);
  EXPECT_EQ(info["excess"].get<size_t>(), info["totalSize"].get<size_t>() - 2000);
  EXPECT_EQ(users.Get("john").data["largeBio"], bio);  // operations continue normally
}

// Seed "2. Enforce Limits Behavior": a record over the limit is refused with an error that
// gives the size and the limit ("Current size: 2500 bytes, limit: 2000 bytes").
TEST_P(SeedsBehaviorsTest, EnforceLimitsBehavior) {
  Resource& users = db_->CreateResource(LimitUsers("enforce-limits"));
  users.Insert({{"id", "seed"},
                {"name", "John Doe"},
                {"email", "john@example.com"},
                {"largeBio", Repeat("Very long bio...", 100)}});  // 1,600 bytes fit

  try {
    users.Insert({{"id", "john"},
                  {"name", "John Doe"},
                  {"email", "john@example.com"},
                  {"largeBio", Repeat("Very long bio...", 150)}});
    FAIL() << "a record over the limit was accepted";
  } catch (const MetadataTooLarge& e) {
    const std::string message = e.what();  // error.message
    EXPECT_TRUE(std::regex_search(message, std::regex(R"(needs \d+ bytes of metadata; the limit is 2000)"))) << message;
    EXPECT_EQ(e.resource(), "users");
    EXPECT_EQ(e.id(), "john");
  }
  EXPECT_FALSE(users.Exists("john"));  // nothing written
}

// Seed "3. Data Truncate Behavior": a value that fits is kept; one that does not is cut and ends
// with "...".
TEST_P(SeedsBehaviorsTest, DataTruncateBehavior) {
  Resource& users = db_->CreateResource(BioUsers("data-truncate"));
  const std::string seed_bio =
      "This is a very long biography that will be truncated to fit within the 2KB metadata limit...";
  const Record user = users.Insert({{"name", "John Doe"}, {"email", "john@example.com"}, {"bio", seed_bio}});
  EXPECT_EQ(user.data["bio"], seed_bio);  // console.log(user.bio): it fits, nothing cut
  EXPECT_TRUE(user.truncated.empty());

  const Record longer = users.Insert(
      {{"id", "long"}, {"name", "John Doe"}, {"email", "john@example.com"}, {"bio", std::string(3000, 'x')}});
  const std::string cut = longer.data["bio"];
  EXPECT_LT(cut.size(), 2000u);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");  // "truncated with "..." suffix"
  EXPECT_EQ(cut.substr(0, cut.size() - 3), std::string(cut.size() - 3, 'x'));
  EXPECT_EQ(longer.truncated, std::vector<std::string>{"bio"});
  EXPECT_EQ(users.Get("long").data["bio"], cut);          // what was stored
  EXPECT_EQ(users.Get("long").data["name"], "John Doe");  // structure preserved
}

// Seed "4. Body Overflow Behavior": all data preserved and merged back when read.
TEST_P(SeedsBehaviorsTest, BodyOverflowBehavior) {
  Resource& users = db_->CreateResource(BioUsers("body-overflow"));
  const std::string seed_bio = "This is a very long biography that will be stored in the S3 object body...";
  const Record user =
      users.Insert({{"id", "john"}, {"name", "John Doe"}, {"email", "john@example.com"}, {"bio", seed_bio}});
  EXPECT_EQ(user.data["bio"], seed_bio);  // console.log(user.bio): full biography

  const std::string big = std::string(6000, 'y');
  users.Insert({{"id", "big"}, {"name", "John Doe"}, {"email", "john@example.com"}, {"bio", big}});
  // "Small attributes stay in metadata, large attributes are moved to the body".
  Result<ObjectInfo> object = db_->store().Head("db/resource=users/data/id=big");
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(object->metadata.count("_o"), 1u);
  EXPECT_GT(object->size, 6000u);
  const Record got = users.Get("big");  // "automatically merged when retrieved"
  EXPECT_EQ(got.data["bio"], big);
  EXPECT_EQ(got.data["name"], "John Doe");
  EXPECT_EQ(users.Get("john").data["bio"], seed_bio);
}

// The seeds' "Complete Resource Configuration Reference", as JSON (hooks are code: below).
const char* kCompleteReference = R"({
  "name": "users",
  "attributes": {
    "name": "string|min:2|max:100",
    "email": "email|unique",
    "age": "number|integer|positive",
    "isActive": "boolean",
    "website": "url",
    "uuid": "uuid",
    "createdAt": "date",
    "price": "currency|symbol:$",
    "password": "secret",
    "apiKey": "secret",
    "address": {"street": "string", "city": "string", "country": "string", "zipCode": "string|optional"},
    "profile": {
      "bio": "string|max:500|optional",
      "avatar": "url|optional",
      "birthDate": "date|optional",
      "preferences": {
        "theme": "string|enum:light,dark|default:light",
        "language": "string|enum:en,es,fr|default:en",
        "notifications": "boolean|default:true"
      }
    },
    "contact": {
      "phone": {
        "mobile": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional",
        "work": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional"
      },
      "social": {"twitter": "string|optional", "linkedin": "url|optional", "github": "url|optional"}
    },
    "tags": "array|items:string|unique",
    "scores": "array|items:number|min:1",
    "id": ["string", "number"],
    "metadata": {"settings": "object|optional", "preferences": "object|optional"},
    "analytics": {
      "utm": {
        "source": "string|optional", "medium": "string|optional", "campaign": "string|optional",
        "term": "string|optional", "content": "string|optional"
      },
      "events": "array|items:object|optional",
      "lastVisit": "date|optional"
    }
  },
  "options": {
    "behavior": "user-management",
    "timestamps": true,
    "partitions": {
      "byRegion": {"fields": {"region": "string"}},
      "byAgeGroup": {"fields": {"ageGroup": "string"}},
      "byDate": {"fields": {"createdAt": "date|maxlength:10"}}
    }
  }
})";

Json CompleteUser(const std::string& id, const std::string& email) {
  return {
      {"id", id},
      {"name", "Ada Lovelace"},
      {"email", email},
      {"age", 36},
      {"isActive", true},
      {"website", "https://ada.example.com"},
      {"uuid", "123e4567-e89b-12d3-a456-426614174000"},
      {"price", "$1,234.50"},
      {"password", "correct horse"},
      {"apiKey", "ak-123"},
      {"address", {{"street", "1 Main St"}, {"city", "London"}, {"country", "UK"}}},
      {"profile", {{"bio", "Mathematician"}, {"preferences", {{"theme", "dark"}}}}},
      {"contact", {{"phone", {{"mobile", "+441234567890"}}}, {"social", {{"github", "https://github.com/ada"}}}}},
      {"tags", {"math", "poetry"}},
      {"scores", {9.5, 10}},
      {"metadata", {{"settings", {{"beta", true}}}}},
      {"analytics", {{"utm", {{"source", "google"}}}, {"events", {{{"type", "signup"}}}}, {"lastVisit", "2024-06-28"}}},
      {"region", "eu"},
      {"ageGroup", "30-39"}};
}

// Seed "Complete Resource Configuration Reference": every type, nested objects, arrays, a
// multi-type id, timestamps beside a declared createdAt, three partitions and six hooks.
// As written it partitions on `region` and `ageGroup`, which it does not declare; we refuse
// that, so the port declares both. Secret fields need a passphrase (s3db.js defaults to
// "secret"; we have no default).
TEST_P(SeedsBehaviorsTest, CompleteResourceConfigurationReference) {
  DatabaseOptions options;
  options.passphrase = "secret";
  options.kdf_iterations = 1000;
  auto db = stores_.Connect("reference", options);

  const Json seed = Json::parse(kCompleteReference);
  try {
    db->CreateResource(ResourceDefinition::FromJson("users", seed));
    FAIL() << "partitions on undeclared fields were accepted";
  } catch (const InvalidSchema& e) {
    // The first of them in byte order: byAgeGroup.
    EXPECT_NE(std::string(e.what()).find("field 'ageGroup' is not an attribute"), std::string::npos) << e.what();
  }

  Json ported = seed;
  ported["attributes"]["region"] = "string|optional";
  ported["attributes"]["ageGroup"] = "string|optional";
  std::vector<std::string> log;
  HookSet hooks;
  hooks.pre_insert.push_back([](Json& data) {
    if (data.value("email", "").find('@') == std::string::npos) throw std::invalid_argument("Invalid email format");
  });
  hooks.pre_update.push_back([](const std::string&, Json&) {});
  hooks.pre_delete.push_back([](const std::string& id) {
    if (id == "keep") throw std::invalid_argument("this one stays");  // the seeds' "return false to abort"
  });
  hooks.after_insert.push_back([&](const Record& r) { log.push_back("User created: " + r.id); });
  hooks.after_update.push_back([&](const Record& r) { log.push_back("User updated: " + r.id); });
  hooks.after_delete.push_back([&](const std::string& id) { log.push_back("User deleted: " + id); });
  Resource& users = db->CreateResource(ResourceDefinition::FromJson("users", ported), hooks);
  EXPECT_EQ(users.definition().behavior, "user-management");

  const Record ada = users.Insert(CompleteUser("ada", "ada@example.com"));
  EXPECT_EQ(ada.data["price"], 1234.5);  // currency text read as a number
  EXPECT_EQ(ada.data["profile"]["preferences"]["theme"], "dark");
  EXPECT_EQ(ada.data["profile"]["preferences"]["language"], "en");  // defaults
  EXPECT_EQ(ada.data["profile"]["preferences"]["notifications"], true);
  const std::string created = ada.data["createdAt"];  // timestamps set the declared createdAt
  EXPECT_EQ(ada.data["updatedAt"], created);
  const Record got = users.Get("ada");
  EXPECT_EQ(got.data, ada.data);
  EXPECT_EQ(got.data["password"], "correct horse");  // sealed on the bucket, opened here
  EXPECT_EQ(got.data["analytics"]["events"][0]["type"], "signup");

  // id: ["string", "number"]: a number id is the record's id as text.
  Json numbered = CompleteUser("", "n@example.com");
  numbered["id"] = 42;
  EXPECT_EQ(users.Insert(numbered).id, "42");

  EXPECT_EQ(IdsOf(users.ListByPartition("byRegion", {{"region", "eu"}})), (std::vector<std::string>{"42", "ada"}));
  EXPECT_EQ(users.Count({.partition = "byAgeGroup", .partition_values = {{"ageGroup", "30-39"}}}), 2u);
  EXPECT_EQ(users.Count({.partition = "byDate", .partition_values = {{"createdAt", created.substr(0, 10)}}}), 2u);

  // The rules bite: a pattern, an enum, unique items, an array's minimum, a URL, a UUID.
  Json bad = CompleteUser("bad", "bad@example.com");
  bad["contact"]["phone"]["mobile"] = "0123";
  bad["profile"]["preferences"]["theme"] = "blue";
  bad["tags"] = {"a", "a"};
  bad["scores"] = Json::array();
  bad["website"] = "not a url";
  bad["uuid"] = "1234";
  try {
    users.Insert(bad);
    FAIL() << "a record breaking six rules was accepted";
  } catch (const ValidationError& e) {
    std::set<std::string> paths;
    for (const FieldError& f : e.fields()) paths.insert(f.path);
    EXPECT_EQ(paths, (std::set<std::string>{"contact.phone.mobile", "profile.preferences.theme", "tags", "scores",
                                            "website", "uuid"}));
  }

  // The hooks: preInsert refuses an email without "@" (before validation would).
  try {
    users.Insert(CompleteUser("x", "no-at-sign"));
    FAIL() << "the preInsert hook did not abort";
  } catch (const HookAborted& e) {
    EXPECT_NE(std::string(e.what()).find("Invalid email format"), std::string::npos) << e.what();
  }
  users.Update("ada", {{"age", 37}});
  users.Insert(CompleteUser("keep", "keep@example.com"));
  EXPECT_THROW(users.Delete("keep"), HookAborted);
  EXPECT_TRUE(users.Exists("keep"));
  users.Delete("42");
  EXPECT_EQ(log, (std::vector<std::string>{"User created: ada", "User created: 42", "User updated: ada",
                                           "User created: keep", "User deleted: 42"}));
}

S3DB_SEEDS_ON_EVERY_BACKEND(SeedsBehaviorsTest);

}  // namespace
}  // namespace s3db
