// The attribute rule language of the seeds ("string|min:2|max:100", nested objects) parsed
// into a tree of FieldRules, and the validator that checks a record against it.
//
// Validation collects every failing field (dotted path, rule, expected, actual) rather than
// stopping at the first. It also normalises values where a rule asks for it (trim,
// lowercase, uppercase, defaults), so the caller validates a copy and stores the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "s3db/errors.h"
#include "s3db/json.h"

namespace s3db::core {

enum class FieldType {
  kString, kNumber, kBoolean, kEmail, kUrl, kUuid, kDate, kEnum, kArray, kObject, kAny, kCurrency,
  kNested,  // an object declared by its own attributes ({"city": "string"})
};

struct FieldRule {
  std::string name;        // last path segment
  std::string path;        // dotted path from the record root
  FieldType type = FieldType::kAny;
  std::string type_name;   // as written ("email")
  bool optional = false;
  bool nullable = false;
  std::optional<Json> default_value;
  std::optional<double> min, max;      // length for strings, value for numbers, size for arrays
  std::optional<size_t> length;        // exact length (strings, arrays)
  bool integer = false, positive = false, negative = false;
  bool trim = false, lowercase = false, uppercase = false;
  bool unique_items = false;
  bool allow_empty = true;             // arrays: `empty:false` forbids []
  std::optional<std::string> pattern;  // ECMAScript regex for strings
  std::vector<std::string> enum_values;
  std::optional<FieldType> item_type;  // arrays: `items:T`
  std::vector<FieldRule> children;     // kNested
};

// Parses a resource's attributes. Throws InvalidSchema naming the attribute path and the
// problem (unknown type, unknown rule, bad argument).
std::vector<FieldRule> ParseAttributes(const Json& attributes);

// Checks (and normalises) `data`, a record without "id". Unknown top-level or nested fields
// are errors: a schema names every field a record may have.
std::vector<FieldError> ValidateRecord(const std::vector<FieldRule>& rules, Json& data);

// Storage paths in the order the field registry indexes them: for every rule, depth-first,
// its own path (a nested object's own path carries null / {} when it has no children set),
// then its children's paths.
std::vector<std::string> StoragePaths(const std::vector<FieldRule>& rules);

}  // namespace s3db::core
