// A record as read from a bucket someone else wrote (src/record/record_codec.cc, with
// src/format/value_codec.cc under it): RecordVersion and DecodeRecord over any metadata and
// body, under a resource definition that is part of the input too (the catalog is on the
// bucket as well).
//
// Input: line 1 the definition in the schema-file form (ResourceDefinition::FromJson), then
// one metadata entry per line, "key=value", up to an empty line, then the body, verbatim.
//
// Invariants: decoding fails only with s3db's typed errors (Corruption, AccessDenied, ...);
// a record that decodes and validates encodes and decodes back to the same value (unless
// truncate-data cut it).
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "record/keyring.h"
#include "record/record_codec.h"
#include "s3db/json_limits.h"
#include "schema/catalog.h"

namespace {

using s3db_fuzz::Check;
namespace core = s3db::core;

// One keyring with key id 1 (PBKDF2 at 1000 rounds, derived once), for secret fields.
const core::Keyring& Keys() {
  static core::Keyring keys(std::string("fuzz"), 1000);
  static const bool installed = [] {
    keys.Install(keys.DeriveFirstKey(0));
    return true;
  }();
  (void)installed;
  return keys;
}

// Building a resource's state is the slow part; the fuzzer mostly keeps line 1 as it is.
std::shared_ptr<const core::ResourceState> StateFor(const std::string& definition_text) {
  static std::map<std::string, std::shared_ptr<const core::ResourceState>> cache;
  if (auto it = cache.find(definition_text); it != cache.end()) return it->second;
  if (cache.size() >= 256) cache.clear();
  std::shared_ptr<const core::ResourceState> state;
  s3db_fuzz::FailsOnlyTyped("building the resource", [&] {
    if (s3db::JsonTextTooDeep(definition_text)) return;
    const s3db::Json document = s3db::Json::parse(definition_text, nullptr, /*allow_exceptions=*/false);
    if (!document.is_object()) return;
    const s3db::ResourceDefinition definition = s3db::ResourceDefinition::FromJson("fuzzed", document);
    s3db::Json catalog = core::EmptyCatalog();
    core::AddResourceVersion(catalog, definition, 0);
    state = core::BuildResourceState("fuzzed", catalog["resources"]["fuzzed"]);
  });
  cache[definition_text] = state;
  return state;
}

void CheckRoundTrip(const s3db::Json& decoded, const core::VersionSpec& spec) {
  s3db::Json validated = decoded;
  if (!core::ValidateRecord(spec.schema, validated).empty()) return;  // e.g. written by an older version
  core::EncodedRecord encoded;
  const bool failed = s3db_fuzz::FailsOnlyTyped("EncodeRecord", [&] {
    encoded = core::EncodeRecord(validated, spec, 2000, "fuzzed", "r1", &Keys(), &spec.partition_paths);
  });
  if (failed || !encoded.truncated_paths.empty()) return;
  s3db::Json again;
  s3db_fuzz::FailsOnlyTyped("decoding an encoded record", [&] {
    again = core::DecodeRecord(encoded.metadata, encoded.body, spec, "fuzzed", "r1", &Keys());
  });
  if (!s3db_fuzz::SameJson(validated, again)) {
    s3db_fuzz::Broken("encode+decode changed a record: " + validated.dump() + " came back as " + again.dump());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  auto [definition, rest] = s3db_fuzz::SplitAt(text, "\n");
  std::shared_ptr<const core::ResourceState> state = StateFor(std::string(definition));
  if (!state) return 0;
  const core::VersionSpec& spec = state->current();

  auto [metadata_lines, body_text] = s3db_fuzz::SplitAt(rest, "\n\n");
  const std::string body(body_text);  // the lambdas below capture it (clang 14 cannot capture a binding)
  s3db::Metadata metadata;
  while (!metadata_lines.empty()) {
    auto [line, more] = s3db_fuzz::SplitAt(metadata_lines, "\n");
    auto [key, value] = s3db_fuzz::SplitAt(line, "=");
    metadata[std::string(key)] = std::string(value);
    metadata_lines = more;
  }

  s3db_fuzz::FailsOnlyTyped("RecordVersion", [&] { (void)core::RecordVersion(metadata, "fuzzed", "r1"); });
  std::set<uint64_t> key_ids;
  std::vector<std::string> truncated;
  core::DecodeOptions skipping;
  skipping.skip_secrets = true;
  skipping.sealed_key_ids = &key_ids;
  skipping.truncated_paths = &truncated;
  s3db_fuzz::FailsOnlyTyped("DecodeRecord skipping secrets",
                            [&] { (void)core::DecodeRecord(metadata, body, spec, "fuzzed", "r1", nullptr, skipping); });
  s3db::Json decoded;
  const bool failed = s3db_fuzz::FailsOnlyTyped(
      "DecodeRecord", [&] { decoded = core::DecodeRecord(metadata, body, spec, "fuzzed", "r1", &Keys()); });
  if (!failed) CheckRoundTrip(decoded, spec);
  return 0;
}
