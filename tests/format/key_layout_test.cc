#include "format/key_layout.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "util/text.h"

namespace s3db::format {
namespace {

using nlohmann::json;

TEST(Base36, KnownValues) {
  const std::vector<std::pair<uint64_t, std::string>> cases = {
      {0, "0"},
      {9, "9"},
      {10, "a"},
      {35, "z"},
      {36, "10"},
      {71, "1z"},
      {1295, "zz"},
      {1296, "100"},
      {46655, "zzz"},
      {46656, "1000"},
      {std::numeric_limits<uint64_t>::max(), "3w5e11264sgsf"},
  };
  for (const auto& [n, text] : cases) {
    EXPECT_EQ(ToBase36(n), text);
    EXPECT_EQ(FromBase36(text), n) << text;
  }
}

TEST(Base36, RoundTripsEveryIndexAFieldRegistryWillUse) {
  std::set<std::string> keys;
  for (uint64_t n = 0; n < 50000; ++n) {
    const std::string key = ToBase36(n);
    ASSERT_EQ(FromBase36(key), n);
    ASSERT_TRUE(keys.insert(key).second);
    // S3 lower-cases metadata keys; a key must already be lower case to survive.
    ASSERT_EQ(util::ToLower(key), key);
  }
}

TEST(Base36, StrictParsing) {
  for (const char* bad : {"", "A", "1A", "00", "01", "-1", "+1", " 1", "1 ", "1.0", "_v",
                          "3w5e11264sgsg",  // UINT64_MAX + 1
                          "zzzzzzzzzzzzzzz", "10000000000000000000000000"}) {
    EXPECT_EQ(FromBase36(bad), std::nullopt) << bad;
  }
}

TEST(ResourceName, AcceptsTheAllowedShapes) {
  for (const char* good : {"users", "Users", "u", "0", "9lives", "order-items", "order_items", "a-", "a_"}) {
    EXPECT_TRUE(ValidateResourceName(good).ok()) << good;
  }
  EXPECT_TRUE(ValidateResourceName(std::string(64, 'n')).ok());
}

TEST(ResourceName, RejectionsNameTheNameAndTheRule) {
  struct Case {
    std::string name;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "is empty"},
      {std::string(65, 'n'), "has 65 characters; the limit is 64"},
      {"_users", "must start with a letter or digit"},
      {"-users", "must start with a letter or digit"},
      {"users/x", "may contain only"},
      {"users=x", "may contain only"},
      {"user s", "may contain only"},
      {"usérs", "may contain only"},
      {"users.v2", "may contain only"},
      {"a\nb", "may contain only"},
  };
  for (const auto& [name, message_part] : cases) {
    Status status = ValidateResourceName(name);
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(status.message().find(message_part), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("resource name"), std::string::npos) << status.message();
  }
  EXPECT_NE(ValidateResourceName("users/x").message().find("\"users/x\""), std::string::npos);
  EXPECT_NE(ValidateResourceName("a\nb").message().find(R"("a\x0Ab")"), std::string::npos)
      << ValidateResourceName("a\nb").message();
}

TEST(Id, AcceptsCallerIds) {
  for (const char* good : {"a", "-dash", "...", ".x", "x.", "user 1", " ", "Olá", "😀", "50%", "a=b", "a\\b", "~",
                           "\xC2\x80"}) {  // U+0080 is not < 0x20 or 0x7F
    EXPECT_TRUE(ValidateId(good).ok()) << good << ": " << ValidateId(good).message();
  }
  EXPECT_TRUE(ValidateId(std::string(256, 'x')).ok());
  std::string two_byte_chars;
  for (int i = 0; i < 128; ++i) two_byte_chars += "é";
  EXPECT_TRUE(ValidateId(two_byte_chars).ok());  // 256 bytes, 128 characters
}

TEST(Id, RejectionsNameTheIdAndTheRule) {
  struct Case {
    std::string id;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "is empty"},
      {std::string(257, 'x'), "has 257 bytes; the limit is 256"},
      {"a/b", "contains '/'"},
      {"/", "contains '/'"},
      {".", "is reserved"},
      {"..", "is reserved"},
      {"a\nb", "control character"},
      {std::string("a\0b", 3), "control character"},
      {"a\x7F", "control character"},
      {"\x1F", "control character"},
      {"caf\xE9", "is not valid UTF-8"},
      {"\xED\xA0\x80", "is not valid UTF-8"},  // surrogate
      {"\xC0\xAF", "is not valid UTF-8"},      // overlong '/'
  };
  for (const auto& [id, message_part] : cases) {
    Status status = ValidateId(id);
    ASSERT_FALSE(status.ok()) << id;
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(status.message().find(message_part), std::string::npos) << status.message();
  }
}

