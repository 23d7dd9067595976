// The Database: a connection to one prefix of a bucket, its options, catalog and resources.
//
// Each part below keeps its own contract comment.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
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

// The seeds' `httpClientOptions`: the connections of an S3 store. memory:// and file:// have
// no connections, so there these change nothing.
struct S3DB_EXPORT HttpClientOptions {
  // keepAlive: reuse connections between requests; false opens a new one for each request.
  bool keep_alive = true;
  // keepAliveMsecs: TCP keep-alive probes of an idle kept connection, the first after this
  // long and then at this interval (whole seconds, 1 s to 2 h), so a connection that a NAT or
  // load balancer dropped is noticed.
  std::chrono::milliseconds keep_alive_interval{60000};
  // maxSockets: connections at most, and so S3 requests in flight at most (1..1024); 0: the
  // concurrency (with autotune, its max_concurrency). Below the concurrency, requests wait
  // for a connection.
  int max_sockets = 0;
  // maxFreeSockets: idle connections kept open after a burst (0..max_sockets); 0: all.
  int max_free_sockets = 0;
  // timeout: one attempt of one request, connect and transfer (S3StoreOptions::
  // request_timeout; default 30 s). The executor's timeout bounds the request as a whole.
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;
};

struct S3DB_EXPORT DatabaseOptions {
  // Connection string (uri.h). Empty means kDefaultUri, "file://./s3db-data". The library
  // never reads the environment for it; the CLI does ($S3DB_URI).
  std::string uri;

  // Bytes of user metadata a record may use (UTF-8 key + encoded value, summed), reserved
  // keys included. 2000 keeps every S3 implementation happy (AWS allows 2048).
  size_t metadata_budget = 2000;

  // Upper bound on concurrent store requests (the executor's request slots, the S3 store's
  // connection pool) and on the parallelism of bulk operations. The same setting as
  // executor.concurrency (the seeds' executorPool.concurrency): give either one.
  int concurrency = 8;

  // The seeds' `executorPool`: retries, backoff, timeout and autotuning of store requests
  // (executor.h). A concurrency here and a different one above is InvalidArgument.
  ExecutorOptions executor = {};

  // The seeds' `httpClientOptions` (above).
  HttpClientOptions http = {};

  // How many times Update re-reads and re-applies after a concurrent writer won.
  int max_update_attempts = 16;

  // The passphrase that secret fields are encrypted under (docs/API.md "Secret fields").
  // Needed to create, write or read a resource with secret fields; checked at connect
  // against the catalog's key check value (AccessDenied when wrong). Never logged, never in
  // an error message. The library never reads the environment for it; the CLI does
  // (--passphrase-file, $S3DB_PASSPHRASE).
  // From a file: `.passphrase = ReadPassphraseFile("./cert.pem")` (the seeds'
  // `passphrase: fs.readFileSync(...)`), the same rule as the CLI's --passphrase-file.
  std::optional<std::string> passphrase = std::nullopt;

  // PBKDF2-HMAC-SHA256 iterations for a key made by this connection (the first secret
  // field, or RotateKey). Existing keys keep the count stored with them in the catalog.
  // 210,000 is OWASP's 2023 figure; tests may lower it (at least 1,000). At most 10,000,000,
  // which also bounds a count read from a catalog (a tampered one is Corruption, not hours of
  // key derivation at every connect).
  uint32_t kdf_iterations = 210000;

  // Plugins (plugin.h, docs/PLUGINS.md), set up in this order at connect, started once the
  // catalog is read, stopped when the Database closes. A plugin object serves one Database.
  std::vector<std::shared_ptr<Plugin>> plugins = {};

  // A read-through cache (cache.h): when set, a CachePlugin with these options is appended
  // to `plugins` at connect. The stale-read window for other processes' writes is its ttl.
  // The seeds' `cache: true, ttl: 3600` is `.cache = CacheOptions{.ttl = 3600s}`.
  std::optional<CacheOptions> cache = std::nullopt;

  // Database event listeners (events.h), subscribed before anything happens, so they see
  // "connected" (which Connect emits before it returns) as s3db.js's `db.on("connected")`
  // does. Added to events(): Off() removes them like any other.
  std::multimap<std::string, EventEmitter::Listener> listeners = {};

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
  // The one concurrency: `concurrency` when it was changed from its default, else
  // executor.concurrency.
  int EffectiveConcurrency() const;
};

// A passphrase kept in a file: its bytes, less one trailing newline ("\n" or "\r\n") so that
// `echo secret > file` and an editor's final newline do not change the key. The CLI's
// --passphrase-file reads it with this function, so a program and the command derive the
// same key from the same file. Throws InvalidArgument naming the file (never its content)
// when it cannot be read or holds nothing.
S3DB_EXPORT std::string ReadPassphraseFile(const std::string& path);

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
  // The seeds' texts: "New resource created", "Resource already exists with same definition
  // hash"; a different definition: "Resource already exists with another definition hash:
  // recorded it as version N".
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
  // a resource another process just created is found), InvalidArgument for a name no
  // resource can have (docs/FORMAT.md "Resource names": "..", "a/b", control characters).
  Resource& resource(const std::string& name);
  bool ResourceExists(const std::string& name);
  std::vector<std::string> ResourceNames();  // sorted
  // Deletes every object of the resource, then removes it from the catalog. InvalidArgument
  // for a name no resource can have, as resource().
  void DropResource(const std::string& name);
  // Deletes every object under this database's prefix (each resource's records and
  // partition references, the catalog, and anything else there; with no prefix, the whole
  // bucket) and forgets the catalog: the Database goes on as a new, empty one. The seeds'
  // `db.client.clear()` between tests. Resource references obtained before stay valid; calls
  // on them throw NotFound until a resource of that name is created again, and the hooks
  // they had are dropped with them (event listeners stay). Not atomic: a writer in another
  // process meanwhile may leave objects behind. Throws StorageError naming the first key
  // the store refused to delete (the others are deleted; run it again).
  void Clear();
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
  // start: plugins and DatabaseOptions::listeners see it, a listener added here afterwards
  // does not), "resourceCreated" {resource, version, created}. Listeners follow events.h's
  // rules.
  EventEmitter& events();

  // The executor's counters: requests, retries, the current slot count (autotune moves it),
  // requests in flight now and at most so far.
  ExecutorStats executor_stats() const;

  // Adds a plugin to the open database, as s3db.js's `db.usePlugin(plugin)`: Setup (where
  // PluginContext::database() already works), then Start; it stops when the Database closes.
  // A plugin that answers reads (CachePlugin) serves every read from now on; writes already
  // in flight while it is added may not invalidate it (add caches before concurrent use).
  // Throws InvalidArgument for a plugin that wraps the store (CostsPlugin: the stack is built
  // at connect, so give it in DatabaseOptions::plugins), a plugin already added, a second
  // cache, or what the plugin's Setup/Start threw (then it is not kept). Not concurrently
  // with another UsePlugin. Returns the plugin.
  Plugin& UsePlugin(std::shared_ptr<Plugin> plugin);

 private:
  explicit Database(std::unique_ptr<DatabaseCore> core);
  Resource& CreateInCatalog(const ResourceDefinition& definition);
  void EmitResourceCreated(const std::string& name, int version, bool created);
  static std::unique_ptr<Database> OpenWith(std::unique_ptr<ObjectStore> store, const std::string& prefix,
                                            const DatabaseOptions& options, bool store_retries, bool probe);
  std::unique_ptr<DatabaseCore> core_;
};

}  // namespace s3db
