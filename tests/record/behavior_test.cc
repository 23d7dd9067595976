// The five behaviors for records over the metadata budget (issue 5), at the exact boundary
// and on random records, through the public API on every backend.
#include <gtest/gtest.h>

#include <random>

#include "format/value_codec.h"
#include "record/record_codec.h"
#include "s3db/database.h"
#include "support/test_stores.h"

namespace s3db {
namespace {

using testing::Backend;
using testing::StoreFactory;

constexpr size_t kBudget = 2000;

// Metadata bytes of a record of resource "notes" (fields: text -> key "0", n -> key "1")
// holding only `text`: "_v" + "1", then "0" + the encoded text.
size_t MetadataSize(const std::string& text) { return 2 + 1 + 1 + format::EncodeValue(text).size(); }

// A record (text, n) that needs exactly `target` metadata bytes: `unit` repeated (it may be
// multi-byte or need escaping, so its encoding grows in steps: base64 by 4), then ASCII
// padding, then a number "n" whose digit count takes up the last few bytes exactly.
Json RecordOfSize(size_t target, const std::string& unit) {
  auto room = [&](const std::string& text) {  // bytes left for key "1" plus n's value
    size_t used = MetadataSize(text);
    return used < target ? target - used : 0;
  };
  std::string text;
  while (room(text + unit) >= 3 + 2) text += unit;  // key "1" + "d" + at least one digit
  while (room(text + "x") >= 3) text += "x";
  const size_t digits = room(text) - 2;
  EXPECT_GE(digits, 1u);
  EXPECT_LE(digits, 15u);
  Json n = std::stoll(std::string(digits, '1'));
  EXPECT_EQ(MetadataSize(text) + 1 + format::EncodeValue(n).size(), target) << "unit '" << unit << "'";
  return Json{{"text", text}, {"n", n}};
}

size_t StoredMetadataBytes(ObjectStore& store, const std::string& key) {
  Result<GetResult> got = store.Get(key);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  size_t bytes = 0;
  for (const auto& [k, v] : got->info.metadata) bytes += k.size() + v.size();
  return bytes;
}

struct Case {
  Backend backend;
  std::string behavior;
};

class BehaviorTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    db_ = stores_.Connect();
    ResourceDefinition def;
    def.name = "notes";
    def.behavior = GetParam().behavior;
    def.attributes = Json{{"text", "string|optional"}, {"n", "number|optional"}};
    notes_ = &db_->CreateResource(def);
  }
  const std::string& behavior() const { return GetParam().behavior; }
  std::string Key(const std::string& id) { return "db/resource=notes/data/id=" + id; }

  StoreFactory stores_{GetParam().backend};
  std::unique_ptr<Database> db_;
  Resource* notes_ = nullptr;
};

TEST_P(BehaviorTest, ExactBoundary) {
  // Plain ASCII, multi-byte UTF-8, and characters that need escaping.
  for (const std::string& unit : {std::string("a"), std::string("é"), std::string("日本"), std::string("%|= ")}) {
    for (size_t size : {kBudget - 1, kBudget, kBudget + 1}) {
      const std::string id = "r" + std::to_string(size) + "-" + std::to_string(unit.size());
      Json record = RecordOfSize(size, unit);
      const std::string text = record["text"];
      record["id"] = id;
      SCOPED_TRACE(behavior() + " size " + std::to_string(size) + " unit '" + unit + "'");
      if (size > kBudget && behavior() == "enforce-limits") {
        EXPECT_THROW(notes_->Insert(record), MetadataTooLarge);
        EXPECT_FALSE(notes_->Exists(id));
        continue;
      }
      notes_->Insert(record);
      Record got = notes_->Get(id);
      EXPECT_EQ(got.data["n"], record["n"]);
      const size_t stored = StoredMetadataBytes(db_->store(), Key(id));
      EXPECT_LE(stored, kBudget);
      if (behavior() == "body-only") {
        EXPECT_EQ(got.data["text"], text);
        EXPECT_LT(stored, 10u);  // only reserved keys
      } else if (size <= kBudget) {
        EXPECT_EQ(got.data["text"], text);
        EXPECT_EQ(stored, size);  // all in metadata, counted exactly as S3 counts it
      } else if (behavior() == "truncate-data") {
        const std::string kept = got.data["text"].get<std::string>();
        EXPECT_LT(kept.size(), text.size());
        ASSERT_GE(kept.size(), 3u);
        EXPECT_EQ(kept.substr(kept.size() - 3), "...") << "a cut value ends in the seeds' marker";
        EXPECT_EQ(text.compare(0, kept.size() - 3, kept, 0, kept.size() - 3), 0) << "a truncation keeps a prefix";
        EXPECT_GE(stored + 30, kBudget) << "it keeps as much as fits";
      } else {  // user-managed, body-overflow: nothing lost
        EXPECT_EQ(got.data["text"], text);
      }
    }
  }
}

