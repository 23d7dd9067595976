// JSON nested too deep for the stack (include/s3db/json_limits.h): refused with a typed error
// on every way in, on every backend, and nothing is written.
#include <gtest/gtest.h>

#include <string>

#include "s3db/database.h"
#include "s3db/json_limits.h"
#include "support/definitions.h"
#include "support/raw_objects.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::Def;
using testing::StoreFactory;

// Built by the parser, which is iterative: a loop of Json::array({v}) would copy, and copying
// is the recursion the limit is there to avoid.
std::string DeepArrayText(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

Json DeepValue(size_t depth) { return Json::parse(DeepArrayText(depth)); }

TEST(JsonLimitsTest, TextDepthSkipsStringsAndStopsPastTheLimit) {
  EXPECT_EQ(JsonTextDepth("1"), 0u);
  EXPECT_EQ(JsonTextDepth(R"({"a":[1,{"b":[]}]})"), 4u);
  EXPECT_EQ(JsonTextDepth(R"({"a":"[[[[{{{{\"[[["})"), 1u);  // brackets and an escaped quote in a string
  EXPECT_EQ(JsonTextDepth(DeepArrayText(kMaxJsonDepth)), kMaxJsonDepth);
  EXPECT_FALSE(JsonTextTooDeep(DeepArrayText(kMaxJsonDepth)));
  EXPECT_TRUE(JsonTextTooDeep(DeepArrayText(kMaxJsonDepth + 1)));
  // Counting stops one past the limit, however deep the text goes.
  EXPECT_EQ(JsonTextDepth(DeepArrayText(1000000)), kMaxJsonDepth + 1);
}

TEST(JsonLimitsTest, ValueDepthNeedsNoStackHoweverDeep) {
  EXPECT_EQ(JsonValueDepth(Json(5)), 0u);
  EXPECT_EQ(JsonValueDepth(Json::parse(R"({"a":[1,{"b":[]}]})")), 4u);
  EXPECT_FALSE(JsonValueTooDeep(DeepValue(kMaxJsonDepth)));
  const Json deep = DeepValue(200000);  // deep enough to overflow any recursive walk
  EXPECT_TRUE(JsonValueTooDeep(deep));
  EXPECT_EQ(JsonValueDepth(deep), kMaxJsonDepth + 1);
}

// nlohmann's parser alone takes a NUL for the end of the input and accepts what came before.
TEST(JsonLimitsTest, ATextWithANulByteIsDiscarded) {
  EXPECT_FALSE(Json::parse(std::string("{\"a\":1}\0garbage", 15), nullptr, false).is_discarded());
  EXPECT_TRUE(ParseJsonOrDiscarded(std::string("{\"a\":1}\0garbage", 15)).is_discarded());
  EXPECT_TRUE(ParseJsonOrDiscarded(std::string("\0", 1)).is_discarded());
  EXPECT_TRUE(ParseJsonOrDiscarded("{\"a\":").is_discarded());
  EXPECT_EQ(ParseJsonOrDiscarded(R"({"a":"\u0000"})"), Json({{"a", std::string("\0", 1)}}));
}

class JsonDepthTest : public ::testing::TestWithParam<Backend> {
 protected:
  // The object key of the record `id` (the only one whose key holds it), or "" when none.
  static std::string KeyOfRecord(Database& db, const std::string& id) {
    ListRequest all;
    all.prefix = "db/";
    auto page = db.store().List(all);
    EXPECT_TRUE(page.ok());
    if (!page.ok()) return "";
    for (const ObjectInfo& object : page->objects) {
      if (object.key.find(id) != std::string::npos) return object.key;
    }
    return "";
  }

  StoreFactory stores_{GetParam()};
};

TEST_P(JsonDepthTest, ADeepRecordIsRefusedOnEveryWriteAndNothingIsWritten) {
  auto db = stores_.Connect();
  Resource& notes = db->CreateResource(Def("notes", {{"body", "any|optional"}}));
  notes.Insert({{"id", "ok"}, {"body", DeepValue(kMaxJsonDepth - 2)}});  // record + field + 98: at the limit

  // Never copied here: a copy of a value this deep is the very recursion that overflows.
  const std::string deep_text = "{\"id\":\"deep\",\"body\":{\"x\":" + DeepArrayText(70000) + "}}";
  const Json deep = Json::parse(deep_text);
  try {
    notes.Insert(deep);
    FAIL() << "a record nested 70,000 deep was inserted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("resource 'notes'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nested deeper than 100 levels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(notes.Insert(Json::parse(deep_text)), InvalidArgument);  // the by-value overload
  EXPECT_THROW(notes.Upsert("deep", deep), InvalidArgument);
  EXPECT_THROW(notes.Update("ok", Json::parse("{\"body\":" + DeepArrayText(70000) + "}")), InvalidArgument);
  EXPECT_THROW(notes.Validate(deep), InvalidArgument);
  std::vector<Json> items;
  items.push_back(Json::parse(deep_text));
  items.push_back(Json{{"id", "fine"}});
  const InsertManyResult many = notes.InsertMany(items);
  ASSERT_EQ(many.errors.size(), 1u);
  EXPECT_EQ(many.errors[0].code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(many.inserted.size(), 1u);
  EXPECT_EQ(notes.Count(), 2u);  // "ok" and "fine"
  EXPECT_FALSE(notes.Exists("deep"));
}

TEST_P(JsonDepthTest, ADeepDefinitionIsAnInvalidSchemaAndCreatesNothing) {
  auto db = stores_.Connect();
  ResourceDefinition definition = Def("deep", {});
  definition.attributes =
      Json::parse("{\"a\":" + std::string(100000, '[') + "\"string\"" + std::string(100000, ']') + "}");
  EXPECT_THROW(db->CreateResource(definition), InvalidSchema);
  EXPECT_THROW(db->CreateResourceIfNotExists(definition), InvalidSchema);
  EXPECT_FALSE(db->ResourceExists("deep"));
}

TEST_P(JsonDepthTest, ADeepRecordStoredByAnotherWriterIsCorruptionNotACrash) {
  auto db = stores_.Connect();
  Resource& notes = db->CreateResource(Def("notes", {{"body", "any|optional"}}));
  notes.Insert({{"id", "n1"}, {"body", "short"}});
  // Another writer (any program with bucket access) replaces the body with deep JSON.
  const std::string key = KeyOfRecord(*db, "n1");
  ASSERT_FALSE(key.empty());
  auto head = db->store().Head(key);
  ASSERT_TRUE(head.ok());
  testing::MustPut(db->store(), key, "{\"w\":1,\"f\":" + DeepArrayText(100000) + "}", head->metadata);
  try {
    notes.Get("n1");
    FAIL() << "a record with a body nested 100,000 deep was read";
  } catch (const Corruption& e) {
    EXPECT_NE(std::string(e.what()).find("n1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nested deeper than 100 levels"), std::string::npos) << e.what();
  }
}

// A body that is a record up to a NUL byte, then anything: corrupt, not the record before it.
TEST_P(JsonDepthTest, ABodyWithANulByteStoredByAnotherWriterIsCorruption) {
  auto db = stores_.Connect();
  Resource& notes = db->CreateResource(Def("notes", {{"body", "any|optional"}}));
  notes.Insert({{"id", "n1"}, {"body", std::string(3000, 'x')}});  // over 2 KB: the field is in the body
  const std::string key = KeyOfRecord(*db, "n1");
  ASSERT_FALSE(key.empty());
  auto got = db->store().Get(key);
  ASSERT_TRUE(got.ok());
  testing::MustPut(db->store(), key, got->body + std::string("\0{\"f\":{}}", 8), got->info.metadata);
  try {
    notes.Get("n1");
    FAIL() << "a body with a NUL byte and more after it was read as a record";
  } catch (const Corruption& e) {
    EXPECT_NE(std::string(e.what()).find("n1"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, JsonDepthTest, ::testing::ValuesIn(testing::TestBackends()),
                         [](const auto& info) { return testing::BackendName(info.param); });

}  // namespace
}  // namespace s3db
