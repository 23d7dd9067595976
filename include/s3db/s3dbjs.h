// Reading a bucket written by s3db.js 21.x (the JavaScript library s3db rebuilds) and
// bringing it over to s3db's own format: S3dbJsDatabase reads one read-only, record by record
// as s3db.js's own get() returns them; MigrateFromS3dbJs copies resources into a Database
// (docs/MIGRATE.md, `s3db migrate from-s3dbjs`).
//
// Nothing here ever writes to the s3db.js bucket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/object_store.h"
#include "s3db/record.h"

namespace s3db {

// The catalog (s3db.json) names an s3db.js version this reader does not read (before 21, or
// none at all). found_version() is what the catalog says ("" when it says nothing).
class S3DB_EXPORT S3dbJsVersionUnsupported : public Unsupported {
 public:
  S3dbJsVersionUnsupported(const std::string& message, std::string found_version)
      : Unsupported(message), found_version_(std::move(found_version)) {}
  const std::string& found_version() const { return found_version_; }

 private:
  std::string found_version_;
};

// A field s3db.js declares that has no faithful translation to s3db (a one-way password
// hash, a packed network address, ...): reported, never guessed.
struct S3DB_EXPORT S3dbJsUntranslatable {
  std::string path;    // dotted attribute path
  std::string rule;    // as s3db.js declares it
  std::string reason;  // why it is not translated
};

// One resource of an s3db.js catalog, with its translation.
struct S3DB_EXPORT S3dbJsResourceInfo {
  std::string name;
  std::string version;  // s3db.js's current version ("v1")
  Json attributes;      // as s3db.js declares them
  std::string behavior;
  bool timestamps = false;
  Json partitions = Json::object();
  // s3db's definition of the same resource: the same behavior, partitions and timestamps,
  // each attribute's rule in our rule language; the untranslatable fields are left out.
  ResourceDefinition translated;
  std::vector<S3dbJsUntranslatable> untranslatable;
};

// One record as read: its id (from the key), the fields as s3db.js's get() returns them
// without its "_..." bookkeeping (secrets decrypted, undefined fields absent).
struct S3DB_EXPORT S3dbJsRecord {
  std::string id;
  Json data = Json::object();
  int64_t last_modified_ms = 0;
};

struct S3DB_EXPORT S3dbJsOpenOptions {
  // The s3db.js bucket as an s3db connection string (stores.h): s3://, http(s)://, file://,
  // memory://; its path is s3db.js's keyPrefix.
  std::string uri;
  // s3db.js's security.passphrase; "secret" is what s3db.js uses when none was set.
  std::string passphrase = "secret";
};

// An s3db.js database, read-only. Thread-safe: every call may come from any thread.
class S3DB_EXPORT S3dbJsDatabase {
 public:
  // Reads the catalog. NotFound without one; S3dbJsVersionUnsupported for s3db.js < 21;
  // Corruption for a catalog that does not parse.
  static std::unique_ptr<S3dbJsDatabase> Open(const S3dbJsOpenOptions& options);
  static std::unique_ptr<S3dbJsDatabase> Open(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                              const std::string& passphrase = "secret");
  ~S3dbJsDatabase();
  S3dbJsDatabase(const S3dbJsDatabase&) = delete;
  S3dbJsDatabase& operator=(const S3dbJsDatabase&) = delete;

  const std::string& s3db_version() const;                            // "21.6.2"
  std::vector<std::string> ResourceNames() const;                     // sorted
  const S3dbJsResourceInfo& resource(const std::string& name) const;  // NotFound

  // Up to `max` ids (1..1000) in key order after `start_after` (an id; "" from the first).
  // An empty result is the end.
  std::vector<std::string> ListIds(const std::string& resource, const std::string& start_after = "",
                                   size_t max = 1000) const;
  // The record, or nullopt when it does not exist. Corruption when a value cannot be read
  // as its type says, AccessDenied when a secret does not open with the passphrase.
  std::optional<S3dbJsRecord> Get(const std::string& resource, const std::string& id) const;

 private:
  struct Impl;
  explicit S3dbJsDatabase(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One record (or resource) the migration could not bring over, or found different.
struct S3DB_EXPORT S3dbJsMigrationError {
  std::string resource;
  std::string id;     // empty for a resource-wide problem
  std::string stage;  // "schema", "read", "write", "verify"
  std::string code;   // ErrorCodeName ("validation", "corruption", ...) or "mismatch" (--verify)
  std::string message;
  Json ToJson() const;  // {"resource", "id", "stage", "code", "message"}
};

struct S3DB_EXPORT S3dbJsResourceSummary {
  std::string name;
  bool migrated = false;       // the resource exists here and its records were copied
  size_t source_records = 0;   // records read from s3db.js (this run)
  size_t copied = 0;           // inserted by this run
  size_t already_present = 0;  // found here equal (an earlier run copied them)
  size_t failed = 0;           // reported as errors
  size_t verified = 0;         // --verify: equal on both sides
  size_t mismatched = 0;       // --verify: different or missing here
  bool resumed = false;        // continued from a checkpoint
  // Fields records carried that the s3db.js schema does not declare (s3db.js's update()
  // leaks some, such as "metadata.updatedAt"): left out, path -> records that had it.
  std::map<std::string, size_t> undeclared_dropped;
  std::vector<S3dbJsUntranslatable> untranslatable;
  Json ToJson() const;
};

struct S3DB_EXPORT S3dbJsMigrationResult {
  std::string s3db_version;  // of the source catalog
  std::vector<S3dbJsResourceSummary> resources;
  size_t errors = 0;
  bool interrupted = false;  // should_stop said so: a re-run resumes
  Json ToJson() const;
};

struct S3DB_EXPORT S3dbJsMigrationProgress {
  std::string resource;
  size_t done = 0;  // records handled so far (copied, present or failed)
  bool finished = false;
};

struct S3DB_EXPORT S3dbJsMigrationOptions {
  std::string from;                    // the s3db.js bucket (connection string)
  std::string to;                      // the s3db database (connection string); may be the same bucket, another prefix
  std::vector<std::string> resources;  // empty: every resource of the catalog
  std::string from_passphrase = "secret";  // s3db.js's
  std::string to_passphrase;               // s3db's, for secret fields (DatabaseOptions::passphrase)
  // Leave the untranslatable fields out (still reported); without it a resource that has
  // any is not migrated.
  bool drop_untranslatable = false;
  bool copy = true;               // false: only --verify
  bool verify = false;            // re-read both sides and compare record by record
  int ranges = 8;                 // key ranges copied in parallel per resource (1..64)
  size_t checkpoint_every = 100;  // records per range between checkpoints
  // Polled before each record: true stops the copy there, checkpoints what is done and
  // returns with `interrupted` set (the CLI's Ctrl-C); a re-run resumes.
  std::function<bool()> should_stop;
  // Called from worker threads, one call at a time.
  std::function<void(const S3dbJsMigrationError&)> on_error;
  std::function<void(const S3dbJsMigrationProgress&)> on_progress;
};

// Copies the s3db.js resources into s3db (docs/MIGRATE.md): creates each resource with
// the translated definition (or uses the one an earlier run created), inserts every record
// with its id, createdAt and updatedAt, re-encrypting secrets under to_passphrase. Resumable:
// progress is checkpointed under the target prefix, and a record already present is left
// alone when equal and reported when different (never overwritten). Throws what opening
// either side throws; record failures go to on_error and the result.
S3DB_EXPORT S3dbJsMigrationResult MigrateFromS3dbJs(const S3dbJsMigrationOptions& options);

}  // namespace s3db
