#include "core/schema_rules.h"

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

struct TypeName {
  const char* name;
  FieldType type;
};

constexpr TypeName kTypes[] = {
    {"string", FieldType::kString}, {"number", FieldType::kNumber},
    {"boolean", FieldType::kBoolean}, {"email", FieldType::kEmail},
    {"url", FieldType::kUrl},       {"uuid", FieldType::kUuid},
    {"date", FieldType::kDate},     {"enum", FieldType::kEnum},
    {"array", FieldType::kArray},   {"object", FieldType::kObject},
    {"any", FieldType::kAny},       {"json", FieldType::kAny},
    {"currency", FieldType::kCurrency},
};

std::optional<FieldType> LookupType(const std::string& name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.type;
  }
  return std::nullopt;
}

[[noreturn]] void Bad(const std::string& path, const std::string& what) {
  throw InvalidSchema("attribute '" + path + "': " + what);
}

double ParseNumberArg(const std::string& path, const std::string& rule, const std::string& arg) {
  char* end = nullptr;
  double v = std::strtod(arg.c_str(), &end);
  if (arg.empty() || end != arg.c_str() + arg.size() || !std::isfinite(v)) {
    Bad(path, "rule '" + rule + "' needs a number, got '" + arg + "'");
  }
  return v;
}