TEST_P(BehaviorTest, UpdatesKeepTheLayoutBothWays) {
  const std::string big(5000, 'b');
  if (behavior() == "enforce-limits") {
    notes_->Insert({{"id", "x"}, {"text", "small"}, {"n", 1}});
    EXPECT_THROW(notes_->Update("x", {{"text", big}}), MetadataTooLarge);
    EXPECT_EQ(notes_->Get("x").data["text"], "small");
    return;
  }
  notes_->Insert({{"id", "x"}, {"text", "small"}, {"n", 1}});
  notes_->Update("x", {{"text", big}});
  Record grown = notes_->Get("x");
  if (behavior() == "truncate-data") {
    const std::string kept = grown.data["text"].get<std::string>();
    EXPECT_LT(kept.size(), big.size());
    EXPECT_EQ(kept, std::string(kept.size() - 3, 'b') + "...");
  } else {
    EXPECT_EQ(grown.data["text"], big);
  }
  notes_->Update("x", {{"text", "small again"}});
  Record shrunk = notes_->Get("x");
  EXPECT_EQ(shrunk.data, (Json{{"text", "small again"}, {"n", 1}}));
  Result<GetResult> raw = db_->store().Get(Key("x"));
  ASSERT_TRUE(raw.ok());
  Json body = Json::parse(raw->body);
  if (behavior() == "body-only") {
    EXPECT_EQ(body["f"].size(), 2u);
  } else {
    EXPECT_FALSE(body.contains("f")) << "no stale body fields once it fits again: " << raw->body;
    EXPECT_FALSE(raw->info.metadata.count("_o"));
    EXPECT_FALSE(raw->info.metadata.count("_t"));
  }
}

TEST_P(BehaviorTest, RandomRecordsRoundTripOrAreRejectedAsDocumented) {
  std::mt19937 rng(20261121);
  const std::vector<std::string> alphabet = {"a", "Z", " ", "%", "|", "é", "日", "😀", "\n", "\""};
  const int rounds = GetParam().backend == Backend::kMemory ? 60 : 15;
  for (int i = 0; i < rounds; ++i) {
    std::string text;
    const size_t target = std::uniform_int_distribution<size_t>(0, 20000)(rng);
    while (text.size() < target) text += alphabet[rng() % alphabet.size()];
    const std::string id = "p" + std::to_string(i);
    Json data{{"id", id}, {"text", text}, {"n", static_cast<int>(rng() % 1000)}};
    const bool fits = MetadataSize(text) + 2 + format::EncodeValue(data["n"]).size() <= kBudget;
    if (behavior() == "enforce-limits" && !fits) {
      EXPECT_THROW(notes_->Insert(data), MetadataTooLarge) << target;
      continue;
    }
    notes_->Insert(data);
    Record got = notes_->Get(id);
    EXPECT_EQ(got.data["n"], data["n"]);
    if (behavior() == "truncate-data" && !fits) {
      // Cut to a prefix plus "...", or emptied when not even the marker had room.
      const std::string kept = got.data["text"].get<std::string>();
      const size_t prefix = kept.size() >= 3 ? kept.size() - 3 : 0;
      if (!kept.empty()) {
        EXPECT_EQ(kept.substr(prefix), "...");
      }
      EXPECT_EQ(text.compare(0, prefix, kept, 0, prefix), 0);
      EXPECT_LE(StoredMetadataBytes(db_->store(), Key(id)), kBudget);
    } else {
      EXPECT_EQ(got.data["text"], text) << behavior() << " lost data at " << target << " bytes";
    }
  }
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (Backend b : testing::TestBackends()) {
    for (const char* behavior : {"user-managed", "enforce-limits", "truncate-data", "body-overflow", "body-only"}) {
      cases.push_back({b, behavior});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Behaviors, BehaviorTest, ::testing::ValuesIn(Cases()), [](const auto& info) {
  std::string name = testing::BackendName(info.param.backend) + "_" + info.param.behavior;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
});

// The codec alone: truncate-data reports what it cut, and never loops (s3db.js spun forever
// on some attribute orders).
TEST(TruncateData, ReportsCutFieldsAndTerminatesWhateverTheOrder) {
  Json catalog = core::EmptyCatalog();
  ResourceDefinition def;
  def.name = "t";
  def.behavior = "truncate-data";
  def.attributes = Json{{"title", "string"}, {"body", "string"}, {"n", "number"}, {"a", "string"}};
  core::AddResourceVersion(catalog, def, 0);
  auto state = core::BuildResourceState("t", catalog["resources"]["t"]);
  Json data{{"title", std::string(1500, 't')}, {"body", std::string(1500, 'b')}, {"n", 7}, {"a", "short"}};
  core::EncodedRecord encoded = core::EncodeRecord(data, state->current(), kBudget, "t", "x");
  EXPECT_LE(encoded.metadata_bytes, kBudget);
  EXPECT_FALSE(encoded.truncated_paths.empty());
  std::vector<std::string> reported;
  core::DecodeOptions options;
  options.truncated_paths = &reported;
  Json back = core::DecodeRecord(encoded.metadata, encoded.body, state->current(), "t", "x", nullptr, options);
  EXPECT_EQ(std::set<std::string>(reported.begin(), reported.end()),
            std::set<std::string>(encoded.truncated_paths.begin(), encoded.truncated_paths.end()));
  EXPECT_EQ(back["n"], 7);
  EXPECT_EQ(back["a"], "short");  // the short field is kept whole

  // Nothing to cut: numbers alone over the budget cannot be truncated.
  ResourceDefinition numbers;
  numbers.name = "u";
  numbers.behavior = "truncate-data";
  Json attrs = Json::object();
  for (int i = 0; i < 200; ++i) attrs["f" + std::to_string(i)] = "number";
  numbers.attributes = attrs;
  core::AddResourceVersion(catalog, numbers, 0);
  auto nstate = core::BuildResourceState("u", catalog["resources"]["u"]);
  Json many = Json::object();
  for (int i = 0; i < 200; ++i) many["f" + std::to_string(i)] = 1234567890123 + i;
  EXPECT_THROW(core::EncodeRecord(many, nstate->current(), kBudget, "u", "y"), MetadataTooLarge);
}

}  // namespace
}  // namespace s3db

