// The catalog (`<prefix>/s3db.json`): every resource, its versions and its field registry.
//
// On the bucket it is one JSON document (docs/FORMAT.md "Catalog"). In memory each
// resource becomes an immutable ResourceState, shared by the threads that read records,
// and replaced as a whole when the catalog changes.
//
// May call: format/, util/.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "s3db/record.h"
#include "schema/behavior.h"
#include "schema/partition_spec.h"
#include "schema/schema_rules.h"

namespace s3db::core {

inline constexpr int kCatalogFormat = 1;

// One attribute path and the metadata key its permanent registry index gives it.
struct StoredField {
  std::string path;
  uint64_t index = 0;
  std::string key;                  // base36 of index
  const FieldRule* rule = nullptr;  // in the owning VersionSpec's schema
  std::vector<std::string> parts;   // `path` split at its dots, for building records
  // Position when fields are ordered by `parts` (each parent, then its children by name):
  // setting a record's values in this order appends every key at the end of its object.
  size_t build_rank = 0;
};

// One version of a resource: what records written under it look like.
struct VersionSpec {
  int version = 0;
  ResourceDefinition definition;
  std::string hash;
  Behavior behavior = Behavior::kUserManaged;
  Schema schema;                    // timestamps fields included when enabled
  std::vector<StoredField> fields;  // in index order
  std::map<std::string, const StoredField*> by_key;
  std::map<std::string, const StoredField*> by_path;
  // The definition's partitions, parsed and checked against `schema`; a record's references
  // follow those of the resource's current version (docs/FORMAT.md "Partition references").
  std::vector<PartitionSpec> partitions;
  // Every storage path a partition reads: body-overflow keeps these in metadata.
  std::set<std::string> partition_paths;

  VersionSpec() = default;
  VersionSpec(const VersionSpec&) = delete;
  VersionSpec& operator=(const VersionSpec&) = delete;
};

struct ResourceState {
  std::string name;
  int current_version = 0;
  bool has_secrets = false;  // some version has a secret field (see EntryHasSecrets)
  std::map<int, std::shared_ptr<const VersionSpec>> versions;

  const VersionSpec& current() const { return *versions.at(current_version); }
};

Json EmptyCatalog();

// Checks a definition (name, behavior, attributes, partitions) and returns its parsed
// schema, with the timestamps fields added when enabled; the parsed partitions go to
// `partitions` when given. Throws InvalidSchema / InvalidArgument / Unsupported.
Schema CheckDefinition(const ResourceDefinition& definition, std::vector<PartitionSpec>* partitions = nullptr);

// Adds `definition` to the catalog document as a new resource (version 1) or, when the
// resource exists, as its next version: new attribute paths get fresh registry indexes,
// removed ones are burned (their index is never reused). Returns the new version number.
int AddResourceVersion(Json& catalog, const ResourceDefinition& definition, int64_t now_ms);

// Builds the in-memory state of one resource entry. Throws Corruption naming the resource
// when the entry is malformed.
std::shared_ptr<const ResourceState> BuildResourceState(const std::string& name, const Json& entry);

// Throws Corruption when the document is not a catalog this version understands.
void CheckCatalog(const Json& catalog);

// The catalog member that holds the secret-field keys (record/keyring.h reads it).
inline constexpr const char* kCryptoMember = "crypto";

// Whether any version of the resource entry has a secret field (records written under any
// of them may hold sealed values).
bool EntryHasSecrets(const ResourceState& state);

}  // namespace s3db::core
