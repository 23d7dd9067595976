// Keys and ids: where things live in the bucket, and what a metadata key is called.
//
//   <prefix>/s3db.json                                  the catalog
//   <prefix>/resource=<name>/data/id=<encoded id>       one record
//   <prefix>/resource=<name>/partition=<p>/<field>=<value>/.../id=<encoded id>
//                                                       one partition reference (empty object)
//
// Records sit under "data/" so that listing a resource's records never meets its partition
// references. docs/FORMAT.md ("Keys and ids") has the rules; tests/data/key_layout_vectors.jsonl
// pins them down.
//
// Thread-safety: pure functions and an immutable class, safe to share between threads.
//
// May call: util/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3db/errors.h"

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

// ---- Partitions ----------------------------------------------------------------------------

// S3 refuses longer keys; a partition reference that would exceed it cannot be written.
inline constexpr size_t kMaxKeyBytes = 1024;

// A partition name goes into keys as is: 1..64 characters of [A-Za-z0-9_-], starting with a
// letter or digit (the rule of resource names). kInvalidArgument naming the name and the rule.
Status ValidatePartitionName(std::string_view name);

// One `<field>=<value>` level of a partition reference: the field's dot path and the value's
// key text (what the partition rule made of the value), both unencoded.
using PartitionSegments = std::vector<std::pair<std::string, std::string>>;

// A reference key taken apart (KeyLayout::ParsePartitionKey).
struct PartitionKeyParts {
  std::string partition;
  PartitionSegments segments;
  std::string id;
};

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
  // `room`: bytes to reserve past it, for a caller that appends.
  std::string ResourcePrefix(std::string_view resource, size_t room = 0) const;
  // "<prefix>/resource=<name>/data/id=": list this to enumerate a resource's records.
  std::string RecordPrefix(std::string_view resource) const;
  // RecordPrefix + EncodeIdForKey(id). Expects a valid resource name and id.
  std::string RecordKey(std::string_view resource, std::string_view id) const;
  // The id of a record key of `resource`; nullopt for any other key (another resource, a
  // partition reference, a malformed id segment).
  std::optional<std::string> IdFromRecordKey(std::string_view resource, std::string_view key) const;

  // "<prefix>/resource=<name>/partition=": every reference of every partition (repair).
  std::string PartitionsRoot(std::string_view resource) const;
  // "<prefix>/resource=<name>/partition=<p>/": every reference of one partition.
  std::string PartitionPrefix(std::string_view resource, std::string_view partition) const;
  // PartitionPrefix + "<field>=<value>/" for each segment, field and value percent-encoded as
  // ids are (EncodeIdForKey). Ends in '/', so "region=eu/" never matches "region=eu-west/".
  // With a leading run of a partition's fields, lists every reference that starts with them.
  std::string PartitionValuesPrefix(std::string_view resource, std::string_view partition,
                                    const PartitionSegments& segments) const;
  // PartitionValuesPrefix + "id=" + EncodeIdForKey(id): the reference of one record.
  std::string PartitionKey(std::string_view resource, std::string_view partition, const PartitionSegments& segments,
                           std::string_view id) const;
  // The parts of a reference key of `resource`; nullopt for any other key, and for one that
  // PartitionKey would not have written byte for byte (bad partition name, a segment without
  // '=', a non-canonical escape, no "id=" level, a bad id).
  std::optional<PartitionKeyParts> ParsePartitionKey(std::string_view resource, std::string_view key) const;

 private:
  std::string prefix_;
};

}  // namespace s3db::format
