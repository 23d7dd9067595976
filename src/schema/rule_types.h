// The type names of the rule language ("string", "email", ...), which kind of value each type
// is, and what both rule parsers (attributes in rule_parser.cc, partition fields in
// partition_field_rule.cc) throw. Internal to src/schema; calls nothing above util.
//
// May call: format/, util/.
#pragma once

#include <optional>
#include <string>

#include "schema/schema_rules.h"

namespace s3db::core::rules {

// The type a rule names, or nullopt when no type has that name ("json" is "any").
std::optional<FieldType> LookupType(const std::string& name);
std::string KnownTypes();  // "string, number, ...", for the unknown-type message

bool IsStringLike(FieldType t);  // string, email, url, uuid, secret
bool IsNumeric(FieldType t);     // number, currency
bool IsScalar(FieldType t);      // what can be a key segment or unique across records

// Throws InvalidSchema naming the attribute path ("(attributes)" when empty).
[[noreturn]] void Bad(const std::string& path, const std::string& what);

// A rule argument as a finite number ("min:2"); Bad otherwise.
double FiniteNumber(const std::string& path, const std::string& key, const std::string& text);

}  // namespace s3db::core::rules
