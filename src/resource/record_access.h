// RecordAccess: reading, decoding, validating and writing the records of one resource, and
// keeping its secondary indexes (partition references, unique-value claims) beside them.
//
// The Resource methods (resource.cc, resource_bulk.cc, resource_partitions.cc) are the public
// face; each builds a RecordAccess for the call and composes these steps. It holds no state of
// its own beyond the call: the catalog state, store and keyring come from the ResourceContext.
//
// May call: resource/resource_context.h, index/, record/, schema/, format/, store/, exec/,
// util/. Called by: resource/.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "index/partition_index.h"
#include "index/scan_snapshot.h"
#include "index/unique_index.h"
#include "record/record_codec.h"
#include "resource/resource_context.h"
#include "s3db/resource.h"
#include "schema/partition_spec.h"

namespace s3db::core {

// How many Resource::Guarded calls are running on this thread: only the outermost reports
// an "error" event, so an operation built of others (Upsert) reports once.
inline thread_local int guard_depth = 0;

// Objects merge key by key, recursively; anything else (null included) replaces.
void DeepMerge(Json& target, const Json& patch);
// Whether the record's fields (and "id") equal every entry of a Query filter.
bool MatchesFilter(const Record& record, const Json& filter);
// The reference keys of a partition -> key map.
std::vector<std::string> KeysOf(const std::map<std::string, std::string>& by_partition);
// "message; message; ..." of a validation's field errors.
std::string ValidationSummary(const std::vector<FieldError>& errors);

// The unique-value claims of one write: freed when the write does not go through (an error
// or an exception), kept once confirmed.
class ClaimSet {
 public:
  ClaimSet(UniqueIndex& index, std::vector<UniqueIndex::Claim> claims, std::string id)
      : index_(index), claims_(std::move(claims)), id_(std::move(id)) {}
  ClaimSet(const ClaimSet&) = delete;
  ClaimSet& operator=(const ClaimSet&) = delete;
  ~ClaimSet() { Release(); }

  void Release() {
    for (const auto& c : claims_) index_.Release(c.path, c.value, id_);
    claims_.clear();
  }
  // Marks every claim held; the path of one another writer took over meanwhile, if any.
  std::optional<std::string> Confirm() {
    for (auto& c : claims_) {
      if (!index_.Confirm(c, id_)) return c.path;
    }
    return std::nullopt;
  }
  void Keep() { claims_.clear(); }

 private:
  UniqueIndex& index_;
  std::vector<UniqueIndex::Claim> claims_;
  std::string id_;
};

// Per-call access to the records of one resource.
struct RecordAccess {
  ResourceContext* context;
  const std::string& name;
  ReferenceQueue* references;  // the resource's background reference writer

  std::shared_ptr<const ResourceState> State() const;

  // InvalidArgument for an id no record can have.
  void CheckId(const std::string& id) const;

  std::string Key(const std::string& id) const;

  [[noreturn]] void Fail(const Status& status, const std::string& id, const std::string& doing) const;

  // Validates (normalising) `data` under `spec`; throws ValidationError with every field,
  // those found in the id (`errors`) included.
  void Validate(const VersionSpec& spec, Json& data, const std::string& id, std::vector<FieldError> errors = {}) const;

  // The pre-write steps of an insert, before any request, on a JSON object (the callers check
  // that first, before the catalog is read): takes the id out of `data` (or
  // draws one; `generated` says which), stamps timestamps (keeping the ones the data gives
  // when `keep_timestamps`), validates under `spec` and checks the partition reference keys
  // (returned, partition -> key).
  std::map<std::string, std::string> PrepareInsert(const VersionSpec& spec, Json& data, std::string* id,
                                                   bool* generated, bool keep_timestamps = false) const;

  // Reading or writing record data of a resource with secret fields needs the key; say so
  // before any request rather than half way through a listing.
  void RequireKeysFor(const ResourceState& state) const;

  // The version spec that wrote `version`, kept alive by `holder`.
  const VersionSpec& SpecOf(int version, std::shared_ptr<const ResourceState>* holder) const;

