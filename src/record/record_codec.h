// A record <-> one object: fields to metadata (base36 keys, encoded values) and, for what
// does not fit the budget, to the JSON body (docs/FORMAT.md "Records"). The only place that
// knows metadata keys. Values are typed by the writing version's rules: dates go compact
// (tag D), secret fields are sealed with the database key (tag E, record/keyring.h).
//
// May call: schema/, format/, util/.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "record/keyring.h"
#include "s3db/object_store.h"
#include "schema/catalog.h"

namespace s3db::core {

inline constexpr const char* kVersionKey = "_v";         // schema version that wrote the record
inline constexpr const char* kOverflowKey = "_o";        // "1" when some fields live in the body
inline constexpr const char* kTruncatedKey = "_t";       // truncate-data: keys of shortened fields
inline constexpr const char* kTruncationMarker = "...";  // truncate-data: ends every cut value

struct EncodedRecord {
  Metadata metadata;
  std::string body;                          // always a JSON object (see FORMAT.md for why)
  size_t metadata_bytes = 0;                 // UTF-8 bytes of keys + values, as S3 counts them
  size_t full_bytes = 0;                     // what metadata would take holding every field
  size_t budget = 0;                         // the budget it was encoded for
  std::vector<std::string> body_paths;       // fields that went to the body
  std::vector<std::string> truncated_paths;  // truncate-data: fields that were shortened

  bool exceeded() const { return full_bytes > budget; }  // user-managed emits exceedsLimit
};

// `data` must already be validated against `spec` (no id inside). Throws MetadataTooLarge
// (enforce-limits) with the sizes, before anything is sent, and AccessDenied when a secret
// field has a value and `keys` cannot seal (no passphrase).
// Behaviors for a record over the budget (docs/FORMAT.md "Records"): user-managed and
// body-overflow keep `pinned` paths (partition fields) and then the smallest fields in
// metadata and put the rest in the body; body-only puts every field in the body;
// enforce-limits throws; truncate-data shortens the longest string fields until the record
// fits and lists them under _t, or throws MetadataTooLarge when even that cannot make it fit.
EncodedRecord EncodeRecord(const Json& data, const VersionSpec& spec, size_t budget, const std::string& resource,
                           const std::string& id, const Keyring* keys = nullptr,
                           const std::set<std::string>* pinned = nullptr);

// The version number a stored object says wrote it; Corruption when it has none.
int RecordVersion(const Metadata& metadata, const std::string& resource, const std::string& id);

struct DecodeOptions {
  bool skip_secrets = false;                            // leave secret fields out, unopened
  std::set<uint64_t>* sealed_key_ids = nullptr;         // receives the key id of every sealed value
  std::vector<std::string>* truncated_paths = nullptr;  // receives the fields truncate-data cut
};

// Rebuilds the record's fields. Throws Corruption naming resource, id and cause (a sealed
// value that fails authentication included), AccessDenied for a sealed value `keys` cannot
// open. Messages never carry a secret's value.
Json DecodeRecord(const Metadata& metadata, const std::string& body, const VersionSpec& spec,
                  const std::string& resource, const std::string& id, const Keyring* keys = nullptr,
                  const DecodeOptions& options = {});

// The associated data a secret field's value is sealed with: it binds the ciphertext to its
// resource, record and field, so a value copied elsewhere fails to open.
std::string SecretAad(const std::string& resource, const std::string& id, const std::string& path);

}  // namespace s3db::core
