// S3dbJsDatabase: the catalog (s3db.json) and records of an s3db.js 21.x bucket, read-only.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "s3db/s3dbjs.h"
#include "s3db/stores.h"
#include "s3dbjs/s3dbjs_codec.h"
#include "s3dbjs/s3dbjs_schema.h"
#include "util/text.h"

namespace s3db {
namespace {

using s3dbjs::FieldKind;
using s3dbjs::JsValue;

constexpr int kOldestMajor = 21;

// Ceph RGW turns '_' into '-' in metadata names, so s3db.js's "_v" written there reads back
// as "-v" (s3db's own keys are escaped against that: src/s3/s3_headers.h).
constexpr char kRgwUnderscore = '-';

// s3db.js's own metadata ("_v", "_map", "_overflow", the "_etag"... its update() leaks),
// which its reader drops; s3db.js's field keys are base36 and never start so.
bool IsBookkeeping(const std::string& key) { return !key.empty() && (key[0] == '_' || key[0] == kRgwUnderscore); }

std::string Base36(int64_t n) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  if (n == 0) return "0";
  std::string out;
  for (; n > 0; n /= 36) out.insert(out.begin(), kDigits[n % 36]);
  return out;
}

// A value as it reaches a field decoder: from metadata (after metadataDecode), from a body
// under a mapped key (a stored string, not metadata-encoded), or from a body under the
// attribute's own name (the value itself, as update() writes it).
struct Source {
  enum class From { kMetadata, kMappedBody, kNamedBody };
  From from = From::kMetadata;
  Json value;  // string, null, or (named body) any JSON; absent = undefined
  bool undefined = false;
};

std::optional<Json> ParseJsonText(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

// What s3db.js's unmapper does to any string before the type's codec: "[object Object]" is
// {} and text that opens with '{' or '[' is parsed when it parses.
Json GenericString(const std::string& text) {
  if (text == "[object Object]") return Json::object();
  if (!text.empty() && (text[0] == '{' || text[0] == '[')) {
    if (auto parsed = ParseJsonText(text)) return *parsed;
  }
  return text;
}

}  // namespace

struct S3dbJsDatabase::Impl {
  std::unique_ptr<ObjectStore> store;
  std::string base;  // "" or "<prefix>/"
  std::string passphrase;
  std::string version;
  std::map<std::string, S3dbJsResourceInfo> resources;
  std::map<std::string, s3dbjs::TranslatedSchema> schemas;
  std::map<std::string, std::map<std::string, std::string>> reverse_maps;  // key -> path

  std::string DataPrefix(const std::string& name) const { return base + "resource=" + name + "/data/id="; }

  const S3dbJsResourceInfo& Info(const std::string& name) const {
    auto it = resources.find(name);
    if (it == resources.end()) {
      throw NotFound("s3db.js resource '" + name + "' is not in the catalog " + base + "s3db.json", name);
    }
    return it->second;
  }