TEST(Id, MessagesEscapeControlCharactersAndShortenLongIds) {
  EXPECT_NE(ValidateId("a\nb").message().find(R"(id "a\x0Ab")"), std::string::npos) << ValidateId("a\nb").message();
  EXPECT_NE(ValidateId("caf\xE9").message().find(R"("caf\xE9")"), std::string::npos) << ValidateId("caf\xE9").message();
  const std::string long_id = std::string(300, 'x');
  const std::string message = ValidateId(long_id).message();
  EXPECT_NE(message.find("\"" + std::string(64, 'x') + "\"..."), std::string::npos) << message;
  EXPECT_LT(message.size(), 140u);
  // Shortening never cuts a UTF-8 character in half.
  std::string euros;
  for (int i = 0; i < 100; ++i) euros += "€";  // 3 bytes each: 300 bytes
  const std::string euro_message = ValidateId(euros).message();
  EXPECT_TRUE(util::IsValidUtf8(euro_message)) << euro_message;
  EXPECT_NE(euro_message.find("€€\"..."), std::string::npos) << euro_message;
}

TEST(Id, NewIdIsTwentyTwoAlphanumericsAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = NewId();
    ASSERT_EQ(id.size(), kGeneratedIdLength);
    for (char c : id) {
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) << id;
    }
    ASSERT_TRUE(ValidateId(id).ok());
    ASSERT_EQ(EncodeIdForKey(id), id);  // nothing to escape, so keys stay readable
    ASSERT_TRUE(ids.insert(id).second) << "duplicate " << id;
  }
}

TEST(IdSegment, DecodeRejectsAnythingEncodeWouldNotWrite) {
  struct Case {
    std::string segment;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "does not hold a valid id"},       {"%", "malformed %-escape"},           {"a%2", "malformed %-escape"},
      {"a%zz", "malformed %-escape"},         {"a%2fb", "does not hold a valid id"},  // decodes to "a/b"
      {"%2E", "does not hold a valid id"},                                            // "."
      {"%2E%2E", "does not hold a valid id"},                                         // ".."
      {"a%0Ab", "does not hold a valid id"},                                          // control character
      {"caf%E9", "does not hold a valid id"},                                         // not UTF-8
      {"a%3db", "not canonically encoded"},                                           // lower-case hex
      {"a=b", "not canonically encoded"},                                             // '=' must be escaped
      {"a b", "not canonically encoded"},     {"%41", "not canonically encoded"},     // 'A' needs no escape
      {"%7E", "not canonically encoded"},                                             // '~' is unreserved
  };
  for (const auto& [segment, message_part] : cases) {
    Result<std::string> id = DecodeIdFromKey(segment);
    ASSERT_FALSE(id.ok()) << segment << " decoded to " << *id;
    EXPECT_EQ(id.code(), ErrorCode::kCorruption);
    EXPECT_NE(id.status().message().find(message_part), std::string::npos) << id.status().message();
  }
}

