// Validation of values against parsed rules: every failing field is collected (dotted path,
// rule, expected, actual), values are normalised where a rule says so (defaults, convert,
// trim, case, canonical dates), and a secret's value is never quoted.
#include "schema/rule_validator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>

#include "format/value_codec.h"
#include "schema/rule_messages.h"
#include "schema/rule_types.h"
#include "schema/value_formats.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {
namespace rules {
namespace {

class Validator {
 public:
  explicit Validator(std::vector<FieldError>* errors) : errors_(errors) {}

  void Object(const std::vector<FieldRule>& rules, Strictness strict, Json& object, const std::string& prefix) {
    std::vector<std::string> extra;
    for (const auto& [key, value] : object.items()) {
      const bool known =
          std::any_of(rules.begin(), rules.end(), [&key = key](const FieldRule& r) { return r.name == key; });
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

  // `what` a literal: no string is built for the usual value within bounds.
  void Bounds(const FieldRule& rule, double measure, const char* what, const Json& v, const std::string& path) {
    if (rule.min && measure < *rule.min) Fail(rule, path, "min", what + std::string(" >= ") + Number(*rule.min), v);
    if (rule.max && measure > *rule.max) Fail(rule, path, "max", what + std::string(" <= ") + Number(*rule.max), v);
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
    bool canonical = false;  // already the one text per instant: nothing to rewrite
    if (v.is_string()) {
      // The canonical text first (what a write stamps and a read returns): one parse for it.
      const std::string& text = v.get_ref<const std::string&>();
      ms = util::ParseCanonicalIso8601Ms(text);
      canonical = ms.has_value();
      if (!canonical) ms = util::ParseIso8601Ms(text);
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
    if (!canonical) v = util::FormatIso8601Ms(*ms);
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
      // Appended in place: a short path ("tags[0]") stays in the string's own buffer.
      std::string item_path = path;
      item_path += '[';
      item_path += std::to_string(i);
      item_path += ']';
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

}  // namespace

void ValidateField(const FieldRule& rule, Json& value, const std::string& path, std::vector<FieldError>* errors) {
  Validator(errors).Field(rule, value, path);
}

}  // namespace rules

std::vector<FieldError> ValidateRecord(const Schema& schema, Json& data) {
  std::vector<FieldError> errors;
  if (!data.is_object()) {
    errors.push_back({"", "type", "an object", rules::KindOf(data), "a record must be a JSON object"});
    return errors;
  }
  rules::Validator(&errors).Object(schema.fields, schema.strict, data, "");
  return errors;
}

std::optional<std::string> ValidateIdValue(const Schema& schema, const Json& id, std::vector<FieldError>* errors) {
  if (!schema.id) {
    if (id.is_string()) return id.get<std::string>();
    errors->push_back({"id", "type", "a string", rules::KindOf(id), "the id must be a string"});
    return std::nullopt;
  }
  Json v = id;
  const size_t before = errors->size();
  if (v.is_null()) {
    errors->push_back({"id", "type", DescribeRule(*schema.id), "null", "the id must not be null"});
    return std::nullopt;
  }
  rules::Validator(errors).Value(*schema.id, v, "id");
  if (errors->size() != before) return std::nullopt;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  errors->push_back({"id", "type", "a string or a number", rules::KindOf(v), "the id must be a string or a number"});
  return std::nullopt;
}

}  // namespace s3db::core
