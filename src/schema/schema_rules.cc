#include "schema/schema_rules.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "format/value_codec.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {
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

double FiniteNumber(const std::string& path, const std::string& key, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    Bad(path, "rule '" + key + "' needs a number, got '" + text + "'");
  }
  return v;
}

std::vector<std::string> SplitOn(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
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
      for (const auto& v : SplitOn(text, ',')) {
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
void CheckDefault(FieldRule& rule);

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
  const std::vector<std::string> parts = SplitOn(text, '|');
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
    const std::vector<std::string> parts = SplitOn(own.get<std::string>(), '|');
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

// ---- Validation -------------------------------------------------------------------------

std::string Shorten(const Json& v) {
  std::string s = v.dump(-1, ' ', true, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string KindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::null:
      return "null";
    default:
      return "a value";
  }
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsEmail(const std::string& s) {
  const size_t at = s.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= s.size() || s.size() > 254) return false;
  if (s.find_first_of(" \t\r\n\"(),:;<>[\\]") != std::string::npos) return false;
  if (s.find('@') != at) return false;
  const std::string local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos) {
    return false;
  }
  // The domain: dot-separated labels of letters, digits and '-', at least two of them.
  const std::vector<std::string> labels = SplitOn(domain, '.');
  if (labels.size() < 2) return false;
  for (const auto& label : labels) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label) {
      if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
    }
  }
  return true;
}

bool IsUrl(const std::string& s) {
  for (const char* scheme : {"http://", "https://"}) {
    const std::string prefix(scheme);
    if (s.size() > prefix.size() && util::ToLower(s.substr(0, prefix.size())) == prefix) {
      const std::string rest = s.substr(prefix.size());
      const size_t host_end = rest.find_first_of("/?#");
      const std::string host = rest.substr(0, host_end);
      return !host.empty() && host.front() != '.' && host.front() != ':' &&
             s.find_first_of(" \t\r\n<>\"{}|\\^`") == std::string::npos;
    }
  }
  return false;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::string Number(double d) {
  Json j = d;
  if (std::floor(d) == d && std::fabs(d) < 1e15) j = static_cast<int64_t>(d);
  return j.dump();
}

std::string EnumList(const std::vector<Json>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
  return "one of [" + out + "]";
}

// A currency amount written as text: optional sign, the rule's symbol (before or after the
// sign), digits with optional thousands separators, optional decimals. "$1,234.50" -> 1234.5.
std::optional<Json> ParseCurrencyText(const std::string& text, const std::string& symbol) {
  std::string s = Trim(text);
  bool negative = false;
  auto take = [&](const std::string& prefix) {
    if (!prefix.empty() && s.compare(0, prefix.size(), prefix) == 0) {
      s = s.substr(prefix.size());
      return true;
    }
    return false;
  };
  if (take("-")) negative = true;
  const bool had_symbol = take(symbol);
  if (!negative && take("-")) negative = true;
  if (!had_symbol && !symbol.empty()) take(symbol);
  const size_t dot = s.find('.');
  std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string::npos && frac.empty())) return std::nullopt;
  for (char c : frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (whole.find(',') != std::string::npos) {
    const std::vector<std::string> groups = SplitOn(whole, ',');
    if (groups[0].empty() || groups[0].size() > 3) return std::nullopt;
    for (size_t i = 1; i < groups.size(); ++i) {
      if (groups[i].size() != 3) return std::nullopt;
    }
    whole.clear();
    for (const auto& g : groups) whole += g;
  }
  for (char c : whole) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (whole.size() > 1 && whole[0] == '0') return std::nullopt;
  const std::string canonical = (negative ? "-" : "") + whole + (frac.empty() ? "" : "." + frac);
  Json v = Json::parse(canonical, nullptr, false);
  if (!v.is_number() || (v.is_number_float() && !std::isfinite(v.get<double>()))) return std::nullopt;
  return v;
}

