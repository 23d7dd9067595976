#include "record/record_codec.h"

#include <algorithm>
#include <cctype>
#include <list>
#include <optional>

#include "format/key_layout.h"
#include "format/value_codec.h"
#include "s3db/errors.h"
#include "s3db/json_limits.h"
#include "util/crypto_hash.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

// One field of a record by storage path, pointing into the record (or into `extras`).
struct FlatField {
  const std::string* path;
  const Json* value;
};

// Fields by dotted storage path, depth-first in rule order. A nested object contributes
// its children, or itself when it is null or empty, plus itself holding its undeclared fields
// when it keeps them (strict: false); those objects are built in `extras`.
void Flatten(const std::vector<FieldRule>& rules, const Json& object, std::vector<FlatField>* out,
             std::list<Json>* extras) {
  for (const auto& rule : rules) {
    auto it = object.find(rule.name);
    if (it == object.end()) continue;
    if (rule.type == FieldType::kNested && it->is_object() && !it->empty()) {
      if (rule.strict == Strictness::kKeep) {
        // Undeclared fields ride on the object's own key; declared ones get theirs.
        Json extra = Json::object();
        for (const auto& [key, value] : it->items()) {
          bool declared = false;
          for (const auto& c : rule.children) declared |= c.name == key;
          if (!declared) extra[key] = value;
        }
        if (!extra.empty()) out->push_back({&rule.path, &extras->emplace_back(std::move(extra))});
      }
      Flatten(rule.children, *it, out, extras);
    } else {
      out->push_back({&rule.path, &*it});
    }
  }
}

// A date field's value in its compact form when it is canonical ISO text (what validation
// leaves), else the plain encoding (so a value always reads back exactly as written).
std::string EncodeDateField(const Json& value) {
  if (value.is_string()) {
    if (auto ms = util::ParseCanonicalIso8601Ms(value.get_ref<const std::string&>())) return format::EncodeDateMs(*ms);
  }
  return format::EncodeValue(value);
}

// Sets `value` at the path split into `parts`, creating (or replacing with) objects on the way.
// Called in StoredField::build_rank order, so within each object the keys come in ascending
// order: a parent is the last key of its object, and a new key goes at the end (the hint
// costs one comparison instead of a search).
void SetPath(Json& root, const std::vector<std::string>& parts, Json value) {
  Json* node = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Json::object_t& object = node->get_ref<Json::object_t&>();
    Json& child = !object.empty() && object.rbegin()->first == parts[i] ? object.rbegin()->second : (*node)[parts[i]];
    if (!child.is_object()) child = Json::object();
    node = &child;
  }
  Json::object_t& object = node->get_ref<Json::object_t&>();
  // A field stored twice (a damaged object) finds its key taken: the later value wins.
  object.try_emplace(object.end(), parts.back())->second = std::move(value);
}

// The body of a record whose fields all sit in metadata, as EncodeRecord writes it (and as
// dump() would): {"w":"<letters and digits>"}. Written and recognised without a JSON value,
// as most bodies are this.
constexpr std::string_view kBareBodyHead = "{\"w\":\"", kBareBodyTail = "\"}";

