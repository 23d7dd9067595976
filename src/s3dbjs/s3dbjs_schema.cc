#include "s3dbjs/s3dbjs_schema.h"

#include <set>

#include "util/text.h"

namespace s3db::s3dbjs {
namespace {

bool Has(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// Types with a packed codec in s3db.js and none here: their stored text is not the value.
const char* UntranslatableReason(const std::string& type) {
  static const std::map<std::string, const char*> reasons = {
      {"password", "a one-way hash: no value to bring over"},
      {"ip4", "packed IPv4 address (no ip type here)"},
      {"ip6", "packed IPv6 address (no ip type here)"},
      {"mac", "packed MAC address"},
      {"cidr", "packed CIDR block"},
      {"semver", "packed version number"},
      {"phone", "packed phone number"},
      {"color", "packed color"},
      {"duration", "packed duration"},
      {"ean", "packed EAN code"},
      {"buffer", "binary value"},
      {"bits", "packed bit set"},
      {"money", "fixed-point money"},
      {"crypto", "fixed-point crypto amount"},
      {"decimal", "fixed-point decimal"},
      {"embedding", "fixed-point vector"},
      {"text", "compressed text"},
      {"date", "s3db.js 21.6.2 cannot store it (a Date is sanitized to {})"},
      {"secretAny", "secret of a non-string value"},
      {"secretNumber", "secret of a number"},
  };
  for (const auto& [name, reason] : reasons) {
    if (type == name || util::StartsWith(type, name + ":")) return reason;
  }
  if (util::StartsWith(type, "geo")) return "packed geographic coordinate";
  return nullptr;
}

// Keeps only the modifiers that mean the same on a string holding the decoded text.
std::string StringRuleKeeping(const std::vector<std::string>& parts) {
  std::string rule = "string";
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "optional" || parts[i] == "required" || parts[i] == "nullable" ||
        util::StartsWith(parts[i], "optional:") || util::StartsWith(parts[i], "nullable:")) {
      rule += "|" + parts[i];
    }
  }
  return rule;
}

// Drops the modifiers that only chose s3db.js's array encoding ("integer", "length" of an
// embedding) from an array rule.
std::string ArrayRule(const std::vector<std::string>& parts) {
  std::string rule = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "integer" || util::StartsWith(parts[i], "integer:")) continue;
    if (parts[i] == "items:number" || parts[i] == "items:string") {
      rule += "|" + parts[i];
      continue;
    }
    rule += "|" + parts[i];
  }
  return rule;
}

FieldKind KindOf(const std::string& rule) {
  // In the order s3db.js 21.6.2 picks its codec (generateAutoHooks, then unmapper).
  if (Has(rule, "embedding")) return FieldKind::kUntranslatable;
  if (Has(rule, "array")) {
    const bool integer = Has(rule, "integer:true") || Has(rule, "|integer");
    if (Has(rule, "items:string")) return FieldKind::kStringArray;
    if (Has(rule, "items:number")) return integer ? FieldKind::kIntegerArray : FieldKind::kNumberArray;
    return FieldKind::kPlain;
  }
  if (Has(rule, "secret")) return FieldKind::kSecret;
  if (Has(rule, "number")) {
    return Has(rule, "integer:true") || Has(rule, "|integer") ? FieldKind::kInteger : FieldKind::kNumber;
  }
  if (Has(rule, "boolean") || Has(rule, "bool")) return FieldKind::kBoolean;
  if (Has(rule, "json") || Has(rule, "object")) return FieldKind::kJson;
  if (rule == "uuid" || util::StartsWith(rule, "uuid|")) return FieldKind::kUuid;
  if (Has(rule, "datetime")) return FieldKind::kDatetime;
  if (Has(rule, "dateonly")) return FieldKind::kDateonly;
  if (rule == "timeonly" || util::StartsWith(rule, "timeonly|")) return FieldKind::kTimeonly;
  return FieldKind::kPlain;
}

void Translate(const Json& attributes, const std::string& prefix, bool top, bool timestamps, TranslatedSchema* out,
               Json* ours) {
  for (const auto& [key, rule] : attributes.items()) {
    if (util::StartsWith(key, "$$")) continue;
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (top && timestamps && (key == "createdAt" || key == "updatedAt")) {
      out->fields[path] = {FieldKind::kDatetime, rule.is_string() ? rule.get<std::string>() : rule.dump()};
      continue;  // s3db's timestamps keep them
    }
    if (rule.is_object() && !rule.contains("type")) {
      Json nested = Json::object();
      Translate(rule, path, false, timestamps, out, &nested);
      (*ours)[key] = std::move(nested);
      continue;
    }
    std::string text;
    if (rule.is_string()) {
      text = rule.get<std::string>();
    } else if (rule.is_object() && rule["type"].is_string()) {
      // The object form: read as the shorthand its type and items give.
      text = rule["type"].get<std::string>();
      if (rule.contains("items") && rule["items"].is_string()) text += "|items:" + rule["items"].get<std::string>();
      if (rule.value("optional", false)) text += "|optional";
    } else {
      out->untranslatable.push_back({path, rule.dump(), "a rule form this migration does not read"});
      continue;
    }
    std::vector<std::string> parts = util::Split(text, '|');
    const std::string type = parts[0];
    if (const char* reason = UntranslatableReason(type)) {
      out->fields[path] = {FieldKind::kUntranslatable, text};
      out->untranslatable.push_back({path, text, reason});
      continue;
    }
    FieldKind kind = KindOf(text);
    out->fields[path] = {kind, text};
    switch (kind) {
      case FieldKind::kDatetime:
      case FieldKind::kDateonly:
      case FieldKind::kTimeonly:
        (*ours)[key] = StringRuleKeeping(parts);
        break;
      case FieldKind::kStringArray:
      case FieldKind::kNumberArray:
      case FieldKind::kIntegerArray:
        (*ours)[key] = ArrayRule(parts);
        break;
      case FieldKind::kBoolean:
        if (type == "bool") parts[0] = "boolean";
        [[fallthrough]];
      default: {
        std::string joined;
        for (const auto& part : parts) joined += (joined.empty() ? "" : "|") + part;
        (*ours)[key] = rule.is_string() ? Json(joined) : rule;
        break;
      }
    }
  }
}

}  // namespace

TranslatedSchema TranslateAttributes(const Json& attributes, bool timestamps) {
  TranslatedSchema out;
  if (attributes.is_object()) Translate(attributes, "", true, timestamps, &out, &out.attributes);
  return out;
}

}  // namespace s3db::s3dbjs