std::string TypePhrase(const FieldRule& rule) {
  switch (rule.type) {
    case FieldType::kString:
      return "a string";
    case FieldType::kNumber:
      return "a number";
    case FieldType::kBoolean:
      return "a boolean";
    case FieldType::kEmail:
      return "an email address";
    case FieldType::kUrl:
      return "an http(s) URL";
    case FieldType::kUuid:
      return "a UUID";
    case FieldType::kDate:
      return "an ISO 8601 date";
    case FieldType::kEnum:
      return EnumList(rule.enum_values);
    case FieldType::kArray:
      return "an array";
    case FieldType::kObject:
    case FieldType::kNested:
      return "an object";
    case FieldType::kAny:
      return "any value";
    case FieldType::kCurrency:
      return "an amount";
    case FieldType::kSecret:
      return "a string (secret)";
    case FieldType::kMulti: {
      std::string out;
      for (size_t i = 0; i < rule.alternatives.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == rule.alternatives.size() ? " or " : ", ") + DescribeRule(rule.alternatives[i]);
      }
      return out;
    }
  }
  return "a value";
}

class Validator {
 public:
  explicit Validator(std::vector<FieldError>* errors) : errors_(errors) {}

  void Object(const std::vector<FieldRule>& rules, Strictness strict, Json& object, const std::string& prefix) {
    std::vector<std::string> extra;
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const auto& r : rules) known |= r.name == key;
      if (!known) extra.push_back(key);
    }
    for (const auto& key : extra) {
      if (strict == Strictness::kRemove) {
        object.erase(key);
      } else if (strict == Strictness::kReject) {
        // The value is not shown: a mistyped field name may well hold a password.
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        Push(path, "unknown", "a field of the schema", KindOf(object[key]),
             "'" + path + "' is not a field of the schema");
      }
    }
    for (const auto& rule : rules) {
      // Built from the prefix, not rule.path: inside array items the index is in the path.
      // Outside them the two agree, and rule.path saves building a string per field.
      const bool in_place = prefix.empty() ? rule.path == rule.name
                                           : rule.path.size() == prefix.size() + 1 + rule.name.size() &&
                                                 rule.path.compare(0, prefix.size(), prefix) == 0;
      const std::string built = in_place ? std::string() : prefix.empty() ? rule.name : prefix + "." + rule.name;
      const std::string& path = in_place ? rule.path : built;
      auto it = object.find(rule.name);
      if (it == object.end()) {
        if (rule.default_value) {
          object[rule.name] = *rule.default_value;
        } else if (rule.type == FieldType::kNested && rule.optional) {
          // An absent optional object still gets its children's defaults, when they make a
          // valid object on their own (no required child is missing).
          Json inner = Json::object();
          std::vector<FieldError> ignored;
          Validator(&ignored).Object(rule.children, rule.strict, inner, path);
          if (ignored.empty() && !inner.empty()) object[rule.name] = std::move(inner);
        } else if (!rule.optional) {
          Push(path, "required", "a value", "absent", "'" + path + "' is required");
        }
        continue;
      }
      Field(rule, *it, path);
    }
  }

  // A present value, null included.
  void Field(const FieldRule& rule, Json& v, const std::string& path) {
    if (v.is_null()) {
      if (rule.nullable) return;
      if (rule.default_value) {
        v = *rule.default_value;  // fastest-validator: null takes the default unless nullable
        return;
      }
      if (rule.optional) return;  // kept as null (the seeds: "preferences: null" is preserved)
      Fail(rule, path, "nullable", "a non-null value", v);
      return;
    }
    Value(rule, v, path);
  }

  // Checks a non-null value, normalising it in place.
  void Value(const FieldRule& rule, Json& v, const std::string& path) {
    switch (rule.type) {
      case FieldType::kMulti:
        return Multi(rule, v, path);
      case FieldType::kAny:
        return;
      case FieldType::kObject:
        if (!v.is_object()) Fail(rule, path, "type", "an object", v);
        return;
      case FieldType::kNested:
        if (!v.is_object()) {
          Fail(rule, path, "type", "an object", v);
          return;
        }
        return Object(rule.children, rule.strict, v, path);
      case FieldType::kArray:
        return Array(rule, v, path);
      case FieldType::kBoolean:
        return Boolean(rule, v, path);
      case FieldType::kNumber:
      case FieldType::kCurrency:
        return NumberValue(rule, v, path);
      case FieldType::kDate:
        return Date(rule, v, path);
      case FieldType::kEnum:
        if (!InEnum(rule.enum_values, v)) Fail(rule, path, "enum", EnumList(rule.enum_values), v);
        return;
      case FieldType::kString:
      case FieldType::kEmail:
      case FieldType::kUrl:
      case FieldType::kUuid:
      case FieldType::kSecret:
        return Text(rule, v, path);
    }
  }

 private:
  void Push(const std::string& path, const std::string& rule, const std::string& expected, const std::string& actual,
            const std::string& message) {
    errors_->push_back({path, rule, expected, actual, message});
  }

  void Fail(const FieldRule& rule, const std::string& path, const std::string& what, const std::string& expected,
            const Json& actual) {
    // A secret's value never leaves the validator, not even its kind.
    const std::string shown = rule.is_secret() ? "(secret, not shown)" : Shorten(actual);
    Push(path, what, expected, shown, "'" + path + "' fails '" + what + "': expected " + expected + ", got " + shown);
  }

  static bool InEnum(const std::vector<Json>& values, const Json& v) {
    for (const auto& e : values) {
      if (e == v) return true;
    }
    return false;
  }

  void Bounds(const FieldRule& rule, double measure, const std::string& what, const Json& v, const std::string& path) {
    if (rule.min && measure < *rule.min) Fail(rule, path, "min", what + " >= " + Number(*rule.min), v);
    if (rule.max && measure > *rule.max) Fail(rule, path, "max", what + " <= " + Number(*rule.max), v);
  }

  void Text(const FieldRule& rule, Json& v, const std::string& path) {
    if (!v.is_string()) {
      if (rule.convert && rule.type == FieldType::kString && (v.is_number() || v.is_boolean())) {
        v = v.dump();
      } else {
        Fail(rule, path, "type", TypePhrase(rule), v);
        return;
      }
    }
    if (rule.trim || rule.lowercase || rule.uppercase) {
      std::string t = v.get<std::string>();
      if (rule.trim) t = Trim(t);
      if (rule.lowercase) t = util::ToLower(t);
      if (rule.uppercase) {
        for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      v = std::move(t);
    }
    const std::string& s = v.get_ref<const std::string&>();
    switch (rule.type) {
      case FieldType::kEmail:
        if (!IsEmail(s)) return Fail(rule, path, "type", "an email address", v);
        break;
      case FieldType::kUrl:
        if (!IsUrl(s)) return Fail(rule, path, "type", "an http(s) URL", v);
        break;
      case FieldType::kUuid:
        if (!IsUuid(s)) return Fail(rule, path, "type", "a UUID (8-4-4-4-12 hex digits)", v);
        break;
      default:
        break;
    }
    const size_t n = CodePoints(s);
    if (!rule.allow_empty && n == 0) Fail(rule, path, "empty", "a non-empty string", v);
    Bounds(rule, static_cast<double>(n), "length", v, path);
    if (rule.length && n != *rule.length) Fail(rule, path, "length", "length " + std::to_string(*rule.length), v);
    if (rule.compiled_pattern && !rule.compiled_pattern->Search(s)) {
      Fail(rule, path, "pattern", "a match of /" + *rule.pattern + "/" + (rule.pattern_ignore_case ? "i" : ""), v);
    }
    if (!rule.enum_values.empty() && !InEnum(rule.enum_values, v)) {
      Fail(rule, path, "enum", EnumList(rule.enum_values), v);
    }
  }

  void Boolean(const FieldRule& rule, Json& v, const std::string& path) {
    if (v.is_boolean()) return;
    if (rule.convert) {
      static const char* kTrue[] = {"true", "1", "on"};
      static const char* kFalse[] = {"false", "0", "off"};
      if (v.is_number_integer() || v.is_number_unsigned()) {
        if (v == 1 || v == 0) {
          v = v == 1;
          return;
        }
      } else if (v.is_string()) {
        for (const char* t : kTrue) {
          if (v == t) {
            v = true;
            return;
          }
        }
        for (const char* f : kFalse) {
          if (v == f) {
            v = false;
            return;
          }
        }
      }
    }
    Fail(rule, path, "type", "a boolean", v);
  }

  void NumberValue(const FieldRule& rule, Json& v, const std::string& path) {
    if (!v.is_number()) {
      std::optional<Json> converted;
      if (v.is_string() && rule.type == FieldType::kCurrency) {
        converted = ParseCurrencyText(v.get<std::string>(), rule.currency_symbol);
      } else if (v.is_string() && rule.convert) {
        const std::string t = Trim(v.get<std::string>());
        Json n = Json::parse(t, nullptr, false);
        if (!t.empty() && n.is_number()) converted = n;
      } else if (v.is_boolean() && rule.convert) {
        converted = v.get<bool>() ? 1 : 0;
      }
      if (!converted) {
        const std::string expected = rule.type == FieldType::kCurrency
                                         ? "an amount (a number, or text such as " +
                                               (rule.currency_symbol.empty() ? std::string() : rule.currency_symbol) +
                                               "1,234.56)"
                                         : "a number";
        Fail(rule, path, "type", expected, v);
        return;
      }
      v = *converted;
    }
    if (v.is_number_float() && !std::isfinite(v.get<double>())) {
      Fail(rule, path, "type", "a finite number", v);
      return;
    }
    const double d = v.get<double>();
    Bounds(rule, d, "a value", v, path);
    if (rule.integer && std::floor(d) != d) Fail(rule, path, "integer", "an integer", v);
    if (rule.positive && !(d > 0)) Fail(rule, path, "positive", "a number > 0", v);
    if (rule.negative && !(d < 0)) Fail(rule, path, "negative", "a number < 0", v);
    if (!rule.enum_values.empty() && !InEnum(rule.enum_values, v)) {
      Fail(rule, path, "enum", EnumList(rule.enum_values), v);
    }
  }

  void Date(const FieldRule& rule, Json& v, const std::string& path) {
    std::optional<int64_t> ms;
    if (v.is_string()) {
      ms = util::ParseIso8601Ms(v.get_ref<const std::string&>());
    } else if (rule.convert && v.is_number_integer()) {
      ms = v.get<int64_t>();  // epoch milliseconds
    } else if (rule.convert && v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t{format::kMaxDateMs}) {
      ms = static_cast<int64_t>(v.get<uint64_t>());
    }
    if (!ms || *ms < format::kMinDateMs || *ms > format::kMaxDateMs) {
      Fail(rule, path, "type",
           rule.convert ? "an ISO 8601 date or epoch milliseconds"
                        : "an ISO 8601 date (2024-06-27 or 2024-06-27T12:34:56Z)",
           v);
      return;
    }
    // One canonical text per instant: what a read returns.
    if (!v.is_string() || !util::IsCanonicalIso8601Ms(v.get_ref<const std::string&>())) v = util::FormatIso8601Ms(*ms);
  }

  void Array(const FieldRule& rule, Json& v, const std::string& path) {
    if (!v.is_array()) {
      if (!rule.convert) {
        Fail(rule, path, "type", "an array", v);
        return;
      }
      v = Json::array({v});
    }
    if (!rule.allow_empty && v.empty()) Fail(rule, path, "empty", "a non-empty array", v);
    Bounds(rule, static_cast<double>(v.size()), "item count", v, path);
    if (rule.length && v.size() != *rule.length) {
      Fail(rule, path, "length", std::to_string(*rule.length) + " items", v);
    }
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      if (!rule.items.empty()) Field(rule.items[0], v[i], item_path);
      if (!rule.enum_values.empty() && !InEnum(rule.enum_values, v[i])) {
        Fail(rule, item_path, "enum", EnumList(rule.enum_values), v[i]);
      }
    }
    if (rule.unique) {
      std::set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        if (!seen.insert(v[i].dump()).second) {
          Fail(rule, path, "unique", "distinct items (item " + std::to_string(i) + " repeats an earlier one)", v);
          break;
        }
      }
    }
  }

  static bool TypeFits(const FieldRule& rule, const Json& v) {
    switch (rule.type) {
      case FieldType::kString:
      case FieldType::kEmail:
      case FieldType::kUrl:
      case FieldType::kUuid:
      case FieldType::kSecret:
      case FieldType::kDate:
        return v.is_string();
      case FieldType::kNumber:
      case FieldType::kCurrency:
        return v.is_number();
      case FieldType::kBoolean:
        return v.is_boolean();
      case FieldType::kArray:
        return v.is_array();
      case FieldType::kObject:
      case FieldType::kNested:
        return v.is_object();
      default:
        return true;
    }
  }

  // The first alternative that accepts the value wins (and normalises it). Otherwise report
  // the errors of the first alternative of the value's own type, or one type error.
  void Multi(const FieldRule& rule, Json& v, const std::string& path) {
    const FieldRule* closest = nullptr;
    for (const auto& alt : rule.alternatives) {
      std::vector<FieldError> errors;
      Json copy = v;
      Validator(&errors).Value(alt, copy, path);
      if (errors.empty()) {
        v = std::move(copy);
        return;
      }
      if (!closest && TypeFits(alt, v)) closest = &alt;
    }
    if (closest) {
      Json copy = v;
      Value(*closest, copy, path);
      return;
    }
    Fail(rule, path, "type", DescribeRule(rule), v);
  }

  std::vector<FieldError>* errors_;
};

