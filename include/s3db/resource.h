// Resource: one collection of records that share a schema (a "table").
//
// A Resource is obtained from its Database and lives as long as it. It is safe for
// concurrent use from many threads, and many processes may use the same resource in one
// bucket at once: insert never overwrites (If-None-Match: *), update is read-modify-write
// with If-Match and re-applies itself when another writer got there first, so no update is
// lost. Every method throws a subclass of s3db::Error (errors.h) on failure; messages name
// the resource, the id and the cause.
//
// Partitions (docs/API.md "Partitions") are secondary indexes kept as empty objects whose
// keys hold a record's partition values: writes keep them in step with the records, reads
// through a partition check each record still belongs there, RepairPartitions mends what a
// crash left behind.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/executor.h"
#include "s3db/plugin.h"
#include "s3db/record.h"
#include "s3db/record_stream.h"

namespace s3db {

class ResourceContext;  // internal
namespace core {
class ReferenceQueue;  // internal: the background writer of asyncPartitions
}  // namespace core

struct S3DB_EXPORT UpdateOptions {
  // Write only if the record still has this ETag (optimistic concurrency); on a mismatch
  // throw PreconditionFailed instead of re-reading and re-applying.
  std::optional<std::string> if_match = std::nullopt;
  // Write `patch` as the whole record (an HTTP PUT) instead of merging it into the stored one:
  // fields it does not name are removed. createdAt is kept when the resource has timestamps.
  bool replace = false;
};

struct S3DB_EXPORT DeleteOptions {
  // Delete only if the record still has this ETag; PreconditionFailed otherwise, NotFound
  // when it is gone. One conditional DELETE (ObjectStore::DeleteIfMatch) on the memory and
  // file stores and on S3 servers that honour If-Match on DELETE, so a concurrent write
  // either lands first (the delete fails) or finds the record gone. On a server that ignores
  // it (Ceph RGW 16: Capabilities::conditional_deletes false) the ETag is compared with the
  // one a read returns just before a plain DELETE, and a write landing between the two is
  // deleted (docs/SERVE.md).
  std::optional<std::string> if_match = std::nullopt;
};

struct S3DB_EXPORT ListOptions {
  size_t offset = 0;
  std::optional<size_t> limit = std::nullopt;  // none: all
  // ListIds, Count and List: only ids after this one in key order (S3's start-after: the
  // LIST starts there, however far into the resource), then `offset` is skipped from there.
  // Pages a listing without re-reading what came before (`s3db serve`'s cursors). Not with
  // `partition` (InvalidArgument): a partition's listing pages with offset. Query ignores it.
  std::string start_after = {};
  // Only the records of this partition whose fields equal `partition_values` ({"region":
  // "eu"}; values go through the partition's rules, so a date may be given whole). The
  // values name the partition's fields in order: all of them, or a leading run (the first
  // field alone lists every record that has it). Empty: the whole resource.
  std::string partition = {};
  Json partition_values = Json::object();
  // ListIds and Count through a partition: read each referenced record to check it still
  // belongs there (one GET per reference). false trusts the index, as s3db.js does: one
  // LIST per 1000 ids, but a reference a crash left behind (until RepairPartitions) or a
  // move still in flight is counted. List, Query and Page read the records anyway and
  // always check them, whatever this says.
  bool verify = true;
  // List and Query: set, a record that cannot be read (a corrupt object, a secret that does
  // not decrypt) is reported here, on the calling thread, and left out; the call goes on.
  // Unset: the call throws that record's error. BulkItemError::index is the record's position
  // in the id listing.
  std::function<void(const BulkItemError&)> on_error = {};
};

struct S3DB_EXPORT PageOptions {
  size_t offset = 0;
  size_t size = 100;           // 1..1000
  bool skip_count = false;     // do not count the whole resource (faster on large ones)
  std::string partition = {};  // as in ListOptions
  Json partition_values = Json::object();
};

struct S3DB_EXPORT PageResult {
  std::vector<Record> items;
  std::optional<size_t> total_items;  // empty with skip_count
  std::optional<size_t> total_pages;  // empty with skip_count
  size_t page = 0;                    // offset / size, 0-based
  size_t page_size = 0;
};

// BulkItemError, the per-item outcome of bulk calls, is in record_stream.h.

struct S3DB_EXPORT InsertManyResult {
  std::vector<Record> inserted;  // in input order of the successful items
  std::vector<BulkItemError> errors;
};

struct S3DB_EXPORT UpsertManyResult {
  std::vector<Record> upserted;  // in input order of the successful items
  std::vector<BulkItemError> errors;
};

struct S3DB_EXPORT GetManyResult {
  std::vector<Record> records;        // found, in input order
  std::vector<std::string> missing;   // ids that do not exist
  std::vector<BulkItemError> errors;  // other failures
};

struct S3DB_EXPORT DeleteRecordsResult {
  std::vector<std::string> deleted;
  std::vector<std::string> missing;
  std::vector<BulkItemError> errors;
};

// What Resource::ReEncrypt did.
struct S3DB_EXPORT ReEncryptResult {
  std::string resource;
  size_t records = 0;                 // records examined
  size_t rewritten = 0;               // records that held values sealed with an older key, now re-sealed
  std::vector<BulkItemError> errors;  // records that could not be rewritten (the rest were)
};

// What Resource::Compact did: the scan snapshot it published (docs/FORMAT.md "Scan snapshots").
struct S3DB_EXPORT CompactResult {
  std::string resource;
  uint64_t generation = 0;  // of the new snapshot; the previous one is kept for readers still on it
  size_t records = 0;       // records the snapshot holds
  size_t reused = 0;        // of those, taken from the previous snapshot (no GET)
  size_t fetched = 0;       // read with a GET
  size_t skipped = 0;       // listed but left out: deleted before the GET, or an ETag not its body's MD5
  size_t segments = 0;
  uint64_t bytes = 0;          // of the segments, compressed
  size_t deleted_objects = 0;  // objects of older snapshots removed
};

// A partition reference that could not be written or removed (in the background for an
// asyncPartitions resource, or by RepairPartitions). The record itself was written.
struct S3DB_EXPORT PartitionFailure {
  std::string id;         // the record
  std::string partition;  // empty when the key is not a reference key
  std::string key;        // the reference's object key
  // "put", "delete", "restore" (re-reading or re-writing after a delete), or "read" (repair: a
  // record that cannot be decoded, key = the record's object; its references are left alone)
  std::string operation;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

// What Resource::FlushPartitions waited for.
struct S3DB_EXPORT PartitionFlushResult {
  size_t written = 0;  // references written since the previous flush
  size_t removed = 0;  // references removed since the previous flush
  std::vector<PartitionFailure> failures;
};

struct S3DB_EXPORT PartitionRepairOptions {
  bool dry_run = false;      // find and report, change nothing
  size_t max_examples = 10;  // of each kind in the result
  // The temporary files a killed writer left (the file store's; ObjectStore::
  // RemoveStaleTemporaries): one older than this is stale whoever wrote it; a younger one
  // only when its writer was a process of this host that no longer exists.
  std::chrono::seconds temporary_max_age{std::chrono::minutes(15)};
};

// One reference repair found wrong.
struct S3DB_EXPORT PartitionRepairExample {
  std::string key;
  std::string id;         // empty when the key is not a well-formed reference key
  std::string partition;  // as the key names it
  std::string reason;     // "record does not exist", "record no longer belongs here", ...
};

struct S3DB_EXPORT PartitionRepairResult {
  std::string resource;
  bool dry_run = false;
  size_t records = 0;     // records read
  size_t references = 0;  // reference objects listed
  size_t orphans = 0;     // references no record needs (found)
  size_t missing = 0;     // references records need that did not exist (found)
  size_t removed = 0;     // orphans deleted
  size_t rebuilt = 0;     // missing references written
  // Orphans written back at once because a concurrent write made its record need them.
  size_t restored = 0;
  // Temporary files of writes that will never finish (file store only), under the
  // resource's keys (and, through Database::Repair, beside the catalog).
  size_t stale_temporaries = 0;    // found
  size_t temporaries_removed = 0;  // of those, deleted (0 with dry_run)
  size_t temporaries_kept = 0;     // a live writer may still be writing them
  std::vector<PartitionRepairExample> orphan_examples;
  std::vector<PartitionRepairExample> missing_examples;
  std::vector<PartitionFailure> failures;  // requests that failed; run repair again
};

// What Resource::Validate found: the record as Insert would store it (defaults applied,
// values normalised, timestamps set to now when the resource keeps them) and what makes it
// distinct from other records, so a caller can check a batch against itself.
struct S3DB_EXPORT ValidatedRecord {
  std::string id;  // the id given in the data (normalised); empty when Insert would draw one
  Json data;       // without "id"
  // (dot path, value) of each unique field the record holds (absent and null hold nothing).
  std::vector<std::pair<std::string, Json>> unique_values;
};

class S3DB_EXPORT Resource {
 public:
  // Event emitted (on events()) for every reference an asyncPartitions write failed to write
  // or remove: {resource, id, partition, key, operation, code, message}.
  static constexpr const char* kPartitionErrorEvent = "partitionIndexError";
  // Event emitted (on events()) by a user-managed resource for a record over the metadata
  // budget, which it stored with some fields in the body: {resource, id, operation ("insert",
  // "update", "reEncrypt"), behavior ("user-managed"), totalSize, limit, excess (bytes),
  // bodyFields (the paths that went to the body)}.
  static constexpr const char* kExceedsLimitEvent = "exceedsLimit";