bool IsBareBody(const std::string& body) {
  if (body.size() < kBareBodyHead.size() + kBareBodyTail.size() || !util::StartsWith(body, kBareBodyHead) ||
      !util::EndsWith(body, kBareBodyTail)) {
    return false;
  }
  return std::all_of(body.begin() + kBareBodyHead.size(), body.end() - kBareBodyTail.size(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

[[noreturn]] void Corrupt(const std::string& resource, const std::string& id, const std::string& what) {
  throw Corruption("record '" + id + "' of resource '" + resource + "' cannot be read: " + what, resource, id);
}

}  // namespace

std::string SecretAad(const std::string& resource, const std::string& id, const std::string& path) {
  // NUL cannot occur in a resource name or an id, so the parts cannot run into each other.
  std::string aad;
  aad.reserve(17 + resource.size() + id.size() + path.size());
  aad = "s3db secret v1";
  for (const std::string* part : {&resource, &id, &path}) {
    aad.push_back('\0');
    aad += *part;
  }
  return aad;
}

namespace {

struct Entry {
  const std::string* path;
  const std::string* key;
  std::string value;                // the encoded metadata text
  const Json* source;               // the field's value as given
  std::optional<Json> replacement;  // what the body holds instead: a shortened string
  bool sealed = false;              // a secret: the body holds the sealed text (`value`) too
  bool truncatable = false;         // a plain string field truncate-data may shorten
  bool pinned = false;              // stays in metadata whatever its size (partition fields)
  bool in_body = false;
  size_t size() const { return key->size() + value.size(); }
  // Built only for the fields that go to the body (or are cut), not for every secret.
  Json body_value() const { return replacement ? *replacement : sealed ? Json(value) : *source; }
};

[[noreturn]] void TooLarge(const std::string& resource, const std::string& id, size_t total, size_t budget,
                           const std::string& why) {
  throw MetadataTooLarge("record '" + id + "' of resource '" + resource + "' needs " + std::to_string(total) +
                             " bytes of metadata; the limit is " + std::to_string(budget) + " (" +
                             std::to_string(total - budget) + " over); " + why,
                         resource, id);
}

// The longest prefix of `text`, cut at a character boundary, whose encoding followed by
// `suffix` is at most `max_encoded` bytes. Encoded size grows with the prefix almost
// monotonically (an edge space costs 3 bytes, the s/b choice can flip), so a binary search
// finds a fitting prefix and a short walk back makes sure it fits.
std::string FittingPrefix(const std::string& text, size_t max_encoded, const std::string& suffix) {
  std::vector<size_t> boundaries{0};  // byte offsets of character starts, and the end
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) boundaries.push_back(i);
  }
  auto fits = [&](size_t n) {
    return format::EncodeValue(text.substr(0, boundaries[n]) + suffix).size() <= max_encoded;
  };
  size_t lo = 0, hi = boundaries.size() - 1;  // fits(lo) holds for an empty prefix when max >= 1
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  while (lo > 0 && !fits(lo)) --lo;
  return text.substr(0, boundaries[lo]);
}

std::string JoinKeys(const std::set<std::string>& keys) {
  std::string joined;
  for (const auto& k : keys) joined += (joined.empty() ? "" : ",") + k;
  return joined;
}

// truncate-data: shortens the longest truncatable string until the record, with its _t
// marker, fits. Each round either makes it fit or empties one field, so it ends after at
// most one round per field (s3db.js could loop forever here).
std::set<std::string> Truncate(std::vector<Entry>& entries, size_t& total, size_t budget, const std::string& resource,
                               const std::string& id) {
  std::set<std::string> cut;  // keys
  auto marker_size = [&](const std::set<std::string>& keys) {
    return keys.empty() ? 0 : std::string(kTruncatedKey).size() + JoinKeys(keys).size();
  };
  std::vector<bool> exhausted(entries.size(), false);
  while (total + marker_size(cut) > budget) {
    size_t best = entries.size();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].truncatable || exhausted[i]) continue;
      if (best == entries.size() || entries[i].value.size() > entries[best].value.size()) best = i;
    }
    if (best == entries.size()) {
      TooLarge(resource, id, total + marker_size(cut), budget,
               "truncate-data cannot make it fit: no string field is left to shorten");
    }
    Entry& e = entries[best];
    std::set<std::string> with = cut;
    with.insert(*e.key);
    const size_t excess = total + marker_size(with) - budget;
    const std::string text = e.body_value().get<std::string>();
    const size_t target = e.value.size() > excess ? e.value.size() - excess : 0;
    // The cut value ends in "..." as the seeds show, so a reader sees it was cut; a field
    // left too little room for the marker is emptied.
    std::string kept;
    if (format::EncodeValue(std::string(kTruncationMarker)).size() <= target) {
      kept = FittingPrefix(text, target, kTruncationMarker) + kTruncationMarker;
    }
    if (kept == text) {  // already as short as it can usefully be
      exhausted[best] = true;
      continue;
    }
    total -= e.value.size();
    e.replacement = kept;
    e.value = format::EncodeValue(*e.replacement);
    total += e.value.size();
    cut = std::move(with);
    if (kept.empty()) exhausted[best] = true;
  }
  return cut;
}

}  // namespace