  // Decodes one field as s3db.js's unmapper would; nullopt is undefined (the field absent).
  std::optional<Json> DecodeField(const s3dbjs::FieldSpec& spec, const Source& source, const std::string& resource,
                                  const std::string& id, const std::string& path) const {
    const FieldKind kind = spec.kind;
    if (kind == FieldKind::kBoolean) {
      // toBool runs on undefined and null too: both read as false.
      const Json& v = source.value;
      if (source.undefined || v.is_null()) return false;
      if (v.is_boolean()) return v;
      if (v.is_number()) return v == 1;
      const std::string s = v.is_string() ? v.get<std::string>() : "";
      return s == "1" || s == "true" || s == "yes" || s == "y";
    }
    if (source.undefined) return std::nullopt;
    if (source.value.is_null()) return Json(nullptr);
    if (source.from == Source::From::kNamedBody && !source.value.is_string()) {
      return source.value;  // update() wrote the value itself
    }
    if (!source.value.is_string()) return source.value;
    const std::string text = source.value.get<std::string>();
    const bool named = source.from == Source::From::kNamedBody;
    auto corrupt = [&](const std::string& what) {
      return Corruption(
          "s3db.js resource '" + resource + "', record '" + id + "', field '" + path + "' (" + spec.rule + "): " + what,
          resource, id);
    };
    switch (kind) {
      case FieldKind::kNumber:
      case FieldKind::kInteger: {
        Json pre = GenericString(text);
        if (!pre.is_string()) return pre;
        if (text.empty()) return Json("");
        if (named) {  // the number's own text
          char* stop = nullptr;
          const double v = std::strtod(text.c_str(), &stop);
          if (stop == text.c_str() + text.size()) return s3dbjs::NumberJson(v);
        }
        auto n = kind == FieldKind::kInteger ? s3dbjs::DecodeBase62(text) : s3dbjs::DecodeBase62Decimal(text);
        if (!n || std::isnan(*n)) return std::nullopt;  // s3db.js reads NaN as undefined
        return s3dbjs::NumberJson(*n);
      }
      case FieldKind::kDatetime:
      case FieldKind::kDateonly:
      case FieldKind::kTimeonly: {
        if (text.empty()) return Json("");
        std::optional<double> n = s3dbjs::DecodeBase62(text);
        if (!n) {
          if (named) return Json(text);  // update() wrote the text itself
          throw corrupt("'" + text + "' is not a base62 number");
        }
        if (kind == FieldKind::kDatetime) {
          auto iso = s3dbjs::IsoFromEpochMs(*n);
          if (!iso) throw corrupt("time out of range");
          return Json(*iso);
        }
        if (kind == FieldKind::kDateonly) {
          auto iso = s3dbjs::IsoFromEpochMs(*n * 86400000.0);
          if (!iso) throw corrupt("date out of range");
          return Json(iso->substr(0, 10));
        }
        const auto total = static_cast<int64_t>(*n);
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%02lld:%02lld:%02lld.%03lld", static_cast<long long>(total / 3600000),
                      static_cast<long long>(total / 60000 % 60), static_cast<long long>(total / 1000 % 60),
                      static_cast<long long>(total % 1000));
        return Json(std::string(buffer));
      }
      case FieldKind::kUuid: {
        if (text.size() != 24 || text.find('-') != std::string::npos) return Json(text);
        std::string hex;
        for (size_t i = 0; i < 24; i += 6) {
          auto n = s3dbjs::DecodeBase62(std::string_view(text).substr(i, 6));
          if (!n) throw corrupt("not a packed uuid");
          char buffer[16];
          std::snprintf(buffer, sizeof buffer, "%08llx", static_cast<unsigned long long>(*n));
          hex += buffer;
        }
        return Json(hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
                    "-" + hex.substr(20, 12));
      }
      case FieldKind::kStringArray:
      case FieldKind::kNumberArray:
      case FieldKind::kIntegerArray: {
        Json pre = GenericString(text);
        if (pre.is_array()) return pre;
        Json out = Json::array();
        for (const std::string& item : s3dbjs::SplitArray(text)) {
          if (kind == FieldKind::kStringArray) {
            out.push_back(item);
            continue;
          }
          auto n = item.empty() ? std::nullopt
                                : (kind == FieldKind::kIntegerArray ? s3dbjs::DecodeBase62(item)
                                                                    : s3dbjs::DecodeBase62Decimal(item));
          out.push_back(n ? s3dbjs::NumberJson(*n) : Json(nullptr));  // NaN is null in JSON
        }
        return out;
      }
      case FieldKind::kJson: {
        if (text.empty()) return Json("");
        if (auto parsed = ParseJsonText(text)) return *parsed;
        return Json(text);
      }
      case FieldKind::kSecret: {
        std::optional<std::string> plain = s3dbjs::DecryptSecret(text, passphrase);
        if (!plain) {
          throw AccessDenied("s3db.js resource '" + resource + "', record '" + id + "': secret field '" + path +
                                 "' does not open with the given s3db.js passphrase",
                             resource, id);
        }
        if (*plain == "null") return Json(nullptr);
        if (*plain == "undefined") return std::nullopt;
        return Json(std::move(*plain));
      }
      case FieldKind::kUntranslatable:
      case FieldKind::kPlain:
      case FieldKind::kBoolean:
        break;
    }
    return GenericString(text);
  }