void CheckDefault(FieldRule& rule) {
  std::vector<FieldError> errors;
  Json v = *rule.default_value;
  FieldRule bare = rule;
  bare.default_value.reset();
  Validator(&errors).Field(bare, v, rule.path);
  if (!errors.empty()) {
    Bad(rule.path, "default " + Shorten(*rule.default_value) + " does not satisfy its own rule: " + errors[0].message);
  }
  rule.default_value = v;  // normalised, as a value given by the caller would be
}

void CollectPaths(const std::vector<FieldRule>& rules, std::vector<std::string>* out) {
  for (const auto& r : rules) {
    out->push_back(r.path);
    CollectPaths(r.children, out);
  }
}

const FieldRule* FindIn(const std::vector<FieldRule>& rules, const std::string& path) {
  for (const auto& r : rules) {
    if (r.path == path) return &r;
    if (r.type == FieldType::kNested && path.compare(0, r.path.size() + 1, r.path + ".") == 0) {
      if (const FieldRule* found = FindIn(r.children, path)) return found;
    }
  }
  return nullptr;
}

void CollectSecrets(const std::vector<FieldRule>& rules, std::vector<std::string>* out) {
  for (const auto& r : rules) {
    if (r.is_secret()) out->push_back(r.path);
    CollectSecrets(r.children, out);
  }
}

