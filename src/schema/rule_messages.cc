// Rules and values in words, for the messages of validation and schema errors.
#include "schema/rule_messages.h"

#include <cmath>
#include <cstdint>

#include "schema/rule_types.h"

namespace s3db::core {
namespace rules {

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

}  // namespace rules

std::string DescribeRule(const FieldRule& rule) {
  using rules::IsNumeric, rules::IsStringLike, rules::Number, rules::TypePhrase;
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

}  // namespace s3db::core