  // `state`, when given, is used if it knows the record's version (it usually does).
  Record Decode(const std::string& id, const GetResult& got, DecodeOptions options = {},
                std::shared_ptr<const ResourceState> state = nullptr) const;

  Record Decode(const std::string& id, const ObjectInfo& info, const std::string& body, DecodeOptions options = {},
                std::shared_ptr<const ResourceState> state = nullptr) const;

  // The record decoded where the store holds it (ObjectStore::Read), when everything it needs
  // is at hand: `state` knows its version and it decodes. nullopt otherwise, for the caller
  // to decode a copy with Decode, which may re-read the catalog and reports the error (Read's
  // visitor must not call the store).
  std::optional<Record> DecodeInPlace(const std::string& id, const ObjectInfo& info, const std::string& body,
                                      const ResourceState& state) const;

  static const VersionSpec* KnownSpec(const ResourceState& state, int version);

  // The record `info` and `body` hold, decoded under `spec`, the version that wrote it.
  Record DecodeAs(const std::string& id, const ObjectInfo& info, const std::string& body, int version,
                  const VersionSpec& spec, DecodeOptions options) const;

  // With `cached`, through the CachePlugin when one caches records (public reads only: a
  // read that decides a write must see the store).
  std::optional<Record> TryGet(const std::string& id, bool cached = false) const;

  // Encodes and writes `data` (validated under spec) with the given condition. On success
  // `data` moves into the returned record (callers that retry keep it on failure).
  // `operation` ("insert", "update", "reEncrypt") names the call in the exceedsLimit event.
  Result<Record> Write(const VersionSpec& spec, const std::string& id, Json& data, bool create_only,
                       const std::string& if_match, const char* operation) const;
  // Write in two halves, for a batch that sends the PUTs itself (InsertMany): the request
  // with what the record needs afterwards, then the record once the PUT succeeded (emitting
  // the exceedsLimit event of a user-managed record over the budget, as Write does).
  struct PreparedWrite {
    PutRequest put;
    std::optional<Json> stored;  // truncate-data: what was stored
    std::vector<std::string> truncated_paths;
    std::optional<Json> exceeded;  // the exceedsLimit event's sizes, user-managed only
  };
  PreparedWrite PrepareWrite(const VersionSpec& spec, const std::string& id, const Json& data, bool create_only,
                             const std::string& if_match) const;
  Record FinishWrite(const VersionSpec& spec, const std::string& id, Json& data, PreparedWrite& prepared,
                     const ObjectInfo& written, const char* operation) const;

  // ---- unique values ----------------------------------------------------------------------

  UniqueIndex Index() const;

  // (path, value) of every unique field the data holds (absent and null hold nothing).
  static std::vector<std::pair<std::string, Json>> UniqueValues(const VersionSpec& spec, const Json& data);

  // Claims every value in `values` for `id`; on failure frees the ones claimed and rethrows.
  std::vector<UniqueIndex::Claim> Claim(UniqueIndex& index, const std::vector<std::pair<std::string, Json>>& values,
                                        const std::string& id) const;

  // Ids of the resource in key order, from `offset`, at most `limit` of them.
  // Ids in key order; after `start_after` (an id) when it is not empty.
  std::vector<std::string> ListIds(size_t offset, std::optional<size_t> limit,
                                   const std::string& start_after = {}) const;

  // ---- scans (index/scan_snapshot.h) --------------------------------------------------------

  // A record key as listed: its id and the ETag the listing showed (empty when not asked for).
  struct ListedRecord {
    std::string id;
    std::string etag;
  };

  // Scans of fewer records read them with GETs: a snapshot costs at least three requests (its
  // manifest's LIST and GET, a segment) and a segment's few MB.
  static constexpr size_t kSnapshotMinRecords = 100;

  // ListIds, keeping each record's ETag when `etags`.
  std::vector<ListedRecord> ListRecords(size_t offset, std::optional<size_t> limit, bool etags = true,
                                        const std::string& start_after = {}) const;

  // The newest scan snapshot of the resource when a scan of `listed` records is worth one;
  // nullptr when it is not, or there is none this version can use (then every record is a
  // GET). `max_resident`: ScanSnapshot::Open's; a scan reads in key order, so two suffice.
  std::shared_ptr<ScanSnapshot> SnapshotFor(size_t listed, size_t max_resident = 2) const;