void CollectUnique(const std::vector<FieldRule>& rules, std::vector<const FieldRule*>* out) {
  for (const auto& r : rules) {
    if (r.unique && r.type != FieldType::kArray) out->push_back(&r);
    CollectUnique(r.children, out);
  }
}

}  // namespace

std::string DescribeRule(const FieldRule& rule) {
  std::string out = TypePhrase(rule);
  if (rule.type == FieldType::kArray && !rule.items.empty()) out += " of " + TypePhrase(rule.items[0]);
  if (rule.min && rule.max) {
    out += (IsNumeric(rule.type)      ? " in "
            : IsStringLike(rule.type) ? " of length "
                                      : " of ") +
           Number(*rule.min) + ".." + Number(*rule.max) + (rule.type == FieldType::kArray ? " items" : "");
  } else if (rule.min) {
    out += (IsNumeric(rule.type)      ? " >= "
            : IsStringLike(rule.type) ? " of length >= "
                                      : " of >= ") +
           Number(*rule.min) + (rule.type == FieldType::kArray ? " items" : "");
  } else if (rule.max) {
    out += (IsNumeric(rule.type)      ? " <= "
            : IsStringLike(rule.type) ? " of length <= "
                                      : " of <= ") +
           Number(*rule.max) + (rule.type == FieldType::kArray ? " items" : "");
  }
  return out;
}

