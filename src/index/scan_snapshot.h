// Scan snapshots: what every record object of a resource held at some moment, kept in a few
// compressed segment objects, so that a scan reads a record from the snapshot instead of a
// GET when the ETag the listing shows is the one the snapshot holds (issue 24).
//
//   <prefix>/resource=<name>/snapshot/manifest=<20 digits: 18446744073709551615 - generation>
//   <prefix>/resource=<name>/snapshot/segment=<20-digit generation>-<tag>-<6-digit index>
//
// Why an ETag match is enough: every record body carries a fresh random write tag (`w`,
// docs/FORMAT.md "Body"), so each write's body is unique, and a single-part PUT's ETag is the
// MD5 of its body. Only entries whose ETag is the MD5 of the stored body are kept (a backend
// whose ETags are something else, SSE-KMS or S3 Express, gets none), so a listed ETag equal
// to an entry's means the object still holds exactly that write: its metadata and body. A
// record whose ETag differs (updated, deleted and inserted again, written by an old version)
// is read with a GET, so a scan returns what LIST + GET return at the moment of the LIST.
//
// The snapshot is a cache no reader needs: a missing, torn or foreign manifest, or a segment
// that cannot be read or fails its checksum, makes the reader fall back to GETs, never fail.
// A new generation is published by creating its manifest with If-None-Match: *; segments of
// generations before the previous one are deleted then, so a reader that has just read the
// previous manifest still finds its segments.
//
// Thread-safety: ScanSnapshot is safe to share between threads (segments load once, under a
// lock of their own); the functions are stateless.
//
// May call: format/, util/, and the store through ObjectStore.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "format/key_layout.h"
#include "s3db/object_store.h"

namespace s3db::core {

inline constexpr int kScanSnapshotVersion = 1;

// One record object as a GET returned it: info (etag, last_modified_ms, size, content_type,
// metadata; key empty) and body.
struct SnapshotEntry {
  std::string encoded_id;  // the record key after RecordPrefix: segments are in key order
  ObjectInfo info;
  std::string body;
};

struct SnapshotSegmentRef {
  std::string key;
  std::string first;  // encoded ids of its first and last entries
  std::string last;
  size_t records = 0;
  uint64_t bytes = 0;  // compressed, as stored
  std::string sha256;  // hex, of the stored bytes
};

struct SnapshotManifest {
  int version = kScanSnapshotVersion;
  std::string resource;
  uint64_t generation = 0;
  int64_t created_ms = 0;
  size_t records = 0;
  std::vector<SnapshotSegmentRef> segments;  // in key order, not overlapping
  // Every kFenceSpacing-th encoded id of the listing the snapshot was built from, ascending:
  // a scan lists the key ranges between them in parallel, one LIST each while they hold no
  // more than a page (ListRecordKeysWithFences).
  std::vector<std::string> fences;
};

inline constexpr size_t kFenceSpacing = 1000;

// ---- encodings (docs/FORMAT.md "Scan snapshots") ------------------------------------------

std::string EncodeManifest(const SnapshotManifest& manifest);
// nullopt for anything this version would not have written (not JSON, another version,
// segments out of order): the caller then reads without the snapshot.
std::optional<SnapshotManifest> DecodeManifest(const std::string& text);

// zlib-compressed; entries must be in key order.
std::string EncodeSegment(const std::vector<SnapshotEntry>& entries);
// nullopt for bytes EncodeSegment would not have written (truncated, corrupt, out of order).
std::optional<std::vector<SnapshotEntry>> DecodeSegment(const std::string& stored);

// "<resource prefix>snapshot/", and the keys under it.
std::string SnapshotPrefix(const format::KeyLayout& layout, const std::string& resource);
std::string ManifestKey(const format::KeyLayout& layout, const std::string& resource, uint64_t generation);
// The generation a manifest or segment key under `snapshot_prefix` names; nullopt for other keys.
std::optional<uint64_t> GenerationOfSnapshotKey(const std::string& snapshot_prefix, const std::string& key);

// Whether `etag` (quoted or not) is the MD5 of `body`, as a single-part PUT's is.
bool EtagIsBodyMd5(const std::string& etag, const std::string& body);

// ---- reading ----------------------------------------------------------------------------------

struct SnapshotReadStats {
  size_t hits = 0;           // records taken from the snapshot
  size_t segment_loads = 0;  // segment GETs
  size_t segment_failures = 0;
};

class ScanSnapshot {
 public:
  // The newest snapshot of `resource` (one LIST and one GET), or nullptr when there is none
  // or it cannot be used (the caller reads with GETs). `max_resident`: how many loaded
  // segments are kept (0: all); a scan in key order needs two.
  static std::shared_ptr<ScanSnapshot> Open(ObjectStore& store, const format::KeyLayout& layout,
                                            const std::string& resource, size_t max_resident = 0);