  Resource(ResourceContext* context, std::string name);  // by the Database
  // Waits for the references still being written in the background.
  ~Resource();
  Resource(const Resource&) = delete;
  Resource& operator=(const Resource&) = delete;

  const std::string& name() const { return name_; }
  // The current definition and its version number (1, 2, ...).
  ResourceDefinition definition() const;
  int version() const;

  // Inserts a record. Its id is data["id"] when given (a string, or what the schema's "id"
  // attribute allows; see docs/FORMAT.md for the rules), else a new 22-character random id.
  // Throws AlreadyExists if the id is taken or a unique value is held by another record,
  // ValidationError (every failing field) if the data does not fit the schema.
  Record Insert(const Json& data);
  // The same, working on `data` itself instead of a copy (hooks and validation change it):
  // a temporary or std::move saves copying the record.
  Record Insert(Json&& data);

  // Insert for a record that already has a history (a migration, a restore): on a resource
  // with timestamps, a createdAt and updatedAt the data gives are kept (and validated as
  // ISO 8601 text) instead of stamped with now; one it lacks is stamped as Insert does.
  Record InsertKeepingTimestamps(const Json& data);

  // Checks `data` as Insert would, without a request and without writing: the schema (every
  // failing field, ValidationError), the id (InvalidArgument), partition reference key lengths
  // and the metadata budget (MetadataTooLarge under enforce-limits). What it cannot know
  // without reading the bucket is left to Insert: whether the id or a unique value is taken.
  // Pre-insert hooks do not run. AccessDenied for secret fields without a passphrase.
  ValidatedRecord Validate(const Json& data) const;