  std::optional<S3dbJsRecord> Get(const std::string& name, const std::string& id) const {
    const S3dbJsResourceInfo& info = Info(name);
    const s3dbjs::TranslatedSchema& schema = schemas.at(name);
    Result<GetResult> got = store->Get(DataPrefix(name) + id);
    if (got.code() == ErrorCode::kNotFound) return std::nullopt;
    ThrowIfError(got.status(), name, id);
    const ObjectInfo& object = got->info;

    // Which path each stored key names: the catalog's registry, or the record's own _map
    // (body-only records carry it).
    const std::map<std::string, std::string>* reverse = &reverse_maps.at(name);
    std::map<std::string, std::string> own_map;
    auto map_it = object.metadata.find("_map");
    if (map_it == object.metadata.end()) map_it = object.metadata.find(kRgwUnderscore + std::string("map"));
    if (auto it = map_it; it != object.metadata.end()) {
      JsValue text = s3dbjs::DecodeMetadataValue(it->second);
      if (auto parsed = ParseJsonText(text.text); parsed && parsed->is_object()) {
        for (const auto& [path, key] : parsed->items()) {
          if (key.is_string()) own_map[key.get<std::string>()] = path;
        }
        reverse = &own_map;
      }
    }
    auto path_of = [&](const std::string& key) {
      auto it = reverse->find(key);
      return it != reverse->end() ? it->second : key;
    };

    // {...body, ...metadata}: metadata wins, the body fills in what it lacks.
    std::map<std::string, Source> fields;  // path -> value
    for (const auto& [key, stored] : object.metadata) {
      if (IsBookkeeping(key)) continue;
      JsValue value = s3dbjs::DecodeMetadataValue(stored);
      Source source;
      source.from = Source::From::kMetadata;
      if (value.kind == JsValue::Kind::kUndefined) source.undefined = true;
      if (value.kind == JsValue::Kind::kString) source.value = value.text;
      fields[path_of(key)] = std::move(source);
    }
    if (!got->body.empty()) {
      if (auto body = ParseJsonText(got->body); body && body->is_object()) {
        for (const auto& [key, value] : body->items()) {
          if (IsBookkeeping(key)) continue;  // "-v" too: update() writes back what get() returned
          const bool mapped = reverse->count(key) > 0;
          const std::string path = path_of(key);
          if (fields.count(path)) continue;
          Source source;
          source.from = mapped ? Source::From::kMappedBody : Source::From::kNamedBody;
          source.value = value;
          fields[path] = std::move(source);
        }
      }
    }

    S3dbJsRecord record;
    record.id = id;
    record.last_modified_ms = object.last_modified_ms;
    for (const auto& [path, source] : fields) {
      auto spec_it = schema.fields.find(path);
      s3dbjs::FieldSpec plain;
      const s3dbjs::FieldSpec& spec = spec_it != schema.fields.end() ? spec_it->second : plain;
      std::optional<Json> value = DecodeField(spec, source, name, id, path);
      if (!value) continue;
      // unflatten: a dotted path is a nested object.
      Json* at = &record.data;
      const std::vector<std::string> parts = util::Split(path, '.');
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        Json& next = (*at)[parts[i]];
        if (!next.is_object()) next = Json::object();
        at = &next;
      }
      (*at)[parts.back()] = std::move(*value);
    }
    (void)info;
    return record;
  }
};

S3dbJsDatabase::S3dbJsDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3dbJsDatabase::~S3dbJsDatabase() = default;

std::unique_ptr<S3dbJsDatabase> S3dbJsDatabase::Open(const S3dbJsOpenOptions& options) {
  Result<StoreUri> uri = ParseStoreUri(options.uri);
  ThrowIfError(uri.status());
  Result<std::unique_ptr<ObjectStore>> store = OpenStore(*uri);
  ThrowIfError(store.status());
  return Open(std::move(store).value(), uri->prefix, options.passphrase);
}

