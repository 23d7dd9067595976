// Resource definitions and their rules (src/schema): a schema file as `s3db resource create
// --schema` reads it (ResourceDefinition::FromJson, CheckDefinition: the rule parser, the
// partitions), an export (ResourceDefinition::Import), a catalog as read from a bucket
// (CheckCatalog, BuildResourceState), one rule's shorthand text, and a record validated
// against the definition.
//
// Input: line 1 a JSON document (a definition, an export or a catalog), the rest a record
// (JSON). Each is checked for depth first, as every way into s3db does (s3db/json_limits.h).
//
// Invariants: only s3db's typed errors; a definition that is accepted prints (ToJson) to one
// that is accepted with the same hash, and exports and imports back to it; validation
// normalises once (validating its own output changes nothing).
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "s3db/json_limits.h"
#include "schema/catalog.h"
#include "schema/schema_rules.h"

namespace {

using s3db::Json;
using s3db_fuzz::Check;
using s3db_fuzz::FailsOnlyTyped;
namespace core = s3db::core;

Json ParseBounded(std::string_view text) {
  if (s3db::JsonTextTooDeep(text)) return Json(Json::value_t::discarded);
  return Json::parse(text, nullptr, /*allow_exceptions=*/false);
}

void CheckRecord(const core::Schema& schema, std::string_view record_text) {
  Json record = ParseBounded(record_text);
  if (record.is_discarded() || !record.is_object()) return;
  record.erase("id");  // ValidateRecord takes a record without its id
  FailsOnlyTyped("ValidateRecord", [&] {
    if (!core::ValidateRecord(schema, record).empty()) return;
    Json again = record;
    const std::vector<s3db::FieldError> errors = core::ValidateRecord(schema, again);
    if (!errors.empty()) s3db_fuzz::Broken("a validated record fails validation: " + record.dump());
    if (!s3db_fuzz::SameJson(record, again)) {
      s3db_fuzz::Broken("validation changed its own output: " + record.dump() + " -> " + again.dump());
    }
  });
}

void CheckDefinition(const Json& document, std::string_view record_text) {
  s3db::ResourceDefinition definition;
  core::Schema schema;
  if (FailsOnlyTyped("FromJson/CheckDefinition", [&] {
        definition = s3db::ResourceDefinition::FromJson("fuzzed", document);
        std::vector<core::PartitionSpec> partitions;
        schema = core::CheckDefinition(definition, &partitions);
      })) {
    return;
  }
  const Json printed = definition.ToJson();
  std::string problem;
  FailsOnlyTyped(
      "reading ToJson() back",
      [&] {
        const s3db::ResourceDefinition again = s3db::ResourceDefinition::FromJson("fuzzed", printed);
        (void)core::CheckDefinition(again);
        if (again.DefinitionHash() != definition.DefinitionHash()) {
          s3db_fuzz::Broken("ToJson() changed the definition: " + printed.dump());
        }
        const s3db::ResourceDefinition imported = s3db::ResourceDefinition::Import(definition.Export());
        Check(imported.DefinitionHash() == definition.DefinitionHash(), "Import(Export()) changed the definition");
      },
      &problem);
  if (!problem.empty())
    s3db_fuzz::Broken("an accepted definition does not read back: " + printed.dump() + ": " + problem);
  CheckRecord(schema, record_text);
}

void CheckCatalog(const Json& document) {
  FailsOnlyTyped("a catalog", [&] {
    core::CheckCatalog(document);
    for (const auto& [name, entry] : document.at("resources").items()) (void)core::BuildResourceState(name, entry);
  });
}

void CheckRuleText(const std::string& rule) {
  FailsOnlyTyped("a rule", [&] { (void)core::ParseAttributes(Json{{"f", rule}}); });
  FailsOnlyTyped("a partition rule", [&] { (void)core::ParsePartitionFieldRule("f", rule); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  auto [first_line, record_text] = s3db_fuzz::SplitAt(text, "\n");
  if (first_line.size() <= 200 && first_line.find('{') == std::string_view::npos) {
    CheckRuleText(std::string(first_line));
  }
  const Json document = ParseBounded(first_line);
  if (document.is_discarded()) return 0;
  if (document.is_object() && document.contains("resources")) {
    CheckCatalog(document);
  } else if (document.is_object()) {
    CheckDefinition(document, record_text);
    FailsOnlyTyped("Import", [&] { (void)s3db::ResourceDefinition::Import(document); });
  }
  return 0;
}