  ScanSnapshot(ObjectStore& store, SnapshotManifest manifest, size_t max_resident);

  // Calls `visit` with the entry of `encoded_id` when the snapshot holds exactly the write
  // whose ETag is `etag`, and says whether it did. Loads the segment on first use (a GET);
  // one that cannot be loaded is not tried again.
  bool Visit(const std::string& encoded_id, const std::string& etag,
             const std::function<void(const SnapshotEntry&)>& visit);

  const SnapshotManifest& manifest() const { return manifest_; }
  SnapshotReadStats stats() const;

 private:
  using Segment = std::vector<SnapshotEntry>;
  struct Slot {
    std::mutex load_mu;  // one loader per segment
    std::shared_ptr<const Segment> loaded;
    bool failed = false;
    uint64_t last_use = 0;
  };

  std::shared_ptr<const Segment> Load(size_t index);

  ObjectStore& store_;
  const SnapshotManifest manifest_;
  const size_t max_resident_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex resident_mu_;  // loaded/last_use of every slot, use_clock_
  uint64_t use_clock_ = 0;
  std::atomic<size_t> hits_{0}, loads_{0}, failures_{0};
};

// ---- listing -----------------------------------------------------------------------------------

// A record key as listed: the encoded id (key after RecordPrefix) and its ETag.
struct ListedRecordKey {
  std::string encoded_id;
  std::string etag;
};

// Every key under `record_prefix`, in key order, listed as the ranges (.., fence 0], (fence 0,
// fence 1], ..., (last fence, ..) in parallel, `concurrency` at a time: a range is listed from
// its start page by page until a key passes its end, so a range of at most 1000 keys costs one
// LIST (S3 has no end key; the keys a page brings past the end are dropped). The same result
// as one sequential listing, whatever changed since the fences were taken.
Result<std::vector<ListedRecordKey>> ListRecordKeysWithFences(ObjectStore& store, const std::string& record_prefix,
                                                              const std::vector<std::string>& fences, int concurrency);

// ---- writing ----------------------------------------------------------------------------------

struct SnapshotWriteOutcome {
  uint64_t generation = 0;
  size_t records = 0;   // entries in the new snapshot
  size_t reused = 0;    // of those, taken from the previous snapshot (no GET)
  size_t fetched = 0;   // read with a GET
  size_t vanished = 0;  // listed, deleted before the GET
  size_t not_md5 = 0;   // left out: the ETag is not the body's MD5
  size_t segments = 0;
  uint64_t bytes = 0;  // of the segments, compressed
  size_t deleted = 0;  // objects of older generations removed
};

// Builds and publishes a new generation from a listing of every record key of `resource` (in
// key order): entries of the previous snapshot whose ETag still matches are kept, the others
// are read with a GET, `concurrency` at a time. kConflict when another writer published the
// same generation first (its snapshot stands; this one's segments are removed).
Result<SnapshotWriteOutcome> WriteScanSnapshot(ObjectStore& store, const format::KeyLayout& layout,
                                               const std::string& resource, const std::vector<ListedRecordKey>& listed,
                                               int concurrency, size_t segment_bytes = 8u << 20);

}  // namespace s3db::core
