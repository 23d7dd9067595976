#include "core/record_codec.h"

#include <algorithm>

#include "format/key_layout.h"
#include "format/value_codec.h"
#include "s3db/errors.h"
#include "util/crypto_hash.h"

namespace s3db::core {
namespace {

void Flatten(const std::vector<FieldRule>& rules, const Json& object,
             std::vector<std::pair<std::string, Json>>* out) {
  for (const auto& rule : rules) {
    auto it = object.find(rule.name);
    if (it == object.end()) continue;
    if (rule.type == FieldType::kNested && it->is_object() && !it->empty()) {
      Flatten(rule.children, *it, out);
    } else {
      out->emplace_back(rule.path, *it);
    }
  }
}

void SetPath(Json& root, const std::string& path, Json value) {
  Json* node = &root;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot - start);
    if (dot == std::string::npos) {
      (*node)[part] = std::move(value);
      return;
    }
    Json& child = (*node)[part];
    if (!child.is_object()) child = Json::object();
    node = &child;
    start = dot + 1;
  }
}

[[noreturn]] void Corrupt(const std::string& resource, const std::string& id, const std::string& what) {
  throw Corruption("record '" + id + "' of resource '" + resource + "' cannot be read: " + what, resource, id);
}

}  // namespace

std::vector<std::pair<std::string, Json>> FlattenRecord(const std::vector<FieldRule>& rules,
                                                        const Json& data) {
  std::vector<std::pair<std::string, Json>> out;
  Flatten(rules, data, &out);
  return out;
}

EncodedRecord EncodeRecord(const Json& data, const VersionSpec& spec, size_t budget,
                           const std::string& resource, const std::string& id) {
  struct Entry {
    std::string path, key, value;
    const Json* json;
  };
  auto flat = FlattenRecord(spec.rules, data);
  std::vector<Entry> entries;
  entries.reserve(flat.size());
  for (const auto& [path, value] : flat) {
    auto it = spec.by_path.find(path);
    if (it == spec.by_path.end()) {
      throw Error(ErrorCode::kInternal, "field '" + path + "' has no registry index", resource, id);
    }
    entries.push_back({path, it->second->key, format::EncodeValue(value), &value});
  }

  EncodedRecord out;
  const std::string version = std::to_string(spec.version);
  out.metadata[kVersionKey] = version;
  size_t reserved = std::string(kVersionKey).size() + version.size();
  size_t total = reserved;
  for (const auto& e : entries) total += e.key.size() + e.value.size();

  std::vector<const Entry*> to_body;
  if (spec.behavior == Behavior::kBodyOnly) {
    for (const auto& e : entries) to_body.push_back(&e);
  } else if (total <= budget) {
    // Everything fits: the common case, one object with an almost empty body.
  } else if (spec.behavior == Behavior::kEnforceLimits) {
    throw MetadataTooLarge("record '" + id + "' of resource '" + resource + "' needs " +
                               std::to_string(total) + " bytes of metadata; the limit is " +
                               std::to_string(budget) + " (" + std::to_string(total - budget) +
                               " over); behavior enforce-limits writes nothing",
                           resource, id);
  } else {
    // Keep the smallest fields in metadata, so as many as possible stay readable by HEAD
    // and the body holds the few large ones.
    size_t used = reserved + std::string(kOverflowKey).size() + 1;
    std::vector<const Entry*> by_size;
    for (const auto& e : entries) by_size.push_back(&e);
    std::stable_sort(by_size.begin(), by_size.end(), [](const Entry* a, const Entry* b) {
      return a->key.size() + a->value.size() < b->key.size() + b->value.size();
    });
    for (const Entry* e : by_size) {
      size_t size = e->key.size() + e->value.size();
      if (used + size <= budget) {
        used += size;
      } else {
        to_body.push_back(e);
      }
    }
  }

  Json body_fields = Json::object();
  for (const Entry* e : to_body) {
    body_fields[e->key] = *e->json;
    out.body_paths.push_back(e->path);
  }
  for (const auto& e : entries) {
    if (!body_fields.contains(e.key)) out.metadata[e.key] = e.value;
  }
  if (!to_body.empty()) out.metadata[kOverflowKey] = "1";
  for (const auto& [k, v] : out.metadata) out.metadata_bytes += k.size() + v.size();

  // The body always carries a fresh random write tag: S3's ETag is the MD5 of the body
  // only, so without it two versions of a record with equal bodies would share an ETag and
  // If-Match could not tell them apart (a lost update).
  Json body{{"w", util::RandomAlnum(16)}};
  if (!body_fields.empty()) body["f"] = std::move(body_fields);
  out.body = body.dump(-1, ' ', true);
  return out;
}

int RecordVersion(const Metadata& metadata, const std::string& resource, const std::string& id) {
  auto it = metadata.find(kVersionKey);
  if (it == metadata.end()) Corrupt(resource, id, "it has no schema version (_v)");
  const std::string& text = it->second;
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos ||
      text[0] == '0') {
    Corrupt(resource, id, "schema version '" + text.substr(0, 12) + "' is not a version number");
  }
  return std::stoi(text);
}

Json DecodeRecord(const Metadata& metadata, const std::string& body, const VersionSpec& spec,
                  const std::string& resource, const std::string& id) {
  std::vector<std::pair<const StoredField*, Json>> values;
  auto add = [&](const std::string& key, Json value) {
    auto it = spec.by_key.find(key);
    if (it == spec.by_key.end()) {
      Corrupt(resource, id, "field key '" + key + "' is not in version " + std::to_string(spec.version));
    }
    values.emplace_back(it->second, std::move(value));
  };
  for (const auto& [key, text] : metadata) {
    if (!key.empty() && key[0] == '_') continue;  // reserved
    Result<Json> value = format::DecodeValue(text);
    if (!value.ok()) Corrupt(resource, id, "field key '" + key + "': " + value.status().message());
    add(key, std::move(value).value());
  }
  Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("w")) Corrupt(resource, id, "its body is not an s3db record body");
  bool overflow = metadata.count(kOverflowKey) > 0;
  if (overflow != parsed.contains("f")) Corrupt(resource, id, "its overflow marker and body disagree");
  if (overflow) {
    if (!parsed["f"].is_object()) Corrupt(resource, id, "its body fields are not an object");
    for (auto& [key, value] : parsed["f"].items()) add(key, value);
  }
  // Parents before children, so a nested object's own entry ({} or null) never hides a
  // child set later. Index order gives that: a parent is registered before its children.
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first->index < b.first->index; });
  Json data = Json::object();
  for (auto& [field, value] : values) SetPath(data, field->path, std::move(value));
  return data;
}

}  // namespace s3db::core
