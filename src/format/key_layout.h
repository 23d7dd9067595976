// Keys and ids: where things live in the bucket, and what a metadata key is called.
//
//   <prefix>/s3db.json                                  the catalog
//   <prefix>/resource=<name>/data/id=<encoded id>       one record
//   <prefix>/resource=<name>/partition=...              partition references (a later layer)
//
// Records sit under "data/" so that listing a resource's records never meets its partition
// references. docs/FORMAT.md ("Keys and ids") has the rules; tests/data/key_layout_vectors.jsonl
// pins them down.
//
// Thread-safety: pure functions and an immutable class, safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "s3db/status.h"

namespace s3db::format {

// ---- Metadata keys ------------------------------------------------------------------------
// A field's metadata key is its permanent registry index in base36 ("0".."9", "a".."z", "10",
// ...). Lower-case because S3 lower-cases metadata keys; keys starting with '_' are reserved.

std::string ToBase36(uint64_t n);
// Strict inverse of ToBase36: nullopt for "", upper case, leading zeros ("01"), other
// characters, or a value above UINT64_MAX. One number, one spelling.
std::optional<uint64_t> FromBase36(std::string_view text);

// ---- Resource names and record ids --------------------------------------------------------

inline constexpr size_t kMaxResourceNameLength = 64;
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kGeneratedIdLength = 22;

// 1..64 characters of [A-Za-z0-9_-], starting with a letter or digit (so never an option to a
// shell, never a reserved '_' name). kInvalidArgument naming the name and the rule.
Status ValidateResourceName(std::string_view name);

// A caller's id: 1..256 bytes of valid UTF-8, no '/', no control characters (< 0x20, 0x7F),
// not "." or "..". kInvalidArgument naming the id (escaped and shortened) and the rule.
Status ValidateId(std::string_view id);

// 22 characters of [0-9A-Za-z] from the CSPRNG: about 131 bits, so collisions are not a
// concern, and it never starts with '-'.
std::string NewId();

// The id as it appears after "id=" in a key: every byte outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - . _ ~) as %XX with upper-case hex. Expects a valid id.
std::string EncodeIdForKey(std::string_view id);

// Inverse of EncodeIdForKey. kCorruption unless the segment is exactly what EncodeIdForKey
// writes for a valid id (no lower-case hex, no raw reserved characters), so that an id read
// from a listing addresses the same object when it is used to build a key again.
Result<std::string> DecodeIdFromKey(std::string_view segment);

// ---- Object keys ---------------------------------------------------------------------------

class KeyLayout {
 public:
  // prefix is "" or "a/b"; leading and trailing '/' are dropped ("a/b/" is "a/b").
  explicit KeyLayout(std::string prefix);

  const std::string& prefix() const { return prefix_; }

  // "" or "<prefix>/": where every key of the database starts.
  std::string Root() const;
  // "<prefix>/s3db.json", or "s3db.json" with no prefix.
  std::string Catalog() const;
  // "<prefix>/resource=<name>/": everything a resource owns, for listing and dropping it.
  std::string ResourcePrefix(std::string_view resource) const;
  // "<prefix>/resource=<name>/data/id=": list this to enumerate a resource's records.
  std::string RecordPrefix(std::string_view resource) const;
  // RecordPrefix + EncodeIdForKey(id). Expects a valid resource name and id.
  std::string RecordKey(std::string_view resource, std::string_view id) const;
  // The id of a record key of `resource`; nullopt for any other key (another resource, a
  // partition reference, a malformed id segment).
  std::optional<std::string> IdFromRecordKey(std::string_view resource, std::string_view key) const;

 private:

  std::string prefix_;
};

}  // namespace s3db::format