namespace s3db {
namespace {

TEST(BehaviorEvents, UserManagedEmitsExceedsLimitAndTruncateDataReportsCutFields) {
  testing::StoreFactory stores(testing::Backend::kMemory);
  auto db = stores.Connect();
  ResourceDefinition managed;
  managed.name = "managed";
  managed.attributes = Json{{"text", "string"}};
  Resource& notes = db->CreateResource(managed);
  std::vector<Json> seen;
  notes.events().On(Resource::kExceedsLimitEvent, [&](const Json& payload) { seen.push_back(payload); });
  notes.Insert({{"id", "small"}, {"text", "fits"}});
  EXPECT_TRUE(seen.empty());
  notes.Insert({{"id", "big"}, {"text", std::string(3000, 'x')}});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["id"], "big");
  EXPECT_EQ(seen[0]["limit"], kBudget);
  EXPECT_EQ(seen[0]["excess"].get<size_t>(), seen[0]["totalSize"].get<size_t>() - kBudget);
  EXPECT_EQ(seen[0]["bodyFields"], Json::array({"text"}));
  EXPECT_EQ(seen[0]["operation"], "insert");
  EXPECT_EQ(seen[0]["behavior"], "user-managed");
  notes.Update("big", {{"text", std::string(3100, 'y')}});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1]["operation"], "update");
  EXPECT_EQ(seen[1]["resource"], "managed");

  ResourceDefinition cut;
  cut.name = "cut";
  cut.behavior = "data-truncate";  // the seeds' alias
  cut.attributes = Json{{"title", "string"}, {"body", "string"}};
  Resource& cuts = db->CreateResource(cut);
  Record written = cuts.Insert({{"id", "a"}, {"title", "kept"}, {"body", std::string(3000, 'b')}});
  EXPECT_EQ(written.truncated, std::vector<std::string>{"body"});
  const std::string body = written.data["body"].get<std::string>();
  EXPECT_LT(body.size(), 3000u);
  EXPECT_EQ(body, std::string(body.size() - 3, 'b') + "...");  // the seeds' marker
  Record read = cuts.Get("a");
  EXPECT_EQ(read.truncated, std::vector<std::string>{"body"});
  EXPECT_EQ(read.data, written.data);  // what Insert returned is what was stored
  EXPECT_EQ(read.ToJson(true)["_truncated"], Json::array({"body"}));
  cuts.Update("a", {{"body", "short now"}});
  EXPECT_TRUE(cuts.Get("a").truncated.empty());
}

}  // namespace
}  // namespace s3db