bool Schema::HasSecrets() const { return !SecretPaths().empty(); }

std::vector<std::string> Schema::SecretPaths() const {
  std::vector<std::string> out;
  CollectSecrets(fields, &out);
  return out;
}

std::vector<const FieldRule*> Schema::UniqueFields() const {
  std::vector<const FieldRule*> out;
  CollectUnique(fields, &out);
  return out;
}

const FieldRule* Schema::Find(const std::string& path) const { return FindIn(fields, path); }

Schema ParseAttributes(const Json& attributes) {
  Schema schema;
  if (!attributes.is_object()) Bad("", "attributes must be a JSON object");
  if (attributes.contains("$$strict")) {
    const Json& s = attributes["$$strict"];
    if (s == true) {
      schema.strict = Strictness::kReject;
    } else if (s == "remove") {
      schema.strict = Strictness::kRemove;
    } else {
      Bad("$$strict", "takes true or \"remove\" (undeclared top-level fields have nowhere to be stored)");
    }
  }
  Json fields = attributes;
  if (fields.contains("id")) {
    FieldRule id = ParseSpec(fields["id"], "id", "id", 0);
    auto allowed = [](const FieldRule& r) {
      return r.type == FieldType::kString || r.type == FieldType::kNumber || r.type == FieldType::kUuid;
    };
    const bool ok = id.type == FieldType::kMulti ? std::all_of(id.alternatives.begin(), id.alternatives.end(), allowed)
                                                 : allowed(id);
    if (!ok) Bad("id", "the record id can only be declared as string, number or uuid (or a list of them)");
    if (id.default_value || id.nullable) Bad("id", "the record id cannot have a default or be nullable");
    id.unique = false;  // ids are unique by construction
    schema.id = std::move(id);
    fields.erase("id");
  }
  schema.fields = ParseFields(fields, "", 0);
  return schema;
}