std::unique_ptr<S3dbJsDatabase> S3dbJsDatabase::Open(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                                     const std::string& passphrase) {
  auto impl = std::make_unique<Impl>();
  impl->store = std::move(store);
  std::string trimmed = prefix;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.erase(trimmed.begin());
  impl->base = trimmed.empty() ? "" : trimmed + "/";
  impl->passphrase = passphrase;
  const std::string catalog_key = impl->base + "s3db.json";
  Result<GetResult> got = impl->store->Get(catalog_key);
  if (got.code() == ErrorCode::kNotFound) {
    throw NotFound("no s3db.js catalog at " + impl->store->Describe() + " key '" + catalog_key + "'");
  }
  ThrowIfError(got.status());
  std::optional<Json> catalog = ParseJsonText(got->body);
  if (!catalog || !catalog->is_object())
    throw Corruption("the s3db.js catalog '" + catalog_key + "' is not a JSON object");

  // s3db.js 21 reads keys as base36 registry indexes; older versions used other key maps.
  const Json version = catalog->value("s3dbVersion", Json());
  impl->version = version.is_string() ? version.get<std::string>() : "";
  int major = 0;
  if (!impl->version.empty()) major = std::atoi(impl->version.c_str());
  if (major < kOldestMajor) {
    const std::string found = impl->version.empty() ? "no s3dbVersion" : "s3db.js " + impl->version;
    throw S3dbJsVersionUnsupported("the catalog '" + catalog_key + "' was written by " + found +
                                       "; only s3db.js 21.x buckets can be read (open it with s3db.js 21 once, "
                                       "which rewrites the catalog, then migrate)",
                                   impl->version);
  }

  const Json resources = catalog->value("resources", Json::object());
  if (!resources.is_object()) throw Corruption("the s3db.js catalog '" + catalog_key + "' has no resources object");
  for (const auto& [name, entry] : resources.items()) {
    if (!entry.is_object()) continue;
    const std::string current = entry.value("currentVersion", std::string("v1"));
    const Json versions = entry.value("versions", Json::object());
    if (!versions.is_object() || !versions.contains(current) || !versions[current].is_object()) {
      throw Corruption("s3db.js resource '" + name + "': the catalog has no version entry '" + current + "'", name);
    }
    const Json& v = versions[current];
    S3dbJsResourceInfo info;
    info.name = name;
    info.version = current;
    info.attributes = v.value("attributes", Json::object());
    info.behavior = v.value("behavior", std::string("user-managed"));
    info.timestamps = v.value("timestamps", false);
    info.partitions = v.value("partitions", Json::object());
    if (!info.partitions.is_object()) info.partitions = Json::object();

    s3dbjs::TranslatedSchema schema = s3dbjs::TranslateAttributes(info.attributes, info.timestamps);
    info.untranslatable = schema.untranslatable;
    info.translated.name = name;
    info.translated.attributes = schema.attributes;
    info.translated.behavior = info.behavior;
    info.translated.timestamps = info.timestamps;
    Json partitions = Json::object();
    for (const auto& [pname, pspec] : info.partitions.items()) {
      // A partition on an untranslated field cannot be rebuilt; the field is reported.
      bool usable = pspec.is_object() && pspec.contains("fields") && pspec["fields"].is_object();
      if (usable) {
        for (const auto& [field, rule] : pspec["fields"].items()) {
          auto it = schema.fields.find(field);
          if (it != schema.fields.end() && it->second.kind == FieldKind::kUntranslatable) usable = false;
          (void)rule;
        }
      }
      if (usable) partitions[pname] = pspec;
    }
    info.translated.partitions = partitions;

    std::map<std::string, std::string> reverse;
    const Json mapping = entry.contains("schemaRegistry") && entry["schemaRegistry"].is_object()
                             ? entry["schemaRegistry"].value("mapping", Json::object())
                             : Json::object();
    for (const auto& [path, index] : mapping.items()) {
      if (index.is_number_integer() && index.get<int64_t>() >= 0) reverse[Base36(index.get<int64_t>())] = path;
    }
    // A catalog written before the registry may still carry the map itself.
    if (reverse.empty() && v.contains("map") && v["map"].is_object()) {
      for (const auto& [path, key] : v["map"].items()) {
        if (key.is_string()) reverse[key.get<std::string>()] = path;
      }
    }
    impl->reverse_maps[name] = std::move(reverse);
    impl->schemas[name] = std::move(schema);
    impl->resources[name] = std::move(info);
  }
  return std::unique_ptr<S3dbJsDatabase>(new S3dbJsDatabase(std::move(impl)));
}

const std::string& S3dbJsDatabase::s3db_version() const { return impl_->version; }

std::vector<std::string> S3dbJsDatabase::ResourceNames() const {
  std::vector<std::string> names;
  for (const auto& [name, info] : impl_->resources) names.push_back(name);
  return names;
}

const S3dbJsResourceInfo& S3dbJsDatabase::resource(const std::string& name) const { return impl_->Info(name); }

std::vector<std::string> S3dbJsDatabase::ListIds(const std::string& resource, const std::string& start_after,
                                                 size_t max) const {
  impl_->Info(resource);
  if (max < 1 || max > 1000) throw InvalidArgument("ListIds: max must be 1..1000, got " + std::to_string(max));
  const std::string prefix = impl_->DataPrefix(resource);
  ListRequest request;
  request.prefix = prefix;
  if (!start_after.empty()) request.start_after = prefix + start_after;
  request.max_keys = static_cast<int>(max);
  Result<ListPage> page = impl_->store->List(request);
  ThrowIfError(page.status(), resource);
  std::vector<std::string> ids;
  for (const ObjectInfo& object : page->objects) {
    std::string id = object.key.substr(prefix.size());
    if (!id.empty() && id.find('/') == std::string::npos) ids.push_back(std::move(id));
  }
  return ids;
}

std::optional<S3dbJsRecord> S3dbJsDatabase::Get(const std::string& resource, const std::string& id) const {
  return impl_->Get(resource, id);
}

}  // namespace s3db
