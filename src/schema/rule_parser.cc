// Parsing of the attribute rule language (schema_rules.h): the shorthand text, the object
// form, nested objects of attributes and multi-type lists all end in one FieldRule tree. A
// rule is checked as it is parsed (known keys for its type, sound arguments, a default its
// own rule accepts), so a Schema that parsed is one the validator can apply.
#include "schema/schema_rules.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "s3db/errors.h"
#include "schema/rule_messages.h"
#include "schema/rule_types.h"
#include "schema/rule_validator.h"
#include "util/text.h"

namespace s3db::core {
namespace rules {
namespace {

// ---- Rule keys: which types take them and what argument they need -------------------------

enum class Arg { kFlag, kNumber, kCount, kText, kList, kItems, kDefault, kStrict, kProps };

struct RuleKey {
  const char* name;
  Arg arg;
  bool (*applies)(FieldType);
  const char* applies_to;  // for the message when it does not apply
};

bool Any(FieldType) { return true; }
bool StringLike(FieldType t) { return IsStringLike(t); }
bool PlainString(FieldType t) { return IsStringLike(t) && t != FieldType::kSecret; }
bool Numeric(FieldType t) { return IsNumeric(t); }
bool Sized(FieldType t) { return IsStringLike(t) || IsNumeric(t) || t == FieldType::kArray; }
bool Counted(FieldType t) { return IsStringLike(t) || t == FieldType::kArray; }
bool ArrayOnly(FieldType t) { return t == FieldType::kArray; }
bool ObjectOnly(FieldType t) { return t == FieldType::kObject || t == FieldType::kNested; }
bool CurrencyOnly(FieldType t) { return t == FieldType::kCurrency; }
bool Enumerable(FieldType t) {
  return t == FieldType::kString || IsNumeric(t) || t == FieldType::kEnum || t == FieldType::kArray;
}
bool Convertible(FieldType t) {
  return t == FieldType::kString || IsNumeric(t) || t == FieldType::kBoolean || t == FieldType::kDate ||
         t == FieldType::kArray;
}
bool Uniqueable(FieldType t) { return IsScalar(t) || t == FieldType::kArray; }

constexpr RuleKey kRuleKeys[] = {
    {"optional", Arg::kFlag, Any, ""},
    {"required", Arg::kFlag, Any, ""},
    {"nullable", Arg::kFlag, Any, ""},
    {"default", Arg::kDefault, Any, ""},
    {"convert", Arg::kFlag, Convertible, "string, number, currency, boolean, date and array"},
    {"min", Arg::kNumber, Sized, "strings (length), numbers (value) and arrays (item count)"},
    {"max", Arg::kNumber, Sized, "strings (length), numbers (value) and arrays (item count)"},
    {"maxlength", Arg::kCount, StringLike, "strings (in partition fields it truncates instead)"},
    {"length", Arg::kCount, Counted, "strings and arrays"},
    {"integer", Arg::kFlag, Numeric, "numbers"},
    {"positive", Arg::kFlag, Numeric, "numbers"},
    {"negative", Arg::kFlag, Numeric, "numbers"},
    {"trim", Arg::kFlag, StringLike, "strings"},
    {"lowercase", Arg::kFlag, PlainString, "strings"},
    {"uppercase", Arg::kFlag, PlainString, "strings"},
    {"empty", Arg::kFlag, Counted, "strings and arrays"},
    {"pattern", Arg::kText, StringLike, "strings"},
    {"patternFlags", Arg::kText, StringLike, "strings"},
    {"enum", Arg::kList, Enumerable, "string, number and array"},
    {"values", Arg::kList, Enumerable, "enum, string, number and array"},
    {"items", Arg::kItems, ArrayOnly, "arrays"},
    {"unique", Arg::kFlag, Uniqueable, "scalar fields (across records) and arrays (distinct items)"},
    {"symbol", Arg::kText, CurrencyOnly, "currency"},
    {"props", Arg::kProps, ObjectOnly, "object"},
    {"properties", Arg::kProps, ObjectOnly, "object"},
    {"strict", Arg::kStrict, ObjectOnly, "objects with declared fields"},
};

const RuleKey* LookupKey(const std::string& name) {
  for (const auto& k : kRuleKeys) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

// The shorthand argument text as the JSON the object form would have given.
Json ShorthandArg(const FieldRule& rule, const RuleKey& key, const std::string& text, bool has_colon) {
  const std::string& path = rule.path;
  switch (key.arg) {
    case Arg::kFlag:
      if (!has_colon || text == "true") return true;
      if (text == "false") return false;
      Bad(path, "rule '" + std::string(key.name) + "' takes true or false, got '" + text + "'");
    case Arg::kNumber:
    case Arg::kCount:
      return FiniteNumber(path, key.name, text);
    case Arg::kText:
      return text;
    case Arg::kList: {
      if (text.empty()) Bad(path, "rule '" + std::string(key.name) + "' needs a comma-separated list of values");
      Json list = Json::array();
      const bool numeric = IsNumeric(rule.type);
      for (const auto& v : util::Split(text, ',')) {
        if (!numeric) {
          list.push_back(v);
          continue;
        }
        Json n = Json::parse(v, nullptr, /*allow_exceptions=*/false);
        if (!n.is_number()) Bad(path, "enum value '" + v + "' of a number field is not a number");
        list.push_back(n);
      }
      return list;
    }
    case Arg::kItems:
      return text;
    case Arg::kStrict:
      if (!has_colon || text == "true") return true;
      if (text == "false") return false;
      if (text == "remove") return "remove";
      Bad(path, "rule 'strict' takes true, false or remove, got '" + text + "'");
    case Arg::kProps:
      Bad(path, "rule '" + std::string(key.name) + "' exists only in the object form");
    case Arg::kDefault:
      switch (rule.type) {
        case FieldType::kBoolean:
          if (text == "true") return true;
          if (text == "false") return false;
          Bad(path, "default for a boolean must be true or false, got '" + text + "'");
        case FieldType::kNumber:
        case FieldType::kCurrency: {
          Json v = Json::parse(text, nullptr, false);
          if (!v.is_number()) Bad(path, "default for a number must be a number, got '" + text + "'");
          return v;
        }
        case FieldType::kArray:
        case FieldType::kObject:
        case FieldType::kAny: {
          Json v = Json::parse(text, nullptr, false);
          if (v.is_discarded()) Bad(path, "default '" + text + "' is not JSON");
          return v;
        }
        default:
          return text;
      }
  }
  return text;
}

FieldRule ParseSpec(const Json& spec, const std::string& name, const std::string& path, int depth);
std::vector<FieldRule> ParseFields(const Json& attributes, const std::string& prefix, int depth);

// A default must pass its own rule; it is stored normalised, as a caller's value would be.
void CheckDefault(FieldRule& rule) {
  std::vector<FieldError> errors;
  Json v = *rule.default_value;
  FieldRule bare = rule;
  bare.default_value.reset();
  ValidateField(bare, v, rule.path, &errors);
  if (!errors.empty()) {
    Bad(rule.path, "default " + Shorten(*rule.default_value) + " does not satisfy its own rule: " + errors[0].message);
  }
  rule.default_value = v;
}

constexpr int kMaxDepth = 32;

// Applies one rule key with its JSON argument; both forms end here.
void ApplyKey(FieldRule& rule, const std::string& key_name, const Json& arg, int depth) {
  const std::string& path = rule.path;
  const RuleKey* key = LookupKey(key_name);
  if (!key) Bad(path, "unknown rule '" + key_name + "' for type '" + rule.type_name + "'");
  if (!key->applies(rule.type)) {
    Bad(path,
        "rule '" + key_name + "' does not apply to type '" + rule.type_name + "' (only to " + key->applies_to + ")");
  }
  auto flag = [&]() {
    if (!arg.is_boolean()) Bad(path, "rule '" + key_name + "' takes true or false, got " + arg.dump());
    return arg.get<bool>();
  };
  auto number = [&]() {
    if (!arg.is_number()) Bad(path, "rule '" + key_name + "' needs a number, got " + arg.dump());
    return arg.get<double>();
  };
  auto count = [&]() {
    double v = number();
    if (v < 0 || std::floor(v) != v || v > 1e9) {
      Bad(path, "rule '" + key_name + "' needs a whole number >= 0, got " + arg.dump());
    }
    return static_cast<size_t>(v);
  };
  if (key_name == "optional") {
    rule.optional = flag();
  } else if (key_name == "required") {
    rule.optional = !flag();
  } else if (key_name == "nullable") {
    rule.nullable = flag();
  } else if (key_name == "default") {
    if (rule.is_secret()) Bad(path, "a secret field cannot have a default (it would sit in the catalog in clear)");
    rule.default_value = arg;
  } else if (key_name == "convert") {
    rule.convert = flag();
  } else if (key_name == "min") {
    rule.min = number();
  } else if (key_name == "max") {
    rule.max = number();
  } else if (key_name == "maxlength") {
    rule.max = static_cast<double>(count());
  } else if (key_name == "length") {
    rule.length = count();
  } else if (key_name == "integer") {
    rule.integer = flag();
  } else if (key_name == "positive") {
    rule.positive = flag();
  } else if (key_name == "negative") {
    rule.negative = flag();
  } else if (key_name == "trim") {
    rule.trim = flag();
  } else if (key_name == "lowercase") {
    rule.lowercase = flag();
  } else if (key_name == "uppercase") {
    rule.uppercase = flag();
  } else if (key_name == "empty") {
    rule.allow_empty = flag();
  } else if (key_name == "pattern") {
    if (!arg.is_string()) Bad(path, "rule 'pattern' needs a string");
    rule.pattern = arg.get<std::string>();
  } else if (key_name == "patternFlags") {
    if (!arg.is_string()) Bad(path, "rule 'patternFlags' needs a string");
    for (char f : arg.get<std::string>()) {
      if (f != 'i') Bad(path, std::string("pattern flag '") + f + "' is not supported (only 'i')");
    }
    rule.pattern_ignore_case = arg.get<std::string>().find('i') != std::string::npos;
  } else if (key_name == "enum" || key_name == "values") {
    if (!arg.is_array() || arg.empty()) Bad(path, "rule '" + key_name + "' needs a non-empty list of values");
    rule.enum_values.clear();
    for (const auto& v : arg) {
      if (v.is_object() || v.is_array() || v.is_null()) {
        Bad(path, "enum values must be strings, numbers or booleans, got " + v.dump());
      }
      rule.enum_values.push_back(v);
    }
  } else if (key_name == "items") {
    if (arg.is_null()) Bad(path, "rule 'items' needs a rule");
    FieldRule item = ParseSpec(arg, "", path + "[]", depth + 1);
    if (item.is_secret()) Bad(path, "array items cannot be secret: only a whole field is encrypted");
    if (item.unique && item.type != FieldType::kArray) {
      Bad(path, "'unique' inside 'items' is not a rule; put it on the array to make its items distinct");
    }
    rule.items = {std::move(item)};
  } else if (key_name == "unique") {
    rule.unique = flag();
  } else if (key_name == "symbol") {
    if (!arg.is_string() || arg.get<std::string>().empty()) Bad(path, "rule 'symbol' needs the currency symbol");
    rule.currency_symbol = arg.get<std::string>();
  } else if (key_name == "props" || key_name == "properties") {
    if (rule.type == FieldType::kNested) Bad(path, "give the fields once, as 'props' or as 'properties'");
    if (!arg.is_object()) Bad(path, "rule '" + key_name + "' needs an object of attributes");
    rule.type = FieldType::kNested;
    rule.children = ParseFields(arg, path, depth + 1);
    if (rule.children.empty()) Bad(path, "a nested object needs at least one attribute");
  } else if (key_name == "strict") {
    if (rule.type != FieldType::kNested) {
      Bad(path,
          "rule 'strict' applies to objects with declared fields (give 'props', or declare the fields as a "
          "nested object with \"$$type\": \"object|strict:remove\")");
    }
    if (arg == true) {
      rule.strict = Strictness::kReject;
    } else if (arg == false) {
      rule.strict = Strictness::kKeep;
    } else if (arg == "remove") {
      rule.strict = Strictness::kRemove;
    } else {
      Bad(path, "rule 'strict' takes true, false or \"remove\", got " + arg.dump());
    }
  }
}

// Consistency of a rule once all its keys are in.
void Finish(FieldRule& rule) {
  const std::string& path = rule.path;
  if (rule.type == FieldType::kEnum && rule.enum_values.empty()) {
    Bad(path, "type 'enum' needs its values: enum|values:a,b");
  }
  if (rule.positive && rule.negative) Bad(path, "rules 'positive' and 'negative' contradict each other");
  if (rule.lowercase && rule.uppercase) Bad(path, "rules 'lowercase' and 'uppercase' contradict each other");
  if (rule.min && rule.max && *rule.min > *rule.max) Bad(path, "min is greater than max");
  if (!rule.pattern) {
    if (rule.pattern_ignore_case) Bad(path, "'patternFlags' without a 'pattern'");
  } else {
    Result<util::Pattern> compiled =
        util::Pattern::Compile(*rule.pattern, util::Pattern::Options{rule.pattern_ignore_case});
    if (!compiled.ok()) Bad(path, "rule 'pattern' is not a valid regular expression: " + compiled.status().message());
    rule.compiled_pattern = std::make_shared<const util::Pattern>(std::move(compiled).value());
  }
  if (rule.default_value) CheckDefault(rule);
}

FieldRule ParseShorthand(const std::string& name, const std::string& path, const std::string& text, int depth) {
  FieldRule rule;
  rule.name = name;
  rule.path = path;
  const std::vector<std::string> parts = util::Split(text, '|');
  rule.type_name = parts[0];
  auto type = LookupType(rule.type_name);
  if (!type) Bad(path, "unknown type '" + rule.type_name + "' (known: " + KnownTypes() + ")");
  rule.type = *type;
  std::set<std::string> seen;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const size_t colon = part.find(':');
    const std::string key_name = part.substr(0, colon);
    const std::string arg = colon == std::string::npos ? "" : part.substr(colon + 1);
    if (key_name.empty()) Bad(path, "empty rule in '" + text + "' (a stray '|'?)");
    if (!seen.insert(key_name).second) Bad(path, "rule '" + key_name + "' is given twice");
    const RuleKey* key = LookupKey(key_name);
    if (!key) Bad(path, "unknown rule '" + key_name + "' for type '" + rule.type_name + "'");
    if (!key->applies(rule.type)) {
      Bad(path,
          "rule '" + key_name + "' does not apply to type '" + rule.type_name + "' (only to " + key->applies_to + ")");
    }
    ApplyKey(rule, key_name, ShorthandArg(rule, *key, arg, colon != std::string::npos), depth);
  }
  Finish(rule);
  return rule;
}

FieldRule ParseObjectForm(const Json& spec, const std::string& name, const std::string& path, int depth) {
  FieldRule rule;
  rule.name = name;
  rule.path = path;
  rule.type_name = spec["type"].get<std::string>();
  rule.type = *LookupType(rule.type_name);
  // "props" first: it turns an object into a nested one, which other keys depend on.
  for (const char* props : {"props", "properties"}) {
    if (spec.contains(props)) ApplyKey(rule, props, spec[props], depth);
  }
  for (const auto& [key, arg] : spec.items()) {
    if (key == "type" || key == "props" || key == "properties") continue;
    if (!LookupKey(key)) {
      Bad(path, "unknown rule '" + key + "' in the object form of type '" + rule.type_name +
                    "' (an object with \"type\": \"" + rule.type_name +
                    "\" is a rule; to declare a nested object with a field named 'type', add \"$$type\": "
                    "\"object\")");
    }
    ApplyKey(rule, key, arg, depth);
  }
  Finish(rule);
  return rule;
}

FieldRule ParseNested(const Json& spec, const std::string& name, const std::string& path, int depth) {
  FieldRule nested;
  nested.name = name;
  nested.path = path;
  nested.type = FieldType::kNested;
  nested.type_name = "object";
  nested.children = ParseFields(spec, path, depth + 1);
  if (nested.children.empty())
    Bad(path, "a nested object needs at least one attribute (use \"object\" for any object)");
  // Optional when nothing inside it is required, unless "$$type" says otherwise.
  bool all_optional = true;
  for (const auto& c : nested.children) all_optional &= c.optional || c.default_value.has_value();
  nested.optional = all_optional;
  if (spec.contains("$$type")) {
    const Json& own = spec["$$type"];
    if (!own.is_string()) Bad(path, "'$$type' must be a rule string such as \"object|optional\"");
    const std::vector<std::string> parts = util::Split(own.get<std::string>(), '|');
    if (parts[0] != "object") Bad(path, "'$$type' must be of type object, got '" + parts[0] + "'");
    nested.optional = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      const size_t colon = parts[i].find(':');
      const std::string key = parts[i].substr(0, colon);
      const std::string arg = colon == std::string::npos ? "" : parts[i].substr(colon + 1);
      if (key == "optional" || key == "required" || key == "nullable") {
        const RuleKey* k = LookupKey(key);
        ApplyKey(nested, key, ShorthandArg(nested, *k, arg, colon != std::string::npos), depth);
      } else if (key == "strict") {
        ApplyKey(nested, key, ShorthandArg(nested, *LookupKey(key), arg, colon != std::string::npos), depth);
      } else {
        Bad(path, "'$$type' takes optional, required, nullable and strict; got '" + key + "'");
      }
    }
  }
  return nested;
}

FieldRule ParseMulti(const Json& spec, const std::string& name, const std::string& path, int depth) {
  if (spec.empty()) Bad(path, "a multi-type list needs at least one rule");
  FieldRule multi;
  multi.name = name;
  multi.path = path;
  multi.type = FieldType::kMulti;
  multi.type_name = "multi";
  for (const auto& alt : spec) {
    if (alt.is_array()) Bad(path, "a multi-type list cannot contain another list");
    FieldRule rule = ParseSpec(alt, name, path, depth + 1);
    if (rule.is_secret()) Bad(path, "a secret field cannot have other types besides 'secret'");
    if (rule.unique) Bad(path, "'unique' is not available on a multi-type field");
    multi.optional |= rule.optional;
    multi.nullable |= rule.nullable;
    if (!multi.default_value && rule.default_value) multi.default_value = rule.default_value;
    multi.alternatives.push_back(std::move(rule));
  }
  if (multi.alternatives.size() == 1) return std::move(multi.alternatives[0]);
  return multi;
}

FieldRule ParseSpec(const Json& spec, const std::string& name, const std::string& path, int depth) {
  if (depth > kMaxDepth) Bad(path, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
  if (spec.is_string()) return ParseShorthand(name, path, spec.get<std::string>(), depth);
  if (spec.is_array()) return ParseMulti(spec, name, path, depth);
  if (spec.is_object()) {
    const bool object_form = !spec.contains("$$type") && spec.contains("type") && spec["type"].is_string() &&
                             LookupType(spec["type"].get<std::string>()).has_value();
    if (object_form) return ParseObjectForm(spec, name, path, depth);
    return ParseNested(spec, name, path, depth);
  }
  Bad(path, "a rule must be a string, an object or a list of rules, got " + std::string(spec.type_name()));
}

std::vector<FieldRule> ParseFields(const Json& attributes, const std::string& prefix, int depth) {
  if (!attributes.is_object()) Bad(prefix, "attributes must be a JSON object");
  std::vector<FieldRule> rules;
  for (const auto& [name, spec] : attributes.items()) {
    if (name == "$$type" || (prefix.empty() && name == "$$strict")) continue;
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (name.empty() || name.find_first_of(".[]") != std::string::npos || name[0] == '$' || name[0] == '_') {
      Bad(path, "a field name must be non-empty, must not contain '.', '[' or ']' and must not start with '$' or '_'");
    }
    if (!util::IsValidUtf8(name)) Bad(path, "a field name must be valid UTF-8");
    rules.push_back(ParseSpec(spec, name, path, depth));
  }
  return rules;
}

}  // namespace
}  // namespace rules

Schema ParseAttributes(const Json& attributes) {
  Schema schema;
  if (!attributes.is_object()) rules::Bad("", "attributes must be a JSON object");
  if (attributes.contains("$$strict")) {
    const Json& s = attributes["$$strict"];
    if (s == true) {
      schema.strict = Strictness::kReject;
    } else if (s == "remove") {
      schema.strict = Strictness::kRemove;
    } else {
      rules::Bad("$$strict", "takes true or \"remove\" (undeclared top-level fields have nowhere to be stored)");
    }
  }
  Json fields = attributes;
  if (fields.contains("id")) {
    FieldRule id = rules::ParseSpec(fields["id"], "id", "id", 0);
    auto allowed = [](const FieldRule& r) {
      return r.type == FieldType::kString || r.type == FieldType::kNumber || r.type == FieldType::kUuid;
    };
    const bool ok = id.type == FieldType::kMulti ? std::all_of(id.alternatives.begin(), id.alternatives.end(), allowed)
                                                 : allowed(id);
    if (!ok) rules::Bad("id", "the record id can only be declared as string, number or uuid (or a list of them)");
    if (id.default_value || id.nullable) rules::Bad("id", "the record id cannot have a default or be nullable");
    id.unique = false;  // ids are unique by construction
    schema.id = std::move(id);
    fields.erase("id");
  }
  schema.fields = rules::ParseFields(fields, "", 0);
  return schema;
}

}  // namespace s3db::core
