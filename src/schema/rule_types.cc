// The type table of the rule language and the helpers both rule parsers share.
#include "schema/rule_types.h"

#include <cmath>
#include <cstdlib>

#include "s3db/errors.h"

namespace s3db::core::rules {
namespace {

struct TypeName {
  const char* name;
  FieldType type;
};

constexpr TypeName kTypes[] = {
    {"string", FieldType::kString},     {"number", FieldType::kNumber}, {"boolean", FieldType::kBoolean},
    {"email", FieldType::kEmail},       {"url", FieldType::kUrl},       {"uuid", FieldType::kUuid},
    {"date", FieldType::kDate},         {"enum", FieldType::kEnum},     {"array", FieldType::kArray},
    {"object", FieldType::kObject},     {"any", FieldType::kAny},       {"json", FieldType::kAny},
    {"currency", FieldType::kCurrency}, {"secret", FieldType::kSecret},
};

}  // namespace

std::optional<FieldType> LookupType(const std::string& name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.type;
  }
  return std::nullopt;
}

std::string KnownTypes() {
  std::string out;
  for (const auto& t : kTypes) out += (out.empty() ? "" : ", ") + std::string(t.name);
  return out;
}

[[noreturn]] void Bad(const std::string& path, const std::string& what) {
  throw InvalidSchema("attribute '" + (path.empty() ? "(attributes)" : path) + "': " + what);
}

bool IsStringLike(FieldType t) {
  return t == FieldType::kString || t == FieldType::kEmail || t == FieldType::kUrl || t == FieldType::kUuid ||
         t == FieldType::kSecret;
}
bool IsNumeric(FieldType t) { return t == FieldType::kNumber || t == FieldType::kCurrency; }
bool IsScalar(FieldType t) {
  return (IsStringLike(t) && t != FieldType::kSecret) || IsNumeric(t) || t == FieldType::kBoolean ||
         t == FieldType::kDate || t == FieldType::kEnum;
}

double FiniteNumber(const std::string& path, const std::string& key, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    Bad(path, "rule '" + key + "' needs a number, got '" + text + "'");
  }
  return v;
}

}  // namespace s3db::core::rules