EncodedRecord EncodeRecord(const Json& data, const VersionSpec& spec, size_t budget, const std::string& resource,
                           const std::string& id, const Keyring* keys, const std::set<std::string>* pinned) {
  std::vector<FlatField> flat;
  std::list<Json> extras;
  Flatten(spec.schema.fields, data, &flat, &extras);
  std::vector<Entry> entries;
  entries.reserve(flat.size());
  for (const auto& [path, value] : flat) {
    auto it = spec.by_path.find(*path);
    if (it == spec.by_path.end()) {
      throw Error(ErrorCode::kInternal, "field '" + *path + "' has no registry index", resource, id);
    }
    const FieldRule* rule = it->second->rule;
    Entry e{path, &it->second->key, "", value, std::nullopt};
    e.pinned = pinned && pinned->count(*path) > 0;
    if (rule && rule->is_secret() && value->is_string()) {
      if (!keys || keys->current_id() == 0) {
        throw AccessDenied(
            "resource '" + resource + "': secret field '" + *path + "' needs the database passphrase to be written",
            resource, id);
      }
      e.value = keys->Seal(value->get_ref<const std::string&>(), SecretAad(resource, id, *path));
      e.sealed = true;  // sealed in the body too: plaintext never leaves this process
    } else if (rule && rule->type == FieldType::kDate) {
      e.value = EncodeDateField(*value);
    } else {
      e.value = format::EncodeValue(*value);
      e.truncatable = value->is_string() && !e.pinned;
    }
    entries.push_back(std::move(e));
  }

  EncodedRecord out;
  out.budget = budget;
  const std::string version = std::to_string(spec.version);
  out.metadata.reserve(entries.size() + 3);  // with _v, and _o or _t
  out.metadata[kVersionKey] = version;
  const size_t reserved = std::string(kVersionKey).size() + version.size();
  size_t total = reserved;
  for (const auto& e : entries) total += e.size();
  out.full_bytes = total;

  std::vector<Entry*> to_body;
  if (spec.behavior == Behavior::kBodyOnly) {
    for (auto& e : entries) to_body.push_back(&e);
  } else if (total <= budget) {
    // Everything fits: the common case, one object with an almost empty body.
  } else if (spec.behavior == Behavior::kEnforceLimits) {
    TooLarge(resource, id, total, budget, "behavior enforce-limits writes nothing");
  } else if (spec.behavior == Behavior::kTruncateData) {
    std::set<std::string> cut = Truncate(entries, total, budget, resource, id);
    out.metadata[kTruncatedKey] = JoinKeys(cut);
    for (const auto& e : entries) {
      if (cut.count(*e.key)) out.truncated_paths.push_back(*e.path);
    }
  } else {
    // Pinned fields first (a partition field must be readable without the body), then the
    // smallest, so as many fields as possible stay readable by HEAD and the body holds the
    // few large ones.
    size_t used = reserved + std::string(kOverflowKey).size() + 1;
    std::vector<Entry*> order;
    for (auto& e : entries) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
      if (a->pinned != b->pinned) return a->pinned;
      return a->size() < b->size();
    });
    for (Entry* e : order) {
      if (used + e->size() <= budget) {
        used += e->size();
      } else if (e->pinned) {
        TooLarge(resource, id, used + e->size(), budget,
                 "partition field '" + *e->path + "' must stay in metadata and does not fit");
      } else {
        to_body.push_back(e);
      }
    }
  }

  Json body_fields = Json::object();
  for (Entry* e : to_body) {
    body_fields[*e->key] = e->body_value();
    out.body_paths.push_back(*e->path);
    e->in_body = true;
  }
  // In key order, so each entry lands at the end of the sorted metadata.
  std::vector<Entry*> in_metadata;
  in_metadata.reserve(entries.size());
  for (auto& e : entries) {
    if (!e.in_body) in_metadata.push_back(&e);
  }
  std::sort(in_metadata.begin(), in_metadata.end(), [](const Entry* a, const Entry* b) { return *a->key < *b->key; });
  for (Entry* e : in_metadata) out.metadata.emplace(*e->key, std::move(e->value));
  if (!to_body.empty()) out.metadata[kOverflowKey] = "1";
  for (const auto& [k, v] : out.metadata) out.metadata_bytes += k.size() + v.size();

  // The body always carries a fresh random write tag: S3's ETag is the MD5 of the body
  // only, so without it two versions of a record with equal bodies would share an ETag and
  // If-Match could not tell them apart (a lost update).
  if (body_fields.empty()) {
    out.body.reserve(kBareBodyHead.size() + 16 + kBareBodyTail.size());
    out.body += kBareBodyHead;
    out.body += util::RandomAlnum(16);
    out.body += kBareBodyTail;
  } else {
    Json body{{"w", util::RandomAlnum(16)}, {"f", std::move(body_fields)}};
    out.body = body.dump(-1, ' ', true);
  }
  return out;
}

int RecordVersion(const Metadata& metadata, const std::string& resource, const std::string& id) {
  auto it = metadata.find(kVersionKey);
  if (it == metadata.end()) Corrupt(resource, id, "it has no schema version (_v)");
  const std::string& text = it->second;
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos || text[0] == '0') {
    Corrupt(resource, id, "schema version '" + text.substr(0, 12) + "' is not a version number");
  }
  return std::stoi(text);
}

