// The Database: a connection to one prefix of a bucket, its options, catalog and resources.
//
// Each part below keeps its own contract comment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "s3db/export.h"

#include "s3db/cache.h"
#include "s3db/errors.h"
#include "s3db/executor.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "s3db/record.h"
#include "s3db/resource.h"

// Options of a Database, with defaults that suit a shell user and a server alike.
namespace s3db {

struct S3DB_EXPORT DatabaseOptions {
  // Connection string (uri.h). Empty means kDefaultUri, "file://./s3db-data". The library
  // never reads the environment for it; the CLI does ($S3DB_URI).
  std::string uri;

  // Bytes of user metadata a record may use (UTF-8 key + encoded value, summed), reserved
  // keys included. 2000 keeps every S3 implementation happy (AWS allows 2048).
  size_t metadata_budget = 2000;

  // Upper bound on concurrent store requests (the executor's request slots, the S3 store's
  // connection pool) and on the parallelism of bulk operations.
  int concurrency = 8;

  // Retries, backoff, deadline and autotuning of store requests (executor.h). Its
  // `concurrency` is ignored: the field above sets it.
  ExecutorOptions executor = {};

  // How many times Update re-reads and re-applies after a concurrent writer won.
  int max_update_attempts = 16;

  // The passphrase that secret fields are encrypted under (docs/API.md "Secret fields").
  // Needed to create, write or read a resource with secret fields; checked at connect
  // against the catalog's key check value (AccessDenied when wrong). Never logged, never in
  // an error message. The library never reads the environment for it; the CLI does
  // (--passphrase-file, $S3DB_PASSPHRASE).
  std::optional<std::string> passphrase = std::nullopt;

  // PBKDF2-HMAC-SHA256 iterations for a key made by this connection (the first secret
  // field, or RotateKey). Existing keys keep the count stored with them in the catalog.
  // 210,000 is OWASP's 2023 figure; tests may lower it (at least 1,000).
  uint32_t kdf_iterations = 210000;

  // Plugins (plugin.h, docs/PLUGINS.md), set up in this order at connect, started once the
  // catalog is read, stopped when the Database closes. A plugin object serves one Database.
  std::vector<std::shared_ptr<Plugin>> plugins = {};

  // A read-through cache (cache.h): when set, a CachePlugin with these options is appended
  // to `plugins` at connect. The stale-read window for other processes' writes is its ttl.
  std::optional<CacheOptions> cache = std::nullopt;

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
};

}  // namespace s3db

// Database: a connection to one bucket (and key prefix) holding a catalog of resources.
//
//   auto db = s3db::Database::Connect({.uri = "file://./s3db-data"});
//   auto& users = db->CreateResource({.name = "users",
//                                     .attributes = {{"name", "string"}, {"age", "number"}}});
//   s3db::Record r = users.Insert({{"name", "Ada"}, {"age", 36}});
//
// The catalog (`<prefix>/s3db.json`) lists every resource with its versions; it is created
// on first use and changed only by read-modify-write with If-Match, so processes that
// create resources at the same time all succeed. A Database is safe for concurrent use
// from many threads. Resources it returns live as long as the Database.
namespace s3db {

class DatabaseCore;  // internal

// What Database::RotateKey did.
struct S3DB_EXPORT RotateKeyResult {
  uint64_t key_id = 0;                     // the new current key
  std::vector<ReEncryptResult> resources;  // one per resource that has secret fields
};

struct S3DB_EXPORT CreateResourceResult {
  Resource* resource = nullptr;
  bool created = false;
  // "created", "exists with the same definition"; a different definition throws.
  std::string reason;
};

class S3DB_EXPORT Database {
 public:
  // Opens the store that options.uri names and reads the catalog (one GET).
  // Throws InvalidArgument for a bad URI, StorageError when the store is unreachable.
  static std::unique_ptr<Database> Connect(const DatabaseOptions& options = {});
  // Uses a store the caller built (tests, custom backends). `prefix` as in a URI.
  static std::unique_ptr<Database> Open(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                        const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Creates a resource. Throws AlreadyExists if the name is taken (with any definition),
  // InvalidSchema for a bad definition. `hooks` are added to the resource's hooks()
  // (code, kept in this process only; not part of the definition or its hash). Emits
  // "resourceCreated" on events().
  Resource& CreateResource(const ResourceDefinition& definition, const HookSet& hooks = {});
  // Creates it, or returns the existing resource when its current definition has the same
  // hash (created=false). A resource of that name with another definition: a new version
  // of it is recorded (created=false, reason says so); records written before keep
  // reading with the version that wrote them. `hooks` are added to the resource in every
  // case (call it once per process, or hooks run twice). "resourceCreated" is emitted when a
  // resource or a new version of it was recorded (created=false for a new version).
  CreateResourceResult CreateResourceIfNotExists(const ResourceDefinition& definition, const HookSet& hooks = {});

  // The named resource; NotFound when there is none (the catalog is re-read once first, so
  // a resource another process just created is found).
  Resource& resource(const std::string& name);
  bool ResourceExists(const std::string& name);
  std::vector<std::string> ResourceNames();  // sorted
  // Deletes every object of the resource, then removes it from the catalog.
  void DropResource(const std::string& name);
  // Resource::RepairPartitions of the named resource (NotFound when there is none).
  PartitionRepairResult Repair(const std::string& name, const PartitionRepairOptions& options = {});

  // Replaces the database key with one derived from `new_passphrase` and re-encrypts every
  // record that has secret values (Resource::ReEncrypt on each resource with secret fields).
  // Older keys stay in the catalog, wrapped under the new one, so a record not rewritten yet
  // (written by another process meanwhile, or a failed item in the result) still reads with
  // the new passphrase; ReEncrypt finishes the job later. This connection uses the new
  // passphrase from now on; other connections must reconnect with it. Throws AccessDenied
  // when this connection has not opened the current key, InvalidArgument when the database
  // has no key yet (no secret field was ever created).
  RotateKeyResult RotateKey(const std::string& new_passphrase);

  // The connection string, secrets masked.
  std::string Describe() const;
  // The whole store stack (the plugins' decorators included).
  ObjectStore& store();

  // Database events: "connected" {store, prefix} (emitted at connect, before the plugins
  // start: plugins see it, a listener added here afterwards does not), "resourceCreated"
  // {resource, version, created}. Listeners follow events.h's rules.
  EventEmitter& events();

 private:
  explicit Database(std::unique_ptr<DatabaseCore> core);
  Resource& CreateInCatalog(const ResourceDefinition& definition);
  void EmitResourceCreated(const std::string& name, int version, bool created);
  static std::unique_ptr<Database> OpenWith(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                            const DatabaseOptions& options, bool store_retries, bool probe);
  std::unique_ptr<DatabaseCore> core_;
};

}  // namespace s3db