std::vector<FieldError> ValidateRecord(const Schema& schema, Json& data) {
  std::vector<FieldError> errors;
  if (!data.is_object()) {
    errors.push_back({"", "type", "an object", KindOf(data), "a record must be a JSON object"});
    return errors;
  }
  Validator(&errors).Object(schema.fields, schema.strict, data, "");
  return errors;
}

std::optional<std::string> ValidateIdValue(const Schema& schema, const Json& id, std::vector<FieldError>* errors) {
  if (!schema.id) {
    if (id.is_string()) return id.get<std::string>();
    errors->push_back({"id", "type", "a string", KindOf(id), "the id must be a string"});
    return std::nullopt;
  }
  Json v = id;
  const size_t before = errors->size();
  if (v.is_null()) {
    errors->push_back({"id", "type", DescribeRule(*schema.id), "null", "the id must not be null"});
    return std::nullopt;
  }
  Validator(errors).Value(*schema.id, v, "id");
  if (errors->size() != before) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  errors->push_back({"id", "type", "a string or a number", KindOf(v), "the id must be a string or a number"});
  return std::nullopt;
}

std::vector<std::string> StoragePaths(const Schema& schema) {
  std::vector<std::string> out;
  CollectPaths(schema.fields, &out);
  return out;
}

PartitionFieldRule ParsePartitionFieldRule(const std::string& path, const std::string& text) {
  auto bad = [&](const std::string& what) -> PartitionFieldRule {
    throw InvalidSchema("partition field '" + path + "': " + what);
  };
  PartitionFieldRule rule;
  rule.path = path;
  const std::vector<std::string> parts = SplitOn(text, '|');
  auto type = LookupType(parts[0]);
  if (!type) return bad("unknown type '" + parts[0] + "'");
  if (!IsScalar(*type)) return bad("type '" + parts[0] + "' cannot be a key segment (use a scalar type)");
  rule.type = *type;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    const std::string key = parts[i].substr(0, colon);
    if (key != "maxlength" || colon == std::string::npos) {
      return bad("only 'maxlength:N' may follow the type, got '" + parts[i] + "'");
    }
    const std::string arg = parts[i].substr(colon + 1);
    const double n = FiniteNumber(path, "maxlength", arg);
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
