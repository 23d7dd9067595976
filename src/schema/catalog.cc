#include "schema/catalog.h"

#include <algorithm>

#include "format/key_layout.h"
#include "s3db/errors.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::core {
namespace {

constexpr const char* kTimestampFields[] = {"createdAt", "updatedAt"};

[[noreturn]] void Corrupt(const std::string& name, const std::string& what) {
  throw Corruption("catalog entry of resource '" + name + "' is malformed: " + what, name);
}

}  // namespace

Json EmptyCatalog() { return Json{{"format", kCatalogFormat}, {"resources", Json::object()}}; }

void CheckCatalog(const Json& catalog) {
  if (!catalog.is_object() || !catalog.contains("format") || !catalog["format"].is_number_integer() ||
      !catalog.contains("resources") || !catalog["resources"].is_object()) {
    throw Corruption("the catalog s3db.json is not an s3db catalog");
  }
  if (catalog["format"].get<int>() != kCatalogFormat) {
    throw Corruption("the catalog s3db.json has format " + catalog["format"].dump() + "; this build reads format " +
                     std::to_string(kCatalogFormat));
  }
  if (catalog.contains(kCryptoMember) && !catalog[kCryptoMember].is_object()) {
    throw Corruption("the catalog s3db.json has a crypto member that is not an object");
  }
}

bool EntryHasSecrets(const ResourceState& state) { return state.has_secrets; }

Schema CheckDefinition(const ResourceDefinition& definition, std::vector<PartitionSpec>* partitions) {
  Status name_ok = format::ValidateResourceName(definition.name);
  if (!name_ok.ok()) throw InvalidArgument(name_ok.message(), definition.name);
  auto behavior = ParseBehavior(definition.behavior);
  if (!behavior) {
    throw InvalidSchema("resource '" + definition.name + "': unknown behavior '" + definition.behavior +
                            "' (user-managed, enforce-limits, truncate-data, body-overflow, body-only)",
                        definition.name);
  }
  Schema schema;
  try {
    schema = ParseAttributes(definition.attributes);
  } catch (const InvalidSchema& e) {
    throw InvalidSchema("resource '" + definition.name + "': " + e.what(), definition.name);
  }
  if (definition.timestamps) {
    for (const char* field : kTimestampFields) {
      // The seeds declare `createdAt: "date"` beside timestamps:true: a declared rule governs
      // the field (its type, its partition rules); timestamps still set it. It must be able to
      // hold the ISO 8601 text timestamps write.
      if (const FieldRule* declared = schema.Find(field)) {
        if (declared->type != FieldType::kDate && declared->type != FieldType::kString &&
            declared->type != FieldType::kAny) {
          throw InvalidSchema("resource '" + definition.name + "': attribute '" + field + "' is declared as '" +
                                  declared->type_name +
                                  "', but timestamps:true sets it to an ISO 8601 time: declare it as 'date' or "
                                  "'string', or leave it out",
                              definition.name);
        }
        continue;
      }
      FieldRule ts;
      ts.name = ts.path = field;
      ts.type = FieldType::kDate;
      ts.type_name = "date";
      ts.optional = true;
      schema.fields.push_back(std::move(ts));
    }
  }
  // After the timestamps fields: a partition by createdAt is the seeds' own example.
  std::vector<PartitionSpec> parsed = ParsePartitions(definition.name, definition.partitions, schema);
  if (partitions) *partitions = std::move(parsed);
  return schema;
}

int AddResourceVersion(Json& catalog, const ResourceDefinition& definition, int64_t now_ms) {
  Schema schema = CheckDefinition(definition);
  Json& resources = catalog["resources"];
  Json& entry = resources[definition.name];
  if (entry.is_null()) {
    entry = Json{{"currentVersion", 0},
                 {"versions", Json::object()},
                 {"registry", Json{{"nextIndex", 0}, {"mapping", Json::object()}, {"burned", Json::array()}}},
                 {"createdAt", util::FormatIso8601Ms(now_ms)}};
  }
  Json& registry = entry["registry"];
  Json& mapping = registry["mapping"];
  uint64_t next = registry["nextIndex"].get<uint64_t>();

  std::vector<std::string> paths = StoragePaths(schema);
  Json fields = Json::object();
  for (const auto& path : paths) {
    if (!mapping.contains(path)) mapping[path] = next++;
    fields[path] = mapping[path];
  }
  // Paths the new version no longer has are burned: their index stays taken forever, and
  // the path gets a new index if it ever comes back.
  std::vector<std::string> removed;
  for (const auto& [path, index] : mapping.items()) {
    if (!fields.contains(path)) removed.push_back(path);
  }
  for (const auto& path : removed) {
    registry["burned"].push_back(
        Json{{"path", path}, {"index", mapping[path]}, {"burnedAt", util::FormatIso8601Ms(now_ms)}});
    mapping.erase(path);
  }
  registry["nextIndex"] = next;

  int version = entry["currentVersion"].get<int>() + 1;
  entry["versions"][std::to_string(version)] = Json{{"definition", definition.ToJson()},
                                                    {"hash", definition.DefinitionHash()},
                                                    {"fields", fields},
                                                    {"createdAt", util::FormatIso8601Ms(now_ms)}};
  entry["currentVersion"] = version;
  return version;
}

std::shared_ptr<const ResourceState> BuildResourceState(const std::string& name, const Json& entry) {
  auto state = std::make_shared<ResourceState>();
  state->name = name;
  try {
    state->current_version = entry.at("currentVersion").get<int>();
    for (const auto& [version_text, v] : entry.at("versions").items()) {
      auto spec = std::make_shared<VersionSpec>();
      spec->version = std::stoi(version_text);
      spec->definition = ResourceDefinition::FromJson(name, v.at("definition"));
      spec->hash = v.at("hash").get<std::string>();
      spec->behavior = ParseBehavior(spec->definition.behavior).value_or(Behavior::kUserManaged);
      spec->schema = CheckDefinition(spec->definition, &spec->partitions);
      spec->partition_paths = PartitionPaths(spec->partitions);
      for (const auto& [path, index] : v.at("fields").items()) {
        uint64_t i = index.get<uint64_t>();
        const FieldRule* rule = spec->schema.Find(path);
        if (!rule) {
          Corrupt(name, "version " + version_text + " lists field '" + path + "', which its schema does not have");
        }
        spec->fields.push_back({path, i, format::ToBase36(i), rule, util::Split(path, '.')});
      }
      std::sort(spec->fields.begin(), spec->fields.end(),
                [](const StoredField& a, const StoredField& b) { return a.index < b.index; });
      std::vector<StoredField*> by_parts;
      for (auto& f : spec->fields) by_parts.push_back(&f);
      std::sort(by_parts.begin(), by_parts.end(),
                [](const StoredField* a, const StoredField* b) { return a->parts < b->parts; });
      for (size_t rank = 0; rank < by_parts.size(); ++rank) by_parts[rank]->build_rank = rank;
      for (const auto& f : spec->fields) {
        if (!spec->by_key.emplace(f.key, &f).second) Corrupt(name, "two fields share index " + f.key);
        spec->by_path.emplace(f.path, &f);
      }
      for (const auto& path : StoragePaths(spec->schema)) {
        if (!spec->by_path.count(path)) Corrupt(name, "version " + version_text + " has no index for '" + path + "'");
      }
      state->has_secrets |= spec->schema.HasSecrets();
      state->versions[spec->version] = std::move(spec);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    Corrupt(name, e.what());
  }
  if (!state->versions.count(state->current_version)) Corrupt(name, "its current version is missing");
  return state;
}

}  // namespace s3db::core
