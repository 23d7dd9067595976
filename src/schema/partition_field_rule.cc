// Partition field rules ("string|maxlength:2", "date"): parsed with the attribute rule
// language's type table, and the key segment text they make of a record's value.
#include "schema/schema_rules.h"

#include <cmath>

#include "s3db/errors.h"
#include "schema/rule_types.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {

PartitionFieldRule ParsePartitionFieldRule(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& what) -> PartitionFieldRule {
    throw InvalidSchema("partition field '" + path + "': " + what);
  };
  PartitionFieldRule rule;
  rule.path = path;
  const std::vector<std::string> parts = util::Split(text, '|');
  auto type = rules::LookupType(parts[0]);
  if (!type) return bad("unknown type '" + parts[0] + "'");
  if (!rules::IsScalar(*type)) return bad("type '" + parts[0] + "' cannot be a key segment (use a scalar type)");
  rule.type = *type;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    const std::string key = parts[i].substr(0, colon);
    if (key != "maxlength" || colon == std::string::npos) {
      return bad("only 'maxlength:N' may follow the type, got '" + parts[i] + "'");
    }
    const std::string arg = parts[i].substr(colon + 1);
    const double n = rules::FiniteNumber(path, "maxlength", arg);
    if (n < 1 || std::floor(n) != n || n > 1024) return bad("maxlength needs a whole number 1..1024");
    rule.maxlength = static_cast<size_t>(n);
  }
  return rule;
}

std::optional<std::string> PartitionSegment(const PartitionFieldRule& rule, const Json& value) {
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
    if (rule.type == FieldType::kDate) {
      if (auto ms = util::ParseIso8601Ms(text)) text = util::FormatIso8601Ms(*ms);
    }
  } else if (value.is_number() || value.is_boolean()) {
    text = value.dump();
  } else {
    return std::nullopt;
  }
  if (rule.maxlength) {
    size_t chars = 0, cut = 0;
    for (; cut < text.size(); ++cut) {
      if ((static_cast<unsigned char>(text[cut]) & 0xC0) != 0x80 && chars++ == *rule.maxlength) break;
    }
    text.resize(cut);
  }
  return text;
}

}  // namespace s3db::core