TEST(KeyLayout, CatalogAndPrefixes) {
  const KeyLayout bare("");
  EXPECT_EQ(bare.Catalog(), "s3db.json");
  EXPECT_EQ(bare.ResourcePrefix("users"), "resource=users/");
  EXPECT_EQ(bare.RecordPrefix("users"), "resource=users/data/id=");

  const KeyLayout nested("a/b");
  EXPECT_EQ(nested.prefix(), "a/b");
  EXPECT_EQ(nested.Catalog(), "a/b/s3db.json");
  EXPECT_EQ(nested.ResourcePrefix("users"), "a/b/resource=users/");
  EXPECT_EQ(nested.RecordPrefix("users"), "a/b/resource=users/data/id=");
  EXPECT_EQ(nested.RecordKey("users", "x y"), "a/b/resource=users/data/id=x%20y");
}

TEST(KeyLayout, EdgeSlashesOfThePrefixAreDropped) {
  EXPECT_EQ(KeyLayout("/a/b/").Catalog(), "a/b/s3db.json");
  EXPECT_EQ(KeyLayout("a/").prefix(), "a");
  EXPECT_EQ(KeyLayout("/").Catalog(), "s3db.json");
}

TEST(KeyLayoutVectors, EveryGoldenLine) {
  const std::string path = std::string(S3DB_TEST_DATA_DIR) + "/key_layout_vectors.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in.is_open()) << path;
  std::string text;
  int checked = 0;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.empty()) continue;
    SCOPED_TRACE("key_layout_vectors.jsonl:" + std::to_string(line));
    const json vector = json::parse(text);
    if (vector.contains("partition")) continue;  // PartitionVectors reads these
    const KeyLayout layout(vector.at("prefix").get<std::string>());
    const std::string resource = vector.at("resource").get<std::string>();
    const std::string id = vector.at("id").get<std::string>();
    const std::string key = vector.at("key").get<std::string>();
    ASSERT_TRUE(ValidateResourceName(resource).ok()) << resource;
    ASSERT_TRUE(ValidateId(id).ok()) << ValidateId(id).message();
    EXPECT_EQ(layout.RecordKey(resource, id), key);
    EXPECT_EQ(layout.IdFromRecordKey(resource, key), id);
    EXPECT_TRUE(util::StartsWith(key, layout.ResourcePrefix(resource)));
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

// The partition lines of the same file: segments -> list prefix and reference key, both ways.
TEST(KeyLayoutGolden, PartitionVectors) {
  const std::string path = std::string(S3DB_TEST_DATA_DIR) + "/key_layout_vectors.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in.is_open()) << path;
  std::string text;
  int checked = 0;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.empty()) continue;
    SCOPED_TRACE("key_layout_vectors.jsonl:" + std::to_string(line));
    const json vector = json::parse(text);
    if (!vector.contains("partition")) continue;
    const KeyLayout layout(vector.at("prefix").get<std::string>());
    const std::string resource = vector.at("resource").get<std::string>();
    const std::string partition = vector.at("partition").get<std::string>();
    const std::string id = vector.at("id").get<std::string>();
    PartitionSegments segments;
    for (const auto& s : vector.at("segments")) segments.emplace_back(s.at(0), s.at(1));
    ASSERT_TRUE(ValidatePartitionName(partition).ok()) << partition;
    const std::string list_prefix = vector.at("list_prefix").get<std::string>();
    const std::string key = vector.at("key").get<std::string>();
    EXPECT_EQ(layout.PartitionValuesPrefix(resource, partition, segments), list_prefix);
    EXPECT_EQ(layout.PartitionKey(resource, partition, segments, id), key);
    EXPECT_EQ(list_prefix.back(), '/');
    EXPECT_TRUE(util::StartsWith(key, list_prefix));
    EXPECT_TRUE(util::StartsWith(key, layout.PartitionPrefix(resource, partition)));
    EXPECT_EQ(layout.IdFromRecordKey(resource, key), std::nullopt);  // never taken for a record
    const auto parts = layout.ParsePartitionKey(resource, key);
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->partition, partition);
    EXPECT_EQ(parts->segments, segments);
    EXPECT_EQ(parts->id, id);
    ++checked;
  }
  EXPECT_GE(checked, 14);
}