  struct ScanListing {
    std::vector<ListedRecord> records;
    std::shared_ptr<ScanSnapshot> snapshot;  // may be nullptr
  };

  // The records of a scan in key order, from `offset`, at most `limit`, with ETags, and the
  // scan snapshot to read them from (SnapshotFor). The whole listing of a resource of more
  // than a page is listed between the snapshot's fences when it has one (about one LIST per
  // 1000 keys, in parallel), else by the parallel lister. After `start_after` (an id) when
  // it is not empty.
  ScanListing ListForScan(size_t offset, std::optional<size_t> limit, const std::string& start_after = {}) const;

  // The record as the listing saw it: from `snapshot` when it holds the write with the listed
  // ETag, else TryGet (nullopt when it was deleted since). `state` is State(), its keys required.
  std::optional<Record> ReadListed(const ListedRecord& listed, ScanSnapshot* snapshot, bool cached,
                                   const std::shared_ptr<const ResourceState>& state) const;

  // What one GetEach visit gave for a record: the record, or a copy of the object to decode
  // off the store's lock (DecodeInPlace could not), or the failure; nothing when it is absent.
  struct ObjectRead {
    std::optional<Record> record;
    std::optional<GetResult> copy;
    std::exception_ptr failure;
  };
  // Never throws: may run under a store's lock (GetEachVisitor).
  ObjectRead FromVisit(const std::string& id, const Status& status, const ObjectInfo& info, const std::string& body,
                       const ResourceState& state) const noexcept;

  // The listed record as `snapshot` holds it (its ETag matching): decoded in place, or a
  // copy to decode; nullopt when the snapshot does not hold that write.
  std::optional<ObjectRead> FromSnapshot(const ListedRecord& listed, ScanSnapshot& snapshot,
                                         const ResourceState& state) const;

  // A stream of ReadListed, for Resource::Scan: pulls (sequence, listed record) from `next`
  // until it gives nullopt (it may block), takes each from `snapshot` where it holds it, sends
  // the GETs of the rest in one GetEachFrom, and calls `done` once per record pulled (from
  // any thread, several at once) with its record (nullopt: deleted since listed) or failure.
  using ListedSource = std::function<std::optional<std::pair<size_t, ListedRecord>>()>;
  using ListedDone =
      std::function<void(size_t sequence, const std::string& id, std::optional<Record>, std::exception_ptr)>;
  // `snapshot` is asked after each pull (a scan's lister finds its snapshot with the first page).
  void ReadEachListed(const ListedSource& next, const std::function<ScanSnapshot*()>& snapshot,
                      const std::shared_ptr<const ResourceState>& state, const ListedDone& done) const;

  // ---- partitions ---------------------------------------------------------------------------

  // Partition name -> reference key of `data` under spec's partitions.
  std::map<std::string, std::string> ReferenceKeys(const VersionSpec& spec, const Json& data,
                                                   const std::string& id) const;

  // Throws ValidationError, before any write, for a reference key S3 would refuse; returns
  // the keys (partition -> reference key).
  std::map<std::string, std::string> CheckReferenceKeys(const VersionSpec& spec, const Json& data,
                                                        const std::string& id, bool generated) const;

  // The reference keys record `id` needs now, under the current definition, read fresh
  // (secrets stay sealed: no partition field is secret); nullopt when it does not exist.
  std::optional<std::set<std::string>> CurrentReferenceKeys(const std::string& id) const;

  ReferenceIo Io(int concurrency) const;

  // Applies a change to the references of a record just written, or queues it when the
  // resource writes them in the background. A synchronous failure throws: the record stands,
  // and repair rebuilds what is missing.
  void PublishReferences(const VersionSpec& spec, ReferenceChange change, const std::string& done) const;
  // The same for the references of many new records at once (InsertMany), through one
  // PutEach: for each change, in order, null or what PublishReferences would have thrown.
  std::vector<std::exception_ptr> PublishNewReferences(const VersionSpec& spec, std::vector<ReferenceChange> changes,
                                                       const std::string& done) const;
  void ThrowIfReferencesFailed(const std::string& id, const ReferenceOutcome& outcome, const std::string& done) const;