  Record Get(const std::string& id);  // NotFound when absent
  std::optional<Record> TryGet(const std::string& id);
  bool Exists(const std::string& id);  // one HEAD request

  // Merges `patch` into the record (nested objects merge key by key; any other value,
  // null included, replaces) and writes it with If-Match. NotFound when absent.
  Record Update(const std::string& id, const Json& patch, const UpdateOptions& options = {});
  // Inserts when absent, else updates (merging) — whichever holds when the write lands.
  Record Upsert(const std::string& id, const Json& data);
  // NotFound when absent.
  void Delete(const std::string& id);
  // The same, PreconditionFailed when options.if_match does not match the record's ETag.
  void Delete(const std::string& id, const DeleteOptions& options);

  InsertManyResult InsertMany(const std::vector<Json>& items);
  // Upsert(item["id"], item) for every item (each an object with an "id" string), with the
  // answer Upsert would give each: one GET per id says which exist, the absent ones are
  // inserted together as InsertMany inserts them, the rest updated (docs/API.md).
  UpsertManyResult UpsertMany(const std::vector<Json>& items);
  GetManyResult GetMany(const std::vector<std::string>& ids);
  DeleteRecordsResult DeleteMany(const std::vector<std::string>& ids);
  std::vector<Record> GetAll();
  size_t DeleteAll();  // returns how many records were deleted

  // Ids in key order (binary order of the encoded id). Through a partition: ids of the
  // records that belong to it now, in reference-key order (id order when every field is
  // given); with options.verify false, the ids its references name.
  std::vector<std::string> ListIds(const ListOptions& options = {});
  // ListIds(options).size(): through a partition, only records that belong there now
  // (unless options.verify is false).
  size_t Count(const ListOptions& options = {});
  std::vector<Record> List(const ListOptions& options = {});
  PageResult Page(const PageOptions& options);
  // Records whose fields equal every entry of `filter` ({"active": true,
  // "address.country": "PT"}: keys are dot paths, values compared as JSON). With
  // options.partition, only that partition is read; without, a partition whose every field
  // the filter pins to a string or boolean is used when there is one (the most fields wins).
  std::vector<Record> Query(const Json& filter, const ListOptions& options = {});

