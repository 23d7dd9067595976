// A record <-> one object: fields to metadata (base36 keys, encoded values) and, for what
// does not fit the budget, to the JSON body (docs/FORMAT.md "Records").
#pragma once

#include <string>
#include <vector>

#include "core/catalog.h"
#include "s3db/object_store.h"

namespace s3db::core {

inline constexpr const char* kVersionKey = "_v";   // schema version that wrote the record
inline constexpr const char* kOverflowKey = "_o";  // "1" when some fields live in the body

struct EncodedRecord {
  Metadata metadata;
  std::string body;                      // always a JSON object (see FORMAT.md for why)
  size_t metadata_bytes = 0;             // UTF-8 bytes of keys + values, as S3 counts them
  std::vector<std::string> body_paths;   // fields that went to the body
};

// `data` must already be validated against `spec` (no id inside). Throws MetadataTooLarge
// (enforce-limits) with the sizes, before anything is sent.
EncodedRecord EncodeRecord(const Json& data, const VersionSpec& spec, size_t budget,
                           const std::string& resource, const std::string& id);

// The version number a stored object says wrote it; Corruption when it has none.
int RecordVersion(const Metadata& metadata, const std::string& resource, const std::string& id);

// Rebuilds the record's fields. Throws Corruption naming resource, id and cause.
Json DecodeRecord(const Metadata& metadata, const std::string& body, const VersionSpec& spec,
                  const std::string& resource, const std::string& id);

// Fields by dotted storage path, depth-first in rule order. A nested object contributes
// its children, or itself when it is null or empty.
std::vector<std::pair<std::string, Json>> FlattenRecord(const std::vector<FieldRule>& rules,
                                                        const Json& data);

}  // namespace s3db::core