  // The partition `partition` of `spec`; InvalidArgument naming the ones there are.
  const PartitionSpec& PartitionOf(const VersionSpec& spec, const std::string& partition) const;

  struct PartitionTarget {
    const PartitionSpec* partition = nullptr;
    format::PartitionSegments segments;
  };

  // The partition a listing reads, from ListOptions/PageOptions; nullopt for the whole resource.
  std::optional<PartitionTarget> Target(const VersionSpec& spec, const std::string& partition,
                                        const Json& values) const;

  // The record behind a listed reference, when its current data gives exactly that key (and
  // it passes `filter`); nullopt for a stale reference. Secrets stay sealed unless `full`.
  std::optional<Record> Verify(const PartitionSpec& partition, const std::string& key, const std::string& id, bool full,
                               const Json* filter) const;

  struct ScanResult {
    std::vector<std::string> ids;
    std::vector<Record> records;  // when kept
    size_t matched = 0;           // verified references seen (all of them with count_all)
  };

  // Lists the references under `target` in key order and keeps those Verify accepts: from
  // `offset`, at most `limit`. Reads each candidate record (one GET per reference), a batch
  // at a time in parallel, and stops at the limit unless `count_all`.
  // With `on_error` (ListOptions::on_error), a record that cannot be read is reported and
  // skipped instead of thrown.
  ScanResult ScanPartition(const PartitionTarget& target, size_t offset, std::optional<size_t> limit, bool keep_records,
                           bool count_all, const Json* filter = nullptr,
                           const std::function<void(const BulkItemError&)>* on_error = nullptr) const;

  // The ids the references under `target` name, in key order, from `offset`, at most
  // `limit`: the index as it stands, no record read (ListOptions::verify false).
  std::vector<std::string> ListReferencedIds(const PartitionTarget& target, size_t offset,
                                             std::optional<size_t> limit) const;

  // Reads many ids in parallel; vanished ones are skipped (they were deleted meanwhile). With
  // `on_error`, one that cannot be read is reported (index: `first_index` + its position) and
  // skipped; without, its error is thrown.
  std::vector<Record> ReadAll(const std::vector<std::string>& ids, bool cached = false,
                              const std::function<void(const BulkItemError&)>* on_error = nullptr,
                              size_t first_index = 0) const;
  // Every listed record into `records` (nullopt: deleted since it was listed) or, when it
  // cannot be read, its error into `failures`, both by position; as ReadListed would, but the
  // GETs go to the store in one GetEach (its event loop, where it has one). Through the cache
  // (`cached` and a cache of records), one ReadListed per record instead.
  void ReadInto(const std::vector<ListedRecord>& listed, ScanSnapshot* snapshot, bool cached,
                std::vector<std::optional<Record>>& records, std::vector<std::exception_ptr>& failures) const;
  // The same for listed records, each through ReadListed with `snapshot` (may be nullptr).
  std::vector<Record> ReadAll(const std::vector<ListedRecord>& listed, ScanSnapshot* snapshot, bool cached = false,
                              const std::function<void(const BulkItemError&)>* on_error = nullptr,
                              size_t first_index = 0) const;
};

}  // namespace s3db::core

namespace s3db {

// Runs `op`, reporting an Error it throws as an "error" event (once, from the outermost
// guarded call) before it propagates.
template <typename F>
auto Resource::Guarded(const char* operation, const std::string& id, F&& op) -> decltype(op()) {
  struct Depth {
    Depth() { ++core::guard_depth; }
    ~Depth() { --core::guard_depth; }
  } depth;
  try {
    return op();
  } catch (const Error& e) {
    if (core::guard_depth == 1) {
      // Messages never carry secret values (the validator and the codec leave them out).
      EmitEvent(events::kError, [&] {
        return Json{{"resource", name_},
                    {"id", e.id().empty() ? id : e.id()},
                    {"operation", operation},
                    {"code", ErrorCodeName(e.code())},
                    {"message", e.what()}};
      });
    }
    throw;
  }
}

}  // namespace s3db