bool ParseFlagArg(const std::string& path, const std::string& rule, const std::string& arg) {
  if (arg.empty() || arg == "true") return true;
  if (arg == "false") return false;
  Bad(path, "rule '" + rule + "' takes true or false, got '" + arg + "'");
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Json ParseDefault(const FieldRule& rule, const std::string& arg) {
  switch (rule.type) {
    case FieldType::kBoolean:
      if (arg == "true") return true;
      if (arg == "false") return false;
      Bad(rule.path, "default for a boolean must be true or false, got '" + arg + "'");
    case FieldType::kNumber:
    case FieldType::kCurrency: {
      Json v = Json::parse(arg, nullptr, /*allow_exceptions=*/false);
      if (!v.is_number()) Bad(rule.path, "default for a number must be a number, got '" + arg + "'");
      return v;
    }
    case FieldType::kArray:
    case FieldType::kObject:
    case FieldType::kAny: {
      Json v = Json::parse(arg, nullptr, false);
      if (v.is_discarded()) Bad(rule.path, "default '" + arg + "' is not JSON");
      return v;
    }
    default:
      return arg;
  }
}

FieldRule ParseShorthand(const std::string& name, const std::string& path, const std::string& text) {
  FieldRule rule;
  rule.name = name;
  rule.path = path;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t bar = text.find('|', start);
    parts.push_back(text.substr(start, bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  rule.type_name = parts[0];
  if (rule.type_name == "secret") {
    Bad(path, "type 'secret' needs field encryption, which this version does not have yet");
  }
  auto type = LookupType(rule.type_name);
  if (!type) Bad(path, "unknown type '" + rule.type_name + "'");
  rule.type = *type;

  std::optional<std::string> default_arg;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    size_t colon = part.find(':');
    std::string key = part.substr(0, colon);
    std::string arg = colon == std::string::npos ? "" : part.substr(colon + 1);
    if (key == "optional") {
      rule.optional = ParseFlagArg(path, key, arg);
    } else if (key == "required") {
      rule.optional = !ParseFlagArg(path, key, arg);
    } else if (key == "nullable") {
      rule.nullable = ParseFlagArg(path, key, arg);
    } else if (key == "default") {
      default_arg = arg;
    } else if (key == "min") {
      rule.min = ParseNumberArg(path, key, arg);
    } else if (key == "max" || key == "maxlength") {
      rule.max = ParseNumberArg(path, key, arg);
    } else if (key == "length") {
      rule.length = static_cast<size_t>(ParseNumberArg(path, key, arg));
    } else if (key == "integer") {
      rule.integer = ParseFlagArg(path, key, arg);
    } else if (key == "positive") {
      rule.positive = ParseFlagArg(path, key, arg);
    } else if (key == "negative") {
      rule.negative = ParseFlagArg(path, key, arg);
    } else if (key == "trim") {
      rule.trim = ParseFlagArg(path, key, arg);
    } else if (key == "lowercase") {
      rule.lowercase = ParseFlagArg(path, key, arg);
    } else if (key == "uppercase") {
      rule.uppercase = ParseFlagArg(path, key, arg);
    } else if (key == "unique") {
      if (rule.type != FieldType::kArray) {
        Bad(path, "rule 'unique' applies to arrays (uniqueness across records is not enforced)");
      }
      rule.unique_items = ParseFlagArg(path, key, arg);
    } else if (key == "empty") {
      rule.allow_empty = ParseFlagArg(path, key, arg);
    } else if (key == "pattern") {
      try {
        std::regex check(arg, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        Bad(path, "rule 'pattern' has an invalid regular expression");
      }
      rule.pattern = arg;
    } else if (key == "enum" || key == "values") {
      if (arg.empty()) Bad(path, "rule '" + key + "' needs a comma-separated list of values");
      rule.enum_values = SplitList(arg);
    } else if (key == "items") {
      auto item = LookupType(arg);
      if (!item || *item == FieldType::kEnum) Bad(path, "unknown item type '" + arg + "'");
      rule.item_type = item;
    } else if (key == "symbol" && rule.type == FieldType::kCurrency) {
      // Display only: the value is a number whatever the symbol.
    } else {
      Bad(path, "unknown rule '" + key + "' for type '" + rule.type_name + "'");
    }
  }
  if (rule.type == FieldType::kEnum && rule.enum_values.empty()) {
    Bad(path, "type 'enum' needs its values: enum|values:a,b");
  }
  if (default_arg) rule.default_value = ParseDefault(rule, *default_arg);
  return rule;
}

std::vector<FieldRule> ParseObject(const Json& attributes, const std::string& prefix) {
  if (!attributes.is_object()) {
    Bad(prefix.empty() ? "(attributes)" : prefix, "attributes must be a JSON object");
  }
  std::vector<FieldRule> rules;
  for (const auto& [name, spec] : attributes.items()) {
    if (name == "$$type") continue;
    std::string path = prefix.empty() ? name : prefix + "." + name;
    if (name.empty() || name.find('.') != std::string::npos || name[0] == '$' || name[0] == '_') {
      Bad(path, "a field name must be non-empty and must not contain '.' or start with '$' or '_'");
    }
    if (prefix.empty() && name == "id") Bad(path, "'id' is the record id, not a field");
    if (spec.is_string()) {
      rules.push_back(ParseShorthand(name, path, spec.get<std::string>()));
    } else if (spec.is_object()) {
      FieldRule nested;
      nested.name = name;
      nested.path = path;
      nested.type = FieldType::kNested;
      nested.type_name = "object";
      nested.children = ParseObject(spec, path);
      // A nested object is optional when nothing inside it is required, or when its
      // "$$type" says so ("$$type": "object|optional").
      bool all_optional = true;
      for (const auto& c : nested.children) all_optional &= c.optional || c.default_value.has_value();
      nested.optional = all_optional;
      if (spec.contains("$$type")) {
        if (!spec["$$type"].is_string()) Bad(path, "'$$type' must be a rule string");
        FieldRule own = ParseShorthand(name, path, spec["$$type"].get<std::string>());
        if (own.type != FieldType::kObject) Bad(path, "'$$type' must be of type object");
        nested.optional = own.optional;
        nested.nullable = own.nullable;
      }
      if (nested.children.empty()) Bad(path, "a nested object needs at least one attribute");
      rules.push_back(std::move(nested));
    } else if (spec.is_array()) {
      Bad(path, "multiple types are not supported yet; use 'any'");
    } else {
      Bad(path, "a rule must be a string or a nested object, got " + std::string(spec.type_name()));
    }
  }
  return rules;
}

std::string Shorten(const Json& v) {
  std::string s = v.dump(-1, ' ', true);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsEmail(const std::string& s) {
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  std::string domain = s.substr(at + 1);
  size_t dot = domain.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < domain.size() &&
         s.find_first_of(" \t\r\n") == std::string::npos;
}

bool IsUrl(const std::string& s) {
  for (const char* scheme : {"http://", "https://"}) {
    if (util::StartsWith(s, scheme) && s.size() > std::string(scheme).size() &&
        s.find_first_of(" \t\r\n") == std::string::npos) {
      return true;
    }
  }
  return false;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

class Validator {
 public:
  explicit Validator(std::vector<FieldError>* errors) : errors_(errors) {}

  void Fields(const std::vector<FieldRule>& rules, Json& object, const std::string& prefix) {
    for (const auto& [key, value] : object.items()) {
      bool known = false;
      for (const auto& r : rules) known |= r.name == key;
      if (!known && !(prefix.empty() && key == "id")) {
        Fail(prefix.empty() ? key : prefix + "." + key, "unknown", "a field of the schema", value);
      }
    }
    for (const auto& rule : rules) {
      auto it = object.find(rule.name);
      if (it == object.end()) {
        if (rule.default_value) {
          object[rule.name] = *rule.default_value;
        } else if (rule.type == FieldType::kNested && rule.optional) {
          // An absent optional object may still get its children's defaults.
          Json inner = Json::object();
          Fields(rule.children, inner, rule.path);
          if (!inner.empty()) object[rule.name] = std::move(inner);
        } else if (!rule.optional) {
          errors_->push_back({rule.path, "required", "a value", "absent",
                              "'" + rule.path + "' is required"});
        }
        continue;
      }
      Value(rule, *it);
    }
  }

 private:
  void Fail(const std::string& path, const std::string& rule, const std::string& expected,
            const Json& actual) {
    std::string shown = Shorten(actual);
    errors_->push_back({path, rule, expected, shown,
                        "'" + path + "' fails '" + rule + "': expected " + expected + ", got " + shown});
  }

  bool CheckType(FieldType type, const FieldRule& rule, const Json& v, const std::string& path) {
    auto want = [&](bool ok, const char* expected) {
      if (!ok) Fail(path, "type", expected, v);
      return ok;
    };
    switch (type) {
      case FieldType::kString: return want(v.is_string(), "a string");
      case FieldType::kNumber:
      case FieldType::kCurrency: return want(v.is_number(), "a number");
      case FieldType::kBoolean: return want(v.is_boolean(), "a boolean");
      case FieldType::kEmail: return want(v.is_string() && IsEmail(v.get<std::string>()), "an email address");
      case FieldType::kUrl: return want(v.is_string() && IsUrl(v.get<std::string>()), "an http(s) URL");
      case FieldType::kUuid: return want(v.is_string() && IsUuid(v.get<std::string>()), "a UUID");
      case FieldType::kDate:
        return want(v.is_string() && util::ParseIso8601Ms(v.get<std::string>()).has_value(),
                    "an ISO 8601 date");
      case FieldType::kEnum: return want(v.is_string() || v.is_number(), "one of the enum values");
      case FieldType::kArray: return want(v.is_array(), "an array");
      case FieldType::kObject:
      case FieldType::kNested: return want(v.is_object(), "an object");
      case FieldType::kAny: return true;
    }
    (void)rule;
    return true;
  }

  void Bounds(const FieldRule& rule, double measure, const char* what, const Json& v) {
    if (rule.min && measure < *rule.min) {
      Fail(rule.path, "min", std::string(what) + " >= " + Shorten(*rule.min), v);
    }
    if (rule.max && measure > *rule.max) {
      Fail(rule.path, "max", std::string(what) + " <= " + Shorten(*rule.max), v);
    }
  }

  void Value(const FieldRule& rule, Json& v) {
    if (v.is_null()) {
      if (!rule.nullable && !rule.optional) Fail(rule.path, "nullable", "a non-null value", v);
      return;
    }
    if (!CheckType(rule.type, rule, v, rule.path)) return;
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (rule.trim) s = Trim(s);
      if (rule.lowercase) s = util::ToLower(s);
      if (rule.uppercase) {
        for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      v = s;
      if (rule.type == FieldType::kString || rule.type == FieldType::kEmail || rule.type == FieldType::kUrl) {
        Bounds(rule, static_cast<double>(CodePoints(s)), "length", v);
        if (rule.length && CodePoints(s) != *rule.length) {
          Fail(rule.path, "length", "length " + std::to_string(*rule.length), v);
        }
      }
      if (rule.pattern && !std::regex_search(s, std::regex(*rule.pattern, std::regex::ECMAScript))) {
        Fail(rule.path, "pattern", "a match of /" + *rule.pattern + "/", v);
      }
    }
    if (!rule.enum_values.empty()) {
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      bool found = false;
      for (const auto& e : rule.enum_values) found |= e == text;
      if (!found) {
        std::string list;
        for (const auto& e : rule.enum_values) list += (list.empty() ? "" : ",") + e;
        Fail(rule.path, "enum", "one of [" + list + "]", v);
      }
    }
    if (v.is_number() && rule.type != FieldType::kEnum) {
      double d = v.get<double>();
      Bounds(rule, d, "a value", v);
      if (rule.integer && std::floor(d) != d) Fail(rule.path, "integer", "an integer", v);
      if (rule.positive && !(d > 0)) Fail(rule.path, "positive", "a number > 0", v);
      if (rule.negative && !(d < 0)) Fail(rule.path, "negative", "a number < 0", v);
    }
    if (v.is_array()) {
      Bounds(rule, static_cast<double>(v.size()), "item count", v);
      if (rule.length && v.size() != *rule.length) {
        Fail(rule.path, "length", std::to_string(*rule.length) + " items", v);
      }
      if (!rule.allow_empty && v.empty()) Fail(rule.path, "empty", "a non-empty array", v);
      if (rule.item_type) {
        for (size_t i = 0; i < v.size(); ++i) {
          CheckType(*rule.item_type, rule, v[i], rule.path + "[" + std::to_string(i) + "]");
        }
      }
      if (rule.unique_items) {
        std::set<std::string> seen;
        for (const auto& item : v) {
          if (!seen.insert(item.dump()).second) {
            Fail(rule.path, "unique", "distinct items", v);
            break;
          }
        }
      }
    }
    if (rule.type == FieldType::kNested) Fields(rule.children, v, rule.path);
  }

  std::vector<FieldError>* errors_;
};

void CollectPaths(const std::vector<FieldRule>& rules, std::vector<std::string>* out) {
  for (const auto& r : rules) {
    out->push_back(r.path);
    CollectPaths(r.children, out);
  }
}

}  // namespace

std::vector<FieldRule> ParseAttributes(const Json& attributes) { return ParseObject(attributes, ""); }

std::vector<FieldError> ValidateRecord(const std::vector<FieldRule>& rules, Json& data) {
  std::vector<FieldError> errors;
  if (!data.is_object()) {
    errors.push_back({"", "type", "an object", Shorten(data), "a record must be a JSON object"});
    return errors;
  }
  Validator(&errors).Fields(rules, data, "");
  return errors;
}

std::vector<std::string> StoragePaths(const std::vector<FieldRule>& rules) {
  std::vector<std::string> out;
  CollectPaths(rules, &out);
  return out;
}

}  // namespace s3db::core