  // ---- streaming (record_stream.h) ----------------------------------------------------------
  // Every record in id order (through options.partition: in reference-key order, as ListIds),
  // read ahead in the background with bounded memory. InvalidArgument for an unknown partition or bad values,
  // AccessDenied for a resource with secret fields and no passphrase (both here, before any request).
  RecordScan Scan(const ScanOptions& options = {});
  // A writer that inserts (or upserts) the records given to it on `concurrency` threads.
  RecordWriter Writer(const WriterOptions& options = {});

  // ---- partitions (docs/API.md "Partitions") -----------------------------------------------
  // Reads through a partition read each candidate record (one GET per reference) and skip
  // references whose record is gone or now belongs elsewhere. InvalidArgument for an unknown
  // partition or values that do not fit it.

  // List() of one partition.
  std::vector<Record> ListByPartition(const std::string& partition, const Json& values,
                                      const ListOptions& options = {});
  // The record when its current data puts it in the partition with these values (every
  // field given); NotFound when it does not exist or belongs elsewhere. One GET.
  Record GetFromPartition(const std::string& id, const std::string& partition, const Json& values);
  // The object key of the reference `data` (the record's fields, partial is fine) gives
  // record `id` in the partition; nullopt when a field is absent or null (no reference).
  std::optional<std::string> GetPartitionKey(const std::string& partition, const std::string& id,
                                             const Json& data) const;
  // Waits until every reference queued by this process's asyncPartitions writes is written
  // or removed, and returns what failed since the previous flush (the records stand; a
  // failed reference is rebuilt by RepairPartitions). Immediate for other resources.
  PartitionFlushResult FlushPartitions();
  // Finds references no record needs (orphans: the record is gone or no longer belongs there,
  // the partition is no longer defined) and references records need that are missing (a
  // crash between the record write and its references, a partition added to a resource that
  // had records), and fixes both unless dry_run. Reads every record and lists every
  // reference. Safe while others write: an orphan it removes that a concurrent write needs is
  // written back at once.
  PartitionRepairResult RepairPartitions(const PartitionRepairOptions& options = {});

  // ---- per-call options (executor.h) -------------------------------------------------------
  // Every call that makes requests takes CallOptions last, after its own options (give `{}`
  // for those): the seeds' `users.get(id, {priority: 100})` is
  //   users.Get(id, {.priority = 100});
  //   analytics.Insert(event, {.priority = 0, .timeout = std::chrono::seconds(2)});
  //   users.List({}, {.timeout = std::chrono::seconds(5)});
  // Each runs the call as if inside CallScope(call). A Scan or Writer keeps them for its whole
  // life (a timeout then bounds the whole scan or the whole writer). InvalidArgument for a
  // timeout that is not positive; StorageError with code kTimeout when the call's timeout
  // passes.
  Record Insert(const Json& data, const CallOptions& call);
  Record Insert(Json&& data, const CallOptions& call);
  Record Get(const std::string& id, const CallOptions& call);
  std::optional<Record> TryGet(const std::string& id, const CallOptions& call);
  bool Exists(const std::string& id, const CallOptions& call);
  Record Update(const std::string& id, const Json& patch, const UpdateOptions& options, const CallOptions& call);
  Record Upsert(const std::string& id, const Json& data, const CallOptions& call);
  void Delete(const std::string& id, const CallOptions& call);
  InsertManyResult InsertMany(const std::vector<Json>& items, const CallOptions& call);
  GetManyResult GetMany(const std::vector<std::string>& ids, const CallOptions& call);
  DeleteRecordsResult DeleteMany(const std::vector<std::string>& ids, const CallOptions& call);
  std::vector<Record> GetAll(const CallOptions& call);
  size_t DeleteAll(const CallOptions& call);
  std::vector<std::string> ListIds(const ListOptions& options, const CallOptions& call);
  size_t Count(const ListOptions& options, const CallOptions& call);
  std::vector<Record> List(const ListOptions& options, const CallOptions& call);
  PageResult Page(const PageOptions& options, const CallOptions& call);
  std::vector<Record> Query(const Json& filter, const ListOptions& options, const CallOptions& call);
  RecordScan Scan(const ScanOptions& options, const CallOptions& call);
  RecordWriter Writer(const WriterOptions& options, const CallOptions& call);
  std::vector<Record> ListByPartition(const std::string& partition, const Json& values, const ListOptions& options,
                                      const CallOptions& call);
  Record GetFromPartition(const std::string& id, const std::string& partition, const Json& values,
                          const CallOptions& call);
  PartitionFlushResult FlushPartitions(const CallOptions& call);
  PartitionRepairResult RepairPartitions(const PartitionRepairOptions& options, const CallOptions& call);
  ReEncryptResult ReEncrypt(const CallOptions& call);
  CompactResult Compact(const CallOptions& call);

