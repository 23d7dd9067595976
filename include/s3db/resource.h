// Resource: one collection of records that share a schema (a "table").
//
// A Resource is obtained from its Database and lives as long as it. It is safe for
// concurrent use from many threads, and many processes may use the same resource in one
// bucket at once: insert never overwrites (If-None-Match: *), update is read-modify-write
// with If-Match and re-applies itself when another writer got there first, so no update is
// lost. Every method throws a subclass of s3db::Error (errors.h) on failure; messages name
// the resource, the id and the cause.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "s3db/errors.h"
#include "s3db/json.h"
#include "s3db/record.h"
#include "s3db/schema.h"

namespace s3db {

class DatabaseCore;  // internal

struct UpdateOptions {
  // Write only if the record still has this ETag (optimistic concurrency); on a mismatch
  // throw PreconditionFailed instead of re-reading and re-applying.
  std::optional<std::string> if_match;
};

struct ListOptions {
  size_t offset = 0;
  std::optional<size_t> limit;  // none: all
};

struct PageOptions {
  size_t offset = 0;
  size_t size = 100;        // 1..1000
  bool skip_count = false;  // do not count the whole resource (faster on large ones)
};

struct PageResult {
  std::vector<Record> items;
  std::optional<size_t> total_items;  // empty with skip_count
  std::optional<size_t> total_pages;  // empty with skip_count
  size_t page = 0;                    // offset / size, 0-based
  size_t page_size = 0;
};

// Per-item outcome of a bulk call: the ones that failed, with why. The rest succeeded.
struct BulkItemError {
  size_t index = 0;  // position in the input
  std::string id;    // empty when the item had no id yet
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

struct InsertManyResult {
  std::vector<Record> inserted;  // in input order of the successful items
  std::vector<BulkItemError> errors;
};

struct GetManyResult {
  std::vector<Record> records;          // found, in input order
  std::vector<std::string> missing;     // ids that do not exist
  std::vector<BulkItemError> errors;    // other failures
};

struct DeleteRecordsResult {
  std::vector<std::string> deleted;
  std::vector<std::string> missing;
  std::vector<BulkItemError> errors;
};

// What Resource::ReEncrypt did.
struct ReEncryptResult {
  std::string resource;
  size_t records = 0;    // records examined
  size_t rewritten = 0;  // records that held values sealed with an older key, now re-sealed
  std::vector<BulkItemError> errors;  // records that could not be rewritten (the rest were)
};

class Resource {
 public:
  Resource(DatabaseCore* core, std::string name);
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

  Record Get(const std::string& id);                  // NotFound when absent
  std::optional<Record> TryGet(const std::string& id);
  bool Exists(const std::string& id);                 // one HEAD request

  // Merges `patch` into the record (nested objects merge key by key; any other value,
  // null included, replaces) and writes it with If-Match. NotFound when absent.
  Record Update(const std::string& id, const Json& patch, const UpdateOptions& options = {});
  // Inserts when absent, else updates (merging) — whichever holds when the write lands.
  Record Upsert(const std::string& id, const Json& data);
  // NotFound when absent.
  void Delete(const std::string& id);

  InsertManyResult InsertMany(const std::vector<Json>& items);
  GetManyResult GetMany(const std::vector<std::string>& ids);
  DeleteRecordsResult DeleteMany(const std::vector<std::string>& ids);
  std::vector<Record> GetAll();
  size_t DeleteAll();  // returns how many records were deleted

  // Ids in key order (binary order of the encoded id).
  std::vector<std::string> ListIds(const ListOptions& options = {});
  size_t Count();
  std::vector<Record> List(const ListOptions& options = {});
  PageResult Page(const PageOptions& options);
  // Records whose fields equal every entry of `filter` ({"active": true,
  // "address.country": "PT"}: keys are dot paths, values compared as JSON).
  std::vector<Record> Query(const Json& filter, const ListOptions& options = {});

  // Re-seals, with the database's current key, the secret values of every record that was
  // written under an older key (after Database::RotateKey, or to finish one that was
  // interrupted). Each record keeps its data and schema version and is rewritten with
  // If-Match, so concurrent updates are not lost. Needs the passphrase (AccessDenied).
  ReEncryptResult ReEncrypt();

  // The current definition in the schema-file form, plus "version", "hash" (the definition
  // hash) and "fields" (attribute path -> metadata key). ResourceDefinition::Import reads it.
  Json ExportSchema() const;

 private:
  DatabaseCore* core_;
  std::string name_;
};

}  // namespace s3db
