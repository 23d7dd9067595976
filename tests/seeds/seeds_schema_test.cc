// The s3db.js README's "3. Schema Validation" examples, ported to our API: the attribute
// catalogue, nested object validation, and arrays and objects with edge cases (empty, null,
// pipe characters). Each test names the seed section it ports (docs/SEEDS.md) and asserts what
// the seed says, on every backend.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "s3db/database.h"
#include "seeds/seeds_core_fixture.h"

namespace s3db {
namespace {

using seeds::SeedsTest;

std::set<std::string> FailingPaths(const ValidationError& e) {
  std::set<std::string> paths;
  for (const FieldError& f : e.fields()) paths.insert(f.path);
  return paths;
}

class SeedsSchemaTest : public SeedsTest {
 protected:
  // The "password: secret" field needs a passphrase (s3db.js defaults to "secret").
  std::unique_ptr<Database> WithPassphrase() {
    DatabaseOptions options;
    options.passphrase = "secret";
    options.kdf_iterations = 1000;
    return stores_.Connect("schema", options);
  }
};

// Seed "3. Schema Validation": the attributes object, every rule of it.
TEST_P(SeedsSchemaTest, SchemaValidation) {
  auto db = WithPassphrase();
  Resource& users = db->CreateResource({.name = "users", .attributes = Json::parse(R"({
    "name": "string|min:2|max:100|trim",
    "email": "email|nullable",
    "age": "number|integer|positive",
    "isActive": "boolean",
    "website": "url",
    "uuid": "uuid",
    "createdAt": "date",
    "price": "currency|symbol:$",
    "password": "secret",
    "address": {"street": "string", "city": "string", "country": "string", "zipCode": "string|optional"},
    "tags": "array|items:string|unique",
    "scores": "array|items:number|min:1",
    "categories": "array|items:string",
    "id": ["string", "number"],
    "metadata": {"settings": "object|optional", "preferences": "object|optional"}
  })")});
  const Json given = Json::parse(R"({
    "id": 7,
    "name": "  Ada Lovelace  ",
    "email": null,
    "age": 36,
    "isActive": true,
    "website": "https://ada.example.com",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "createdAt": "2024-06-27",
    "price": "$19.90",
    "password": "hunter2",
    "address": {"street": "1 Main St", "city": "London", "country": "UK"},
    "tags": [],
    "scores": [1, 2.5],
    "categories": ["tag|special", "normal"],
    "metadata": {"settings": {}, "preferences": null}
  })");
  const Record ada = users.Insert(given);
  EXPECT_EQ(ada.id, "7");  // id: ["string", "number"]
  const Record got = users.Get("7");
  EXPECT_EQ(got.data, ada.data);
  EXPECT_EQ(got.data["name"], "Ada Lovelace");                                     // trim
  EXPECT_TRUE(got.data["email"].is_null());                                        // nullable
  EXPECT_EQ(got.data["createdAt"], "2024-06-27T00:00:00.000Z");                    // date, canonical
  EXPECT_EQ(got.data["price"], 19.9);                                              // currency|symbol:$
  EXPECT_EQ(got.data["password"], "hunter2");                                      // secret: opened on read
  EXPECT_EQ(got.data["tags"], Json::array());                                      // "Handles empty arrays: []"
  EXPECT_EQ(got.data["categories"], Json::parse(R"(["tag|special", "normal"])"));  // pipe characters
  EXPECT_EQ(got.data["metadata"]["settings"], Json::object());                     // "Can be empty: {}"
  EXPECT_TRUE(got.data["metadata"]["preferences"].is_null());                      // "Can be null"
  EXPECT_FALSE(got.data["address"].contains("zipCode"));

  // Each rule refuses what it should, all reported at once.
  Json bad = given;
  bad["id"] = "ada";
  bad["name"] = " A ";             // min:2 after trim
  bad["email"] = "nope";           // email
  bad["age"] = 3.5;                // integer
  bad["isActive"] = "yes";         // boolean
  bad["website"] = "ftp://x";      // url (http/https)
  bad["uuid"] = "not-a-uuid";      // uuid
  bad["createdAt"] = "yesterday";  // date
  bad["tags"] = {"a", "a"};        // unique
  bad["scores"] = Json::array();   // min:1
  bad["address"].erase("city");    // required nested field
  try {
    users.Insert(bad);
    FAIL() << "a record breaking every rule was accepted";
  } catch (const ValidationError& e) {
    EXPECT_EQ(FailingPaths(e), (std::set<std::string>{"name", "email", "age", "isActive", "website", "uuid",
                                                      "createdAt", "tags", "scores", "address.city"}));
  }
  EXPECT_FALSE(users.Exists("ada"));
}

// Seed "Nested Object Validation": validation at every level of nesting, and the seed's record.
TEST_P(SeedsSchemaTest, NestedObjectValidation) {
  Resource& users = db_->CreateResource({.name = "users", .attributes = Json::parse(R"({
    "name": "string|min:2|max:100",
    "email": "email|unique",
    "profile": {"bio": "string|max:500|optional", "avatar": "url|optional", "birthDate": "date|optional"},
    "contact": {
      "phone": {
        "mobile": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional",
        "work": "string|pattern:^\\+?[1-9]\\d{1,14}$|optional"
      },
      "social": {"twitter": "string|optional", "linkedin": "url|optional"}
    },
    "preferences": {
      "categories": "array|items:string|unique|optional",
      "notifications": {"email": "boolean|default:true", "sms": "boolean|default:false", "push": "boolean|default:true"}
    },
    "analytics": {
      "tracking": {
        "utm": {"source": "string|optional", "medium": "string|optional", "campaign": "string|optional"},
        "events": "array|items:object|optional"
      }
    }
  })")});
  // The seed's record; new Date(...) is ISO 8601 text in JSON.
  const Json john = Json::parse(R"({
    "id": "john",
    "name": "John Doe",
    "email": "john@example.com",
    "profile": {
      "bio": "Software developer with 10+ years of experience",
      "avatar": "https://example.com/avatar.jpg",
      "birthDate": "1990-01-15"
    },
    "contact": {
      "phone": {"mobile": "+1234567890", "work": "+1987654321"},
      "social": {"twitter": "@johndoe", "linkedin": "https://linkedin.com/in/johndoe"}
    },
    "preferences": {
      "categories": ["technology", "programming", "web-development"],
      "notifications": {"email": true, "sms": false, "push": true}
    },
    "analytics": {
      "tracking": {
        "utm": {"source": "google", "medium": "organic", "campaign": "brand"},
        "events": [
          {"type": "page_view", "timestamp": "2024-06-27T12:00:00.000Z"},
          {"type": "signup", "timestamp": "2024-06-27T12:05:00.000Z"}
        ]
      }
    }
  })");
  users.Insert(john);
  const Json got = users.Get("john").ToJson();
  Json expected = john;
  expected["profile"]["birthDate"] = "1990-01-15T00:00:00.000Z";
  EXPECT_EQ(got, expected);

  // Nested defaults: an absent notifications object still gets its fields' defaults.
  const Record jane =
      users.Insert({{"id", "jane"}, {"name", "Jane"}, {"email", "jane@example.com"}, {"preferences", Json::object()}});
  EXPECT_EQ(jane.data["preferences"]["notifications"], Json::parse(R"({"email": true, "sms": false, "push": true})"));

  // Rules at each level, every failure named by its path.
  Json bad = john;
  bad["id"] = "bad";
  bad["email"] = "bad@example.com";
  bad["profile"]["bio"] = std::string(501, 'b');
  bad["contact"]["phone"]["mobile"] = "12-34";
  bad["contact"]["social"]["linkedin"] = "linkedin";
  bad["preferences"]["categories"] = {"tech", "tech"};
  bad["preferences"]["notifications"]["sms"] = "no";
  bad["analytics"]["tracking"]["events"] = {"page_view"};
  try {
    users.Insert(bad);
    FAIL() << "a record breaking nested rules was accepted";
  } catch (const ValidationError& e) {
    EXPECT_EQ(FailingPaths(e), (std::set<std::string>{"profile.bio", "contact.phone.mobile", "contact.social.linkedin",
                                                      "preferences.categories", "preferences.notifications.sms",
                                                      "analytics.tracking.events[0]"}));
  }
}

// Seed "Enhanced Array and Object Handling": empty arrays and objects, null objects, and array
// items holding pipe characters all come back as they went in.
TEST_P(SeedsSchemaTest, EnhancedArrayAndObjectHandling) {
  Resource& users = db_->CreateResource({.name = "users",
                                         .attributes = {{"name", "string"},
                                                        {"tags", "array|items:string"},
                                                        {"metadata", "object|optional"},
                                                        {"preferences", "object|optional"}}});
  const Record user = users.Insert({{"name", "John Doe"},
                                    {"tags", Json::array()},       // empty array
                                    {"metadata", Json::object()},  // empty object
                                    {"preferences", nullptr}});    // null object
  const Record got = users.Get(user.id);
  EXPECT_EQ(got.data["tags"], Json::array());
  EXPECT_EQ(got.data["metadata"], Json::object());
  ASSERT_TRUE(got.data.contains("preferences"));
  EXPECT_TRUE(got.data["preferences"].is_null());  // "correctly preserved"

  Resource& products = db_->CreateResource(
      {.name = "products",
       .attributes = {{"name", "string"}, {"categories", "array|items:string"}, {"tags", "array|items:string"}}});
  const Record product = products.Insert({{"name", "Widget"},
                                          {"categories", {"electronics|gadgets", "home|office"}},
                                          {"tags", {"tag|with|pipes", "normal-tag"}}});
  const Record widget = products.Get(product.id);
  EXPECT_EQ(widget.data["categories"], Json::parse(R"(["electronics|gadgets", "home|office"])"));
  EXPECT_EQ(widget.data["tags"], Json::parse(R"(["tag|with|pipes", "normal-tag"])"));
  EXPECT_EQ(products.Query({{"tags", {"tag|with|pipes", "normal-tag"}}}).size(), 1u);
}

S3DB_SEEDS_ON_EVERY_BACKEND(SeedsSchemaTest);

}  // namespace
}  // namespace s3db
