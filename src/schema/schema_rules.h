// The attribute rule language of the seeds, parsed into a tree of FieldRules, and the
// validator that checks (and normalises) a record against it. docs/API.md "Resources" is
// the user's description; tests/data/schema_rules.test pins every rule down.
//
// A rule is written in one of three forms, anywhere a rule may stand (an attribute, an
// array's `items`, an alternative of a multi-type list):
//   - shorthand text: "string|min:2|max:100|trim", "array|items:string|unique";
//   - object form: {"type": "string", "min": 2, "optional": true} -- a JSON object whose
//     "type" member is a string naming a known type (fastest-validator's convention);
//   - a nested object of attributes: {"city": "string", "zip": "string|optional"}. A nested
//     object that needs a field called "type" says so with "$$type" (its own rule, e.g.
//     "object|optional"): an object with "$$type" is always a nested object.
// A JSON array is a multi-type rule: ["string", "number"] accepts a value that fits any.
//
// Validation collects every failing field (dotted path, rule, expected, actual) rather than
// stopping at the first, and never shows the value of a secret field. It normalises where a
// rule says so (defaults, convert, trim, lowercase/uppercase, dates to canonical ISO 8601),
// so the caller validates a copy and stores the result.
//
// The code: rule_parser.cc parses, rule_validator.cc validates (value_formats.h has the text
// formats, rule_messages.h the wording), schema_rules.cc answers questions about a Schema,
// partition_field_rule.cc parses partition field rules.
//
// Thread-safety: a parsed Schema is immutable and may be shared by any number of threads.
//
// May call: format/, util/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3db/errors.h"
#include "s3db/record.h"
#include "util/pattern.h"

namespace s3db::core {

enum class FieldType {
  kString,
  kNumber,
  kBoolean,
  kEmail,
  kUrl,
  kUuid,
  kDate,
  kEnum,
  kArray,
  kObject,
  kAny,
  kCurrency,
  kSecret,
  kNested,  // an object declared by its own attributes ({"city": "string"})
  kMulti,   // one of several rules (["string", "number"])
};

// What an object does with fields its schema does not name.
enum class Strictness {
  kReject,  // an error (the default: a schema names every field a record may have)
  kRemove,  // dropped silently (strict: "remove")
  kKeep,    // kept as they are (strict: false); nested objects only
};

struct FieldRule {
  std::string name;  // last path segment; empty for array items and alternatives
  std::string path;  // dotted path from the record root ("address.city", "tags[]")
  FieldType type = FieldType::kAny;
  std::string type_name;  // as written ("email")
  bool optional = false;
  bool nullable = false;
  std::optional<Json> default_value;
  bool convert = false;            // accept other JSON types the rule can convert
  std::optional<double> min, max;  // length (strings), value (numbers), count (arrays)
  std::optional<size_t> length;    // exact length (strings) or count (arrays)
  bool integer = false, positive = false, negative = false;
  bool trim = false, lowercase = false, uppercase = false;
  // Arrays: the items are distinct. Scalars: no two records of the resource hold the same
  // value (enforced by the resource layer with unique-value objects; docs/API.md).
  bool unique = false;
  bool allow_empty = true;             // empty:false forbids "" and []
  std::optional<std::string> pattern;  // ECMAScript syntax, see util/pattern.h
  bool pattern_ignore_case = false;
  std::shared_ptr<const util::Pattern> compiled_pattern;
  std::vector<Json> enum_values;            // for arrays: what every item must be one of
  std::string currency_symbol;              // currency: accepted in front of a text amount
  Strictness strict = Strictness::kReject;  // kNested
  std::vector<FieldRule> items;             // kArray with an item rule: exactly one
  std::vector<FieldRule> alternatives;      // kMulti
  std::vector<FieldRule> children;          // kNested

  bool is_secret() const { return type == FieldType::kSecret; }
};

struct Schema {
  std::vector<FieldRule> fields;
  // The top-level "id" attribute, when declared: the rule a caller-given id must satisfy.
  // The id is never a stored field (it lives in the object key).
  std::optional<FieldRule> id;
  Strictness strict = Strictness::kReject;  // "$$strict" at the top level

  bool HasSecrets() const;
  std::vector<std::string> SecretPaths() const;  // storage paths of secret fields
  // Fields whose value must be unique across records (scalar `unique`), depth-first.
  std::vector<const FieldRule*> UniqueFields() const;
  // The rule stored under a storage path (see StoragePaths), or nullptr.
  const FieldRule* Find(const std::string& path) const;
};

// Parses a resource's attributes. Throws InvalidSchema naming the attribute path and the
// problem (unknown type, unknown rule, bad argument, a default its own rule rejects).
Schema ParseAttributes(const Json& attributes);

// Checks (and normalises) `data`, a record without "id". Returns every failing field.
std::vector<FieldError> ValidateRecord(const Schema& schema, Json& data);

// Checks a caller-given id against schema.id (when declared) and returns it as text: a
// number the rule allows becomes its JSON text (7 -> "7"). Without an id rule only strings
// are ids. Fills `errors` (path "id") and returns nullopt when the id is refused.
std::optional<std::string> ValidateIdValue(const Schema& schema, const Json& id, std::vector<FieldError>* errors);

// Storage paths in the order the field registry indexes them: for every rule, depth-first,
// its own path (a nested object's own path holds null, {} or, with strict:false, its
// undeclared fields), then its children's paths.
std::vector<std::string> StoragePaths(const Schema& schema);

// A rule in words, for messages: "a string of length 2..100", "a string or a number".
std::string DescribeRule(const FieldRule& rule);

// ---- Partition field rules ------------------------------------------------------------------
// "string", "string|maxlength:2", "date|maxlength:10": how a partitioned field's value becomes
// a key segment. Parsed here so the rule language has one parser; the partition layer uses it.

struct PartitionFieldRule {
  std::string path;
  FieldType type = FieldType::kString;
  std::optional<size_t> maxlength;  // truncate the segment to this many characters
};

// Throws InvalidSchema naming the partition field for anything but a scalar type with
// optional `maxlength:N`.
PartitionFieldRule ParsePartitionFieldRule(const std::string& path, const std::string& text);

// The segment text of a validated value: strings as they are, dates as canonical ISO 8601,
// numbers and booleans as JSON text; then cut to maxlength characters ("date|maxlength:10"
// gives "2024-06-27"). nullopt for null or a container.
std::optional<std::string> PartitionSegment(const PartitionFieldRule& rule, const Json& value);

}  // namespace s3db::core