Json DecodeRecord(const Metadata& metadata, const std::string& body, const VersionSpec& spec,
                  const std::string& resource, const std::string& id, const Keyring* keys,
                  const DecodeOptions& options) {
  // The decoded values, kept per thread between calls (its allocation was a fair share of a
  // read) and emptied on the way out, so no opened secret outlives the call.
  thread_local std::vector<std::pair<const StoredField*, Json>> values;
  struct Emptied {
    ~Emptied() { values.clear(); }
  } emptied;
  values.clear();
  values.reserve(metadata.size());
  auto field_of = [&](const std::string& key) {
    auto it = spec.by_key.find(key);
    if (it == spec.by_key.end()) {
      Corrupt(resource, id, "field key '" + key + "' is not in version " + std::to_string(spec.version));
    }
    return it->second;
  };
  // A secret field holds a sealed text (or null): open it, never quoting it in an error.
  auto open = [&](const StoredField* field, const std::string& text) -> std::optional<Json> {
    if (text == "z") return Json(nullptr);
    if (text.empty() || text[0] != 'E') Corrupt(resource, id, "secret field '" + field->path + "' is not sealed");
    if (options.sealed_key_ids) {
      Result<format::SealedValue> sealed = format::DecodeSealed(text);
      if (sealed.ok()) options.sealed_key_ids->insert(sealed->key_id);
    }
    if (options.skip_secrets) return std::nullopt;
    if (!keys) {
      throw AccessDenied("record '" + id + "' of resource '" + resource + "': secret field '" + field->path +
                             "' needs the database passphrase to be read",
                         resource, id);
    }
    Result<std::string> plain = keys->Open(text, SecretAad(resource, id, field->path));
    if (!plain.ok()) {
      const std::string what = "secret field '" + field->path + "': " + plain.status().message();
      if (plain.code() == ErrorCode::kAccessDenied) {
        throw AccessDenied("record '" + id + "' of resource '" + resource + "': " + what, resource, id);
      }
      Corrupt(resource, id, what);
    }
    if (!util::IsValidUtf8(*plain)) Corrupt(resource, id, "secret field '" + field->path + "' is not UTF-8 text");
    return Json(std::move(plain).value());
  };
  for (const auto& [key, text] : metadata) {
    if (!key.empty() && key[0] == '_') continue;  // reserved
    const StoredField* field = field_of(key);
    if (field->rule && field->rule->is_secret()) {
      if (auto v = open(field, text)) values.emplace_back(field, std::move(*v));
      continue;
    }
    Result<Json> value = format::DecodeValue(text);
    if (!value.ok()) Corrupt(resource, id, "field key '" + key + "': " + value.status().message());
    values.emplace_back(field, std::move(value).value());
  }
  if (auto cut = metadata.find(kTruncatedKey); cut != metadata.end() && options.truncated_paths) {
    size_t start = 0;
    while (start < cut->second.size()) {
      size_t comma = std::min(cut->second.find(',', start), cut->second.size());
      options.truncated_paths->push_back(field_of(cut->second.substr(start, comma - start))->path);
      start = comma + 1;
    }
  }
  const bool overflow = metadata.count(kOverflowKey) > 0;
  if (IsBareBody(body)) {
    if (overflow) Corrupt(resource, id, "its overflow marker and body disagree");
  } else {
    if (JsonTextTooDeep(body)) Corrupt(resource, id, "its body is " + TooDeepText());
    Json parsed = ParseJsonOrDiscarded(body);
    if (!parsed.is_object() || !parsed.contains("w")) Corrupt(resource, id, "its body is not an s3db record body");
    if (overflow != parsed.contains("f")) Corrupt(resource, id, "its overflow marker and body disagree");
    if (overflow) {
      if (!parsed["f"].is_object()) Corrupt(resource, id, "its body fields are not an object");
      for (auto& [key, value] : parsed["f"].items()) {
        const StoredField* field = field_of(key);
        if (field->rule && field->rule->is_secret()) {
          if (!value.is_string() && !value.is_null()) {
            Corrupt(resource, id, "secret field '" + field->path + "' is not sealed");
          }
          if (auto v = open(field, value.is_null() ? std::string("z") : value.get<std::string>())) {
            values.emplace_back(field, std::move(*v));
          }
          continue;
        }
        values.emplace_back(field, std::move(value));
      }
    }
  }
  // Parents before children, so a nested object's own entry ({} or null) never hides a
  // child set later; siblings by name, so each lands at the end of its object.
  std::sort(values.begin(), values.end(),
            [](const auto& a, const auto& b) { return a.first->build_rank < b.first->build_rank; });
  Json data = Json::object();
  for (auto& [field, value] : values) SetPath(data, field->parts, std::move(value));
  return data;
}

}  // namespace s3db::core
