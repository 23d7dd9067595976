// Golden vectors of the record codec (tests/data/record_vectors.jsonl, docs/FORMAT.md
// "Records"): for a resource definition, a record and a budget, the exact metadata and body
// EncodeRecord writes, the metadata bytes it counts, which fields went to the body or were
// cut, or the error it throws; and the record DecodeRecord rebuilds from that metadata and
// body. A change of the on-bucket format or of the size accounting fails here, line by line.
//
// Each line is {"name", "note", "input": {resource, id, budget, definition, record},
// "expected": {...}}. The expected parts come from the code: S3DB_REGENERATE_GOLDEN=1 rewrites
// them (inputs kept), after which the diff must be read against docs/FORMAT.md before it is
// committed. Two things are random and masked: the body's write tag, and a secret's sealed
// text (its length is fixed, so the byte counts still pin it down; its round trip is checked
// on the encoder's own output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "record/record_codec.h"
#include "s3db/errors.h"
#include "support/json_lines.h"

namespace s3db {
namespace {

using testing::IdenticalJson;
using testing::ReadJsonLines;

constexpr const char* kFile = "record_vectors.jsonl";
constexpr std::string_view kTagMask = "<write-tag-16ch>";  // as long as the tag it stands for
constexpr std::string_view kTagHead = "\"w\":\"";
constexpr size_t kTagSize = 16;
constexpr const char* kSealedMask = "<sealed>";

bool Regenerating() {
  const char* flag = std::getenv("S3DB_REGENERATE_GOLDEN");
  return flag != nullptr && std::string(flag) == "1";
}

std::shared_ptr<const core::ResourceState> StateOf(const Json& input) {
  const std::string resource = input.at("resource");
  const ResourceDefinition def = ResourceDefinition::FromJson(resource, input.at("definition"));
  Json catalog = core::EmptyCatalog();
  core::AddResourceVersion(catalog, def, 0);
  return core::BuildResourceState(resource, catalog["resources"][resource]);
}

// One keyring for the vectors with secret fields: key id 1 (PBKDF2 at 1000 rounds, once).
const core::Keyring& Keys() {
  static core::Keyring keys(std::string("golden"), 1000);
  static const bool installed = [] {
    keys.Install(keys.DeriveFirstKey(0));
    return true;
  }();
  (void)installed;
  return keys;
}

std::set<std::string> SecretKeys(const core::VersionSpec& spec) {
  std::set<std::string> keys;
  for (const auto& field : spec.fields) {
    if (field.rule && field.rule->is_secret()) keys.insert(field.key);
  }
  return keys;
}

// The body with its write tag masked; the tag is the last member ("w" sorts after "f").
std::string MaskTag(const std::string& body) {
  const size_t tag = body.size() - 2 - kTagSize;
  EXPECT_TRUE(body.size() >= kTagHead.size() + kTagSize + 2 && body.ends_with("\"}") &&
              body.compare(tag - kTagHead.size(), kTagHead.size(), kTagHead) == 0)
      << "no write tag at the end of " << body;
  std::string masked = body;
  masked.replace(tag, kTagSize, kTagMask);
  return masked;
}

// The outcome of EncodeRecord as the golden file writes it.
Json Outcome(const Json& input, const core::VersionSpec& spec, core::EncodedRecord* encoded) {
  try {
    *encoded = core::EncodeRecord(input.at("record"), spec, input.at("budget").get<size_t>(),
                                  input.at("resource").get<std::string>(), input.at("id").get<std::string>(), &Keys(),
                                  &spec.partition_paths);
  } catch (const Error& e) {
    return Json{{"error", ErrorCodeName(e.code())}, {"message", e.what()}};
  }
  const std::set<std::string> secrets = SecretKeys(spec);
  Json metadata = Json::object();
  for (const auto& [key, value] : encoded->metadata) {
    const bool sealed = secrets.count(key) > 0 && value != "z";
    if (sealed) {
      EXPECT_TRUE(value.starts_with("E1:")) << key << " is not sealed";
    }
    metadata[key] = sealed ? Json(kSealedMask) : Json(value);
  }
  std::string body = MaskTag(encoded->body);
  if (Json parsed = Json::parse(encoded->body); parsed.contains("f")) {
    for (const auto& key : secrets) {
      if (!parsed["f"].contains(key) || !parsed["f"][key].is_string()) continue;
      const std::string sealed = Json(parsed["f"][key]).dump();
      EXPECT_TRUE(sealed.starts_with("\"E1:")) << key << " is not sealed in the body";
      body.replace(body.find(sealed), sealed.size(), Json(kSealedMask).dump());
    }
  }
  return Json{{"metadata", metadata},
              {"metadata_bytes", encoded->metadata_bytes},
              {"full_bytes", encoded->full_bytes},
              {"body", body},
              {"body_paths", encoded->body_paths},
              {"truncated_paths", encoded->truncated_paths}};
}

Json Decode(const Metadata& metadata, const std::string& body, const Json& input, const core::VersionSpec& spec,
            std::vector<std::string>* truncated) {
  core::DecodeOptions options;
  options.truncated_paths = truncated;
  return core::DecodeRecord(metadata, body, spec, input.at("resource").get<std::string>(),
                            input.at("id").get<std::string>(), &Keys(), options);
}

bool HasMaskedSecret(const Json& expected) {
  return expected.at("body").get<std::string>().find(kSealedMask) != std::string::npos ||
         std::any_of(expected.at("metadata").begin(), expected.at("metadata").end(),
                     [](const Json& v) { return v == kSealedMask; });
}

// Rewrites the expected part of every line from the current code; the inputs stay as they are.
void Regenerate(const std::vector<testing::JsonLine>& lines) {
  std::string out;
  for (const auto& [number, vector] : lines) {
    const Json& input = vector.at("input");
    auto state = StateOf(input);
    core::EncodedRecord encoded;
    Json expected = Outcome(input, state->current(), &encoded);
    if (!expected.contains("error")) {
      const Json decoded = Decode(encoded.metadata, encoded.body, input, state->current(), nullptr);
      if (!IdenticalJson(input.at("record"), decoded)) expected["decoded"] = decoded;
    }
    // Written by hand so the members keep this order (Json sorts them).
    out += "{\"name\":" + vector.at("name").dump() + ",\"note\":" + vector.at("note").dump() +
           ",\"input\":" + input.dump() + ",\"expected\":" + expected.dump() + "}\n";
  }
  std::ofstream(std::string(S3DB_TEST_DATA_DIR) + "/" + kFile, std::ios::trunc) << out;
}

TEST(RecordGolden, EncodeAndDecodeEveryVector) {
  const std::vector<testing::JsonLine> lines = ReadJsonLines(kFile);
  ASSERT_FALSE(lines.empty());
  if (Regenerating()) {
    Regenerate(lines);
    GTEST_SKIP() << "regenerated " << kFile << ": review the diff before committing it";
  }
  for (const auto& [number, vector] : lines) {
    SCOPED_TRACE(std::string(kFile) + ":" + std::to_string(number) + " " + vector.value("name", ""));
    ASSERT_TRUE(vector.contains("expected")) << "no expected part: run once with S3DB_REGENERATE_GOLDEN=1";
    const Json& input = vector.at("input");
    const Json& expected = vector.at("expected");
    auto state = StateOf(input);
    const core::VersionSpec& spec = state->current();

    // The input is a validated record, as the codec requires: validation leaves it as it is.
    Json validated = input.at("record");
    EXPECT_TRUE(core::ValidateRecord(spec.schema, validated).empty());
    EXPECT_TRUE(IdenticalJson(input.at("record"), validated));

    core::EncodedRecord encoded;
    const Json actual = Outcome(input, spec, &encoded);
    for (const char* member :
         {"error", "message", "metadata", "metadata_bytes", "full_bytes", "body", "body_paths", "truncated_paths"}) {
      EXPECT_TRUE(IdenticalJson(expected.value(member, Json()), actual.value(member, Json()), member));
    }
    if (expected.contains("error")) continue;

    // Decoding gives the record back (truncate-data: what it kept), with the cut fields named.
    // From the golden metadata and body, unless a sealed value is masked there.
    Metadata metadata;
    for (const auto& [key, value] : expected.at("metadata").items()) metadata[key] = value.get<std::string>();
    std::string body = expected.at("body");
    body.replace(body.find(kTagMask), kTagMask.size(), "0123456789abcdef");
    if (HasMaskedSecret(expected)) {
      metadata = encoded.metadata;
      body = encoded.body;
    }
    std::vector<std::string> truncated;
    const Json decoded = Decode(metadata, body, input, spec, &truncated);
    EXPECT_TRUE(IdenticalJson(expected.value("decoded", input.at("record")), decoded, "decoded"));
    EXPECT_TRUE(IdenticalJson(expected.at("truncated_paths"), Json(truncated), "truncated on read"));
  }
}

// The file covers what it is meant to: every behavior, each side of the budget, an error.
TEST(RecordGolden, VectorsCoverEveryBehaviorAndTheBoundary) {
  std::set<std::string> behaviors, names;
  for (const auto& [number, vector] : ReadJsonLines(kFile)) {
    behaviors.insert(vector.at("input").at("definition").value("behavior", "user-managed"));
    names.insert(vector.at("name").get<std::string>());
  }
  EXPECT_EQ(behaviors,
            (std::set<std::string>{"user-managed", "enforce-limits", "truncate-data", "body-overflow", "body-only"}));
  for (const char* behavior : {"user-managed", "enforce-limits", "truncate-data", "body-overflow", "body-only"}) {
    for (const char* side : {"budget-1", "budget", "budget+1"}) {
      EXPECT_TRUE(names.count(std::string(behavior) + "/ascii-" + side)) << behavior << " " << side;
    }
  }
}

}  // namespace
}  // namespace s3db