TEST(KeyLayoutPartition, APrefixValueNeverMatchesALongerValue) {
  const KeyLayout layout("db");
  const std::string eu = layout.PartitionValuesPrefix("users", "byRegion", {{"region", "eu"}});
  const std::string eu_west = layout.PartitionKey("users", "byRegion", {{"region", "eu-west"}}, "x");
  EXPECT_FALSE(util::StartsWith(eu_west, eu));
  // A leading run of fields lists every reference under it.
  const std::string country = layout.PartitionValuesPrefix("users", "byState", {{"c", "US"}});
  EXPECT_TRUE(util::StartsWith(layout.PartitionKey("users", "byState", {{"c", "US"}, {"s", "CA"}}, "x"), country));
  EXPECT_FALSE(util::StartsWith(layout.PartitionKey("users", "byState", {{"c", "USA"}, {"s", "CA"}}, "x"), country));
}

TEST(KeyLayoutPartition, ParseRejectsWhatPartitionKeyNeverWrites) {
  const KeyLayout layout("");
  for (const char* bad : {
           "resource=users/partition=byRegion/id=x",                // no field level
           "resource=users/partition=byRegion/region=eu",           // no id level
           "resource=users/partition=byRegion/region=eu/x",         // last level is not id=
           "resource=users/partition=by Region/region=eu/id=x",     // bad partition name
           "resource=users/partition=_p/region=eu/id=x",            // reserved start
           "resource=users/partition=byRegion/region/id=x",         // level without '='
           "resource=users/partition=byRegion/=eu/id=x",            // empty field
           "resource=users/partition=byRegion/region=a b/id=x",     // raw space
           "resource=users/partition=byRegion/region=%2f/id=x",     // lower-case hex
           "resource=users/partition=byRegion/region=%41/id=x",     // unneeded escape
           "resource=users/partition=byRegion/region=%4/id=x",      // malformed escape
           "resource=users/partition=byRegion/region=eu/id=",       // empty id
           "resource=users/partition=byRegion/region=eu/id=a%2Fb",  // id with '/'
           "resource=users2/partition=byRegion/region=eu/id=x",     // another resource
           "resource=users/data/id=x",                              // a record
       }) {
    EXPECT_EQ(layout.ParsePartitionKey("users", bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(layout.ParsePartitionKey("users", "resource=users/partition=byRegion/region=/id=x").has_value());
}

TEST(KeyLayoutPartition, PartitionNames) {
  for (const char* good : {"byRegion", "p", "0", "by-date_2"}) EXPECT_TRUE(ValidatePartitionName(good).ok()) << good;
  for (const char* bad : {"", "_p", "-p", "by region", "by/region", "by=x", "b\u00e9"}) {
    const Status status = ValidatePartitionName(bad);
    EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("partition name"), std::string::npos) << status.message();
  }
  EXPECT_FALSE(ValidatePartitionName(std::string(65, 'p')).ok());
}

// Random values and ids round-trip through a reference key.
TEST(KeyLayoutPartition, RandomSegmentsRoundTrip) {
  std::mt19937 rng(7);
  const KeyLayout layout("p");
  for (int i = 0; i < 2000; ++i) {
    PartitionSegments segments;
    const int levels = 1 + static_cast<int>(rng() % 3);
    for (int l = 0; l < levels; ++l) {
      std::string value;
      const size_t n = rng() % 12;
      for (size_t c = 0; c < n; ++c) value.push_back(static_cast<char>(rng() % 256));
      segments.emplace_back("f" + std::to_string(l) + ".x", value);
    }
    const std::string id = "id-" + std::to_string(i);
    const auto parts = layout.ParsePartitionKey("r", layout.PartitionKey("r", "part", segments, id));
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->segments, segments);
    EXPECT_EQ(parts->id, id);
  }
}

// Random valid ids: 1..256 bytes drawn from every UTF-8 length class, minus '/' and controls.
std::string RandomId(std::mt19937& rng) {
  auto pick = [&rng](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
  std::string id;
  const size_t target = pick(1, 256);
  while (id.size() < target) {
    std::string c;
    switch (pick(0, 3)) {
      case 0: {
        const auto ascii = static_cast<char>(pick(0x20, 0x7E));
        if (ascii != '/') c = std::string(1, ascii);
        break;
      }
      case 1: {
        const uint32_t cp = pick(0x80, 0x7FF);
        c = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
        break;
      }
      case 2: {
        const uint32_t cp = pick(0xE000, 0xFFFD);  // above the surrogates
        c = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
             static_cast<char>(0x80 | (cp & 0x3F))};
        break;
      }
      default: {
        const uint32_t cp = pick(0x10000, 0x10FFFF);
        c = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
             static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
        break;
      }
    }
    if (id.size() + c.size() <= target)
      id += c;
    else if (id.empty())
      id = "x";
    else
      break;
  }
  if (id == "." || id == "..") id += "x";
  return id;
}

TEST(KeyLayoutProperty, RandomIdsRoundTripThroughKeys) {
  std::mt19937 rng(1234);
  const KeyLayout layout("tenant/prod");
  for (int i = 0; i < 2000; ++i) {
    const std::string id = RandomId(rng);
    ASSERT_TRUE(ValidateId(id).ok()) << ValidateId(id).message();
    const std::string key = layout.RecordKey("users", id);
    const std::string segment = key.substr(layout.RecordPrefix("users").size());
    for (char c : segment) {
      ASSERT_TRUE(util::IsUnreserved(static_cast<unsigned char>(c)) || c == '%') << segment;
    }
    ASSERT_EQ(DecodeIdFromKey(segment).value(), id);
    ASSERT_EQ(layout.IdFromRecordKey("users", key), id);
  }
}

TEST(KeyLayoutProperty, ResourcesNeverClaimEachOthersKeys) {
  std::mt19937 rng(99);
  const KeyLayout layout("p");
  for (int i = 0; i < 1000; ++i) {
    const std::string id = RandomId(rng);
    EXPECT_EQ(layout.IdFromRecordKey("users", layout.RecordKey("users2", id)), std::nullopt);
    EXPECT_EQ(layout.IdFromRecordKey("users2", layout.RecordKey("users", id)), std::nullopt);
    EXPECT_EQ(layout.IdFromRecordKey("user", layout.RecordKey("users", id)), std::nullopt);
    EXPECT_EQ(KeyLayout("").IdFromRecordKey("users", layout.RecordKey("users", id)), std::nullopt);
  }
}

TEST(KeyLayout, IdFromRecordKeyRejectsEverythingElse) {
  const KeyLayout layout("");
  for (const char* key : {"s3db.json", "resource=users/", "resource=users/data/id=", "resource=users/data/id=a/b",
                          "resource=users/data/id=a%2fb", "resource=users/data/id=a b", "resource=users/data/id=.",
                          "resource=users/data/idx=a",
                          "resource=users/partition=byRegion/"
                          "region=eu/id=abc",
                          "Resource=users/data/id=abc", "/resource=users/data/id=abc"}) {
    EXPECT_EQ(layout.IdFromRecordKey("users", key), std::nullopt) << key;
  }
  EXPECT_EQ(layout.IdFromRecordKey("users", "resource=users/data/id=abc"), "abc");
}

TEST(KeyLayout, WorstCaseRecordKeyLeavesRoomForAPrefixUnderS3sLimit) {
  // S3 keys are at most 1024 bytes; a 64-character name and a 256-byte id that is escaped
  // throughout take 850, which leaves 174 bytes for "<prefix>/".
  std::string id;
  for (int i = 0; i < 128; ++i) id += "é";
  const std::string key = KeyLayout("").RecordKey(std::string(64, 'n'), id);
  EXPECT_EQ(key.size(), 850u);
}

}  // namespace
}  // namespace s3db::format