  // This resource's events: "insert", "update", "delete", "get", "error", "hookError",
  // kExceedsLimitEvent and kPartitionErrorEvent (events.h lists the payloads; records in them
  // have their secret fields redacted). Each is also passed to the plugins (with "resource").
  // Payloads are built only when someone listens. Listeners follow events.h's rules.
  EventEmitter& events() { return events_; }

  // This resource's hooks (events.h): pre-hooks run before validation and any store request
  // and may change the data or abort (nothing is written); after-hooks run once the write
  // succeeded and their failures become "hookError" events. Bulk calls run them per record.
  HookRegistry& hooks() { return hooks_; }

  // Re-seals, with the database's current key, the secret values of every record that was
  // written under an older key (after Database::RotateKey, or to finish one that was
  // interrupted). Each record keeps its data and schema version and is rewritten with
  // If-Match, so concurrent updates are not lost. Needs the passphrase (AccessDenied).
  ReEncryptResult ReEncrypt();

  // Writes a new scan snapshot of the resource (docs/FORMAT.md "Scan snapshots"): every
  // record object, compressed into a few segment objects, so that GetAll, List, Page, Query
  // and Scan of the whole resource take each record from it with no GET when the listing
  // shows the same ETag, and GET only the records written since. Reads with a GET only the
  // records the previous snapshot does not hold as they are now. Run it after loading data and
  // whenever enough records changed that scans GET many again (`s3db compact`); scans stay
  // exact without it. Safe while others write; Conflict when another compaction of the
  // resource published at the same moment (its snapshot stands). Unsupported on a backend
  // whose ETags are not the MD5 of the body (SSE-KMS, S3 Express), where scans keep GETting.
  CompactResult Compact();

  // Internal: emits `event` on events() and on the plugins' resource emitter, building the
  // payload (which names the resource) only when one of them has a listener. A template, so
  // an operation nobody observes does not even wrap its payload builder in a std::function.
  template <typename BuildPayload>
  void EmitEvent(const char* event, BuildPayload&& payload) {
    if (Observed(event) || std::string_view(event) == events::kHookError) EmitEventNow(event, payload);
  }
  bool Observed(const char* event) const;
  void EmitEventNow(const char* event, const std::function<Json()>& payload);

  // The current definition in the schema-file form, plus "version", "hash" (the definition
  // hash) and "fields" (attribute path -> metadata key). ResourceDefinition::Import reads it.
  Json ExportSchema() const;

 private:
  // Insert once the input's depth is checked (each public Insert checks it once).
  Record InsertChecked(Json&& input, const std::string& given_id, bool keep_timestamps = false);
  // InsertMany one Insert per item on up to `concurrency` threads: for a resource with unique
  // fields, whose claims are taken record by record.
  InsertManyResult InsertEach(const std::vector<Json>& items);
  Record DoInsert(Json data,
                  bool keep_timestamps = false);  // takes the caller's copy: Insert already made one for its hooks
  Record DoUpdate(const std::string& id, const Json& patch, const UpdateOptions& options);
  // The records of a listing of the whole resource (List and GetAll without a partition):
  // from the scan snapshot where it holds them as listed, else a GET each.
  std::vector<Record> ReadListing(const ListOptions& options);
  void DoDelete(const std::string& id, const DeleteOptions& options);
  std::vector<std::string> DoListIds(const ListOptions& options);
  // Runs `op`; an s3db::Error it throws is emitted as an "error" event first (only by the
  // outermost guarded call of a thread, so Upsert's inner attempts stay quiet).
  template <typename F>
  auto Guarded(const char* operation, const std::string& id, F&& op) -> decltype(op());
  // Drops the cached record and the resource's cached query results (after a write).
  void InvalidateCached(const std::string& id);
  void InvalidateQueries();                  // the resource's cached query results only
  Json RecordPayload(const Record& record);  // Record::ToJson() with secrets redacted

  ResourceContext* context_;
  std::string name_;
  EventEmitter events_;
  // After-hooks report their failures here; it passes them on as EmitEvent("hookError").
  EventEmitter hook_relay_;
  HookRegistry hooks_;
  std::unique_ptr<core::ReferenceQueue> references_;  // declared last: its workers use the rest
};

}  // namespace s3db
