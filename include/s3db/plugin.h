// Plugins, events and hooks: how code joins a Database to observe or change what it does,
// and the cost-tracking plugin.
//
// Each part below keeps its own contract comment.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/object_store.h"
#include "s3db/record.h"

// Events and hooks: the callbacks the library runs around its operations.
//
// Both follow RocksDB's EventListener rules: an exception thrown by a listener
// never crosses into the library, and a callback must never block for long, because it runs
// synchronously on the thread that does the operation (a slow listener slows every insert).
// Hand long work to a queue of your own.
//
// EventEmitter: named events with a JSON payload. Listeners run in the order they were added;
// one that throws is counted (listener_failures()) and reported as an "error" event (when the
// emitter has "error" listeners, else as one line on stderr); it is never rethrown, and the
// other listeners still run. Thread-safe: On, Off and Emit may be called from any thread, also
// from inside a listener. Off(id) stops future calls; an Emit already running on another
// thread may still call the listener once.
//
// HookRegistry: a resource's preInsert/afterInsert/preUpdate/afterUpdate/preDelete/afterDelete
// hooks (the seeds' "Hooks"). Pre-hooks run before any store request and may change the data
// or abort the operation by throwing; after-hooks run once the write has succeeded, and their
// failure is reported as a "hookError" event, never undoing the write. Thread-safe: hooks may
// be added while operations run (an operation uses the hooks registered when it started).
namespace s3db {

// ---- Event names ------------------------------------------------------------------------------
// Payloads are JSON objects; records in them are Record::ToJson() with secret fields redacted
// (RedactSecrets). docs/PLUGINS.md lists each payload's members.
namespace events {
// Resource events (each resource's emitter; plugins see every resource's, with "resource").
inline constexpr const char* kInsert = "insert";              // {resource, id, record}
inline constexpr const char* kGet = "get";                    // {resource, id, record}
inline constexpr const char* kUpdate = "update";              // {resource, id, record, patch}
inline constexpr const char* kDelete = "delete";              // {resource, id}
inline constexpr const char* kExceedsLimit = "exceedsLimit";  // see Resource::kExceedsLimitEvent
inline constexpr const char* kError = "error";                // {resource, id, operation, code, message}
inline constexpr const char* kHookError = "hookError";        // {resource, hook, index, id, message}
// Database events.
inline constexpr const char* kConnected = "connected";              // {store, prefix}
inline constexpr const char* kResourceCreated = "resourceCreated";  // {resource, version, created}
}  // namespace events

// Replaces the value at every dot path ("password", "card.number", "items[].token": "[]" means
// each item of an array) with "***". Paths that are absent or hold null are left as they are.
S3DB_EXPORT Json RedactSecrets(Json record, const std::vector<std::string>& secret_paths);

// Unique within the process (across emitters), so one Off can serve several emitters. 0 is
// never a valid id.
using SubscriptionId = uint64_t;

class S3DB_EXPORT EventEmitter {
 public:
  using Listener = std::function<void(const Json& payload)>;
  // Where failures nobody listens for go; the default writes the line to stderr.
  using ReportFn = std::function<void(const std::string& line)>;

  explicit EventEmitter(ReportFn report = nullptr);
  EventEmitter(const EventEmitter&) = delete;
  EventEmitter& operator=(const EventEmitter&) = delete;

  // An empty listener is InvalidArgument.
  SubscriptionId On(const std::string& event, Listener listener);
  // False when the id is unknown (or already removed).
  bool Off(SubscriptionId id);

  // Calls every listener of `event` in order; returns how many were called.
  size_t Emit(const std::string& event, const Json& payload);

  // Lets callers skip building a payload nobody reads (a get event copies the record).
  bool HasListeners(std::string_view event) const;
  uint64_t listener_failures() const { return failures_.load(); }

  // Sends one line to the report function (used for failures that have no listener).
  void Report(const std::string& line) const;

 private:
  struct Entry {
    SubscriptionId id;
    Listener listener;
  };
  using List = std::vector<Entry>;

  void ListenerFailed(const std::string& event, const std::string& message);

  ReportFn report_;
  mutable std::mutex mu_;
  // Copy-on-write lists: Emit takes a snapshot and calls listeners without the lock, so a
  // listener may call On/Off/Emit without deadlocking.
  std::map<std::string, std::shared_ptr<const List>, std::less<>> listeners_;
  // How many events have listeners: read without the lock, so asking costs nothing while
  // nobody listens (every record operation asks).
  std::atomic<size_t> subscribed_{0};
  std::atomic<uint64_t> failures_{0};
};

// ---- Hooks --------------------------------------------------------------------------------------

enum class HookType { kPreInsert, kAfterInsert, kPreUpdate, kAfterUpdate, kPreDelete, kAfterDelete };

// "preInsert", "afterInsert", ... (the seeds' names).
S3DB_EXPORT const char* HookTypeName(HookType type);
S3DB_EXPORT std::optional<HookType> HookTypeFromName(std::string_view name);

// Pre-hooks abort by throwing. The data is the caller's input as given (an "id" member
// included); a hook may change it, even set the id.
using PreInsertHook = std::function<void(Json& data)>;
using PreUpdateHook = std::function<void(const std::string& id, Json& patch)>;
using PreDeleteHook = std::function<void(const std::string& id)>;
// After-hooks see the written record (or the deleted id); what they throw is reported.
using AfterInsertHook = std::function<void(const Record& record)>;
using AfterUpdateHook = std::function<void(const Record& record)>;
using AfterDeleteHook = std::function<void(const std::string& id)>;

// Hooks given together, as the seeds give them at createResource ({hooks: {preInsert: [...]}}).
// Hooks are code, so they live in the process, never in the catalog.
struct S3DB_EXPORT HookSet {
  std::vector<PreInsertHook> pre_insert;
  std::vector<AfterInsertHook> after_insert;
  std::vector<PreUpdateHook> pre_update;
  std::vector<AfterUpdateHook> after_update;
  std::vector<PreDeleteHook> pre_delete;
  std::vector<AfterDeleteHook> after_delete;
};

// A pre-hook refused the operation; nothing was written. It is an InvalidArgument (CLI exit 4).
// When the hook threw something that is not an s3db::Error, that exception is nested
// (std::rethrow_if_nested gets it back). A hook that throws an s3db::Error (say a
// ValidationError) aborts with that exception itself, unchanged.
class S3DB_EXPORT HookAborted : public InvalidArgument {
 public:
  HookAborted(const std::string& message, HookType hook, size_t index, std::string resource = {}, std::string id = {})
      : InvalidArgument(message, std::move(resource), std::move(id)), hook_(hook), index_(index) {}
  HookType hook() const { return hook_; }
  size_t index() const { return index_; }  // position of the hook in its list, 0-based

 private:
  HookType hook_;
  size_t index_;
};

class S3DB_EXPORT HookRegistry {
 public:
  // `resource` names the resource in exceptions and hookError payloads.
  explicit HookRegistry(std::string resource = {});

  // Hooks run in the order they were added.
  void AddPreInsert(PreInsertHook hook);
  void AddAfterInsert(AfterInsertHook hook);
  void AddPreUpdate(PreUpdateHook hook);
  void AddAfterUpdate(AfterUpdateHook hook);
  void AddPreDelete(PreDeleteHook hook);
  void AddAfterDelete(AfterDeleteHook hook);
  // Appends every hook of the set, each list after the hooks already there.
  void Add(const HookSet& set);
  size_t size(HookType type) const;
  // Removes every hook (Database::Clear drops the hooks that came with the resources).
  void Clear();

  // Run every pre-hook in order; the first that throws aborts the rest and the operation.
  // Throws HookAborted (or the hook's own s3db::Error). Each hook must leave `data` / `patch`
  // a JSON object, else HookAborted.
  void RunPreInsert(Json& data) const;
  void RunPreUpdate(const std::string& id, Json& patch) const;
  void RunPreDelete(const std::string& id) const;

  // Run every after-hook; one that throws does not stop the others. Each failure is emitted
  // as "hookError" on `events` (reported as a line when it has no listener). Returns how
  // many failed. Never throws.
  size_t RunAfterInsert(const Record& record, EventEmitter& events) const;
  size_t RunAfterUpdate(const Record& record, EventEmitter& events) const;
  size_t RunAfterDelete(const std::string& id, EventEmitter& events) const;

 private:
  // Copy-on-write, like EventEmitter: a run uses a snapshot, so adding is never blocked by
  // a slow hook and a hook may add hooks.
  template <typename F>
  struct List {
    std::shared_ptr<const std::vector<F>> hooks = std::make_shared<const std::vector<F>>();
  };
  template <typename F>
  void Add(List<F>& list, F hook);
  template <typename F>
  std::shared_ptr<const std::vector<F>> Snapshot(const List<F>& list) const;
  template <typename F, typename... Args>
  void RunPre(HookType type, const List<F>& list, const std::string& id, Args&... args) const;
  template <typename F, typename Arg>
  size_t RunAfter(HookType type, const List<F>& list, const std::string& id, const Arg& arg,
                  EventEmitter& events) const;

  std::string resource_;
  mutable std::mutex mu_;
  List<PreInsertHook> pre_insert_;
  List<AfterInsertHook> after_insert_;
  List<PreUpdateHook> pre_update_;
  List<AfterUpdateHook> after_update_;
  List<PreDeleteHook> pre_delete_;
  List<AfterDeleteHook> after_delete_;
};

}  // namespace s3db

// Plugins: code that joins a Database to observe or change what it does (the seeds' plugins:
// costs, cache, audit, ...). A plugin gets two powers, both through its PluginContext:
//
//  1. Events: subscribe to the database's events and to every resource's events
//     (events.h lists them). The EventEmitter rules hold: listeners are quick and whatever
//     they throw stays inside the emitter.
//  2. The store: wrap the database's ObjectStore in a decorator, so every store request the
//     database makes passes through the plugin, which may observe it (CostsPlugin) or answer it
//     itself without passing it on (a test double, a read-only guard).
//
// A plugin object serves one Database (its Setup runs once). Lifecycle, driven by the
// Database, one thread, in this order:
//   Setup(context)  each plugin in the order given; subscribe and WrapStore here. A throw
//                   fails the connect.
//   (the store stack is built, the catalog read, "connected" emitted)
//   Start()         each plugin in order; context.store() is usable from here on. A throw
//                   fails the connect, after the plugins already started are stopped.
//   Stop()          when the Database closes, in reverse order, before the store goes away.
//                   What Stop throws is reported and swallowed.
//
// Where a decorator sits (StorePosition): kInner decorators wrap the backend store itself,
// below the executor, so they see every attempt the executor sends (its retries included):
// that is where counting belongs. kOuter decorators wrap the whole stack, above the executor,
// so they see each logical request once and can answer it before it takes a request slot.
// Within a position the first plugin's decorator is the innermost.
namespace s3db {

class Database;  // database.h

enum class StorePosition { kInner, kOuter };

// Takes the store below and returns the one the layer above will call. It must keep the
// ObjectStore contract (thread-safe, failures as values) and own `inner`.
using StoreDecorator = std::function<std::unique_ptr<ObjectStore>(std::unique_ptr<ObjectStore> inner)>;

class S3DB_EXPORT PluginContext {
 public:
  virtual ~PluginContext() = default;

  // The database's key prefix ("" or "a/b"): its objects live under "<prefix>/".
  virtual const std::string& prefix() const = 0;

  // Database events ("connected", "resourceCreated").
  virtual SubscriptionId OnDatabaseEvent(const std::string& event, EventEmitter::Listener listener) = 0;
  // An event of every resource, present and future; the payload names it in "resource".
  virtual SubscriptionId OnResourceEvent(const std::string& event, EventEmitter::Listener listener) = 0;
  // Removes a subscription made by either call.
  virtual bool Off(SubscriptionId id) = 0;

  // Adds a decorator to the store stack. Only during Setup (InvalidArgument afterwards).
  virtual void WrapStore(StoreDecorator decorator, StorePosition position = StorePosition::kOuter) = 0;

  // The database's whole store stack (what resources call). From Start() on; InvalidArgument
  // before. Requests a plugin makes here are counted, cached and retried like any other.
  virtual ObjectStore& store() = 0;

  // The Database the plugin serves, with its resources: what s3db.js hands a plugin's
  // setup(s3db). At connect, from Start() on (Setup runs before the store, the catalog and
  // the Database exist, so that it can wrap the store); for a plugin added with
  // Database::UsePlugin, in Setup too. InvalidArgument before.
  virtual Database& database() = 0;
};

// Reads a plugin answers itself: a cache. The resource layer asks the plugins for one through
// Plugin::read_cache() and uses the first it gets, so it never names a plugin type. A hit
// returns what was stored; every write of this process invalidates what it changed.
class S3DB_EXPORT ReadCache {
 public:
  virtual ~ReadCache() = default;
  virtual bool caches_records() const = 0;
  virtual bool caches_queries() const = 0;
  // Read-through: a hit returns the cached object; a miss calls `load` and keeps what it
  // returns when that is OK (NotFound and errors are not kept).
  virtual Result<GetResult> GetObject(const std::string& key, const std::function<Result<GetResult>()>& load) = 0;
  // The same for JSON results (list ids, counts). What `load` throws propagates.
  virtual Json GetJson(const std::string& key, const std::function<Json()>& load) = 0;
  // The hits among many keys, read at once (the redis driver: one round trip); nullopt for a
  // miss, which the caller then reads through GetObject. The default finds none.
  virtual std::vector<std::optional<GetResult>> PeekObjects(const std::vector<std::string>& keys) {
    return std::vector<std::optional<GetResult>>(keys.size());
  }
  virtual void Invalidate(const std::string& key) = 0;
  virtual void InvalidatePrefix(const std::string& prefix) = 0;

  // The keys the resources use. A record: "resource=<name>/record/<id>"; a query result:
  // "resource=<name>/query/<kind>/<sha256 of params>"; params is any JSON (sorted keys make
  // equal params equal).
  static std::string RecordKey(std::string_view resource, std::string_view id);
  static std::string QueryKey(std::string_view resource, std::string_view kind, const Json& params);
  static std::string QueryPrefix(std::string_view resource);     // every query result of it
  static std::string ResourcePrefix(std::string_view resource);  // everything of it
};

class S3DB_EXPORT Plugin {
 public:
  virtual ~Plugin() = default;
  // A short stable name ("costs", "cache"), used in messages.
  virtual std::string name() const = 0;
  virtual void Setup(PluginContext& context) = 0;
  virtual void Start() {}
  virtual void Stop() {}
  // A plugin that answers reads returns its ReadCache (kept alive by the plugin).
  virtual ReadCache* read_cache() { return nullptr; }
  // On a backend that reports each request it sends (S3: every attempt, retries and
  // write-tag checks included, which no decorator above it can see), the Database asks each
  // plugin before Setup whether it takes them. One that returns true gets each through
  // OnBackendRequest, from any thread, and should not count them again in a decorator.
  virtual bool TakeBackendRequests() { return false; }
  virtual void OnBackendRequest(const SentRequest& /*request*/) {}
};

}  // namespace s3db

// CostsPlugin: counts the store requests a Database makes and what they cost on S3 Standard.
//
// It wraps the store (StorePosition::kInner, beneath the executor), so it sees each request
// the store below really served: a retried request counts once per attempt, a request another
// plugin answers itself does not count. Each call is counted exactly once, when the store
// returns, whether it succeeded or failed (a failed S3 request is billed too).
//
// Request kinds map to S3 operations as AWS bills them:
//   Put -> put (PUT)   Get -> get   Head -> head   List -> list (ListObjectsV2)
//   Delete -> delete   DeleteMany -> post (DeleteObjects is a POST; an empty batch sends
//   nothing and is not counted)   copy: CopyObject (the ObjectStore has no Copy call yet, so 0)
// Prices (docs/ARCHITECTURE.md): PUT/COPY/POST/LIST $0.005 per 1,000; GET/HEAD $0.0004 per 1,000;
// DELETE free. Storage and data transfer are not included.
//
// Bytes: bytes_out is what requests carry (Put bodies plus the metadata values sent),
// bytes_in what responses carry (Get bodies). Both as the store interface sees them, before
// HTTP framing and signing.
//
// Attribution: every request counts for the database; a request for a key under
// "<prefix>/resource=<name>/" (a List of such a prefix, a DeleteMany whose keys are all of one
// resource) counts for that resource too. The catalog, cache objects and other keys count for
// the database only.
//
// Thread-safe. Counts live in a tracker that the plugin and its decorators share, so either
// may outlive the other.
namespace s3db {

enum class RequestKind { kPut, kGet, kHead, kList, kDelete, kCopy, kPost };
inline constexpr size_t kRequestKindCount = 7;

// "put", "get", "head", "list", "delete", "copy", "post".
S3DB_EXPORT const char* RequestKindName(RequestKind kind);
// USD per 1,000 requests of this kind at S3 Standard prices.
S3DB_EXPORT double PricePerThousand(RequestKind kind);

struct S3DB_EXPORT CostTotals {
  std::array<uint64_t, kRequestKindCount> requests{};  // indexed by RequestKind
  uint64_t bytes_out = 0;
  uint64_t bytes_in = 0;

  uint64_t count(RequestKind kind) const { return requests[static_cast<size_t>(kind)]; }
  uint64_t total_requests() const;
  double usd() const;

  // {"requests":{"put":N,"get":N,"head":N,"list":N,"delete":N,"copy":N,"post":N,"total":N},
  //  "bytes_out":N,"bytes_in":N,"usd":X,"total":X}: the object of the CLI's `--costs` line.
  Json ToJson() const;
  // The same object as one line of text, members in the order above (the CLI prints
  // "costs: " + ToLine() on stderr).
  std::string ToLine() const;

  CostTotals& operator+=(const CostTotals& other);
  bool operator==(const CostTotals& other) const = default;
};

class CostTracker;  // the shared counters; internal

class S3DB_EXPORT CostsPlugin : public Plugin {
 public:
  // `prefix` is the database prefix for attribution when the plugin is used without a
  // Database (Wrap on a store of your own); Setup replaces it with the database's.
  explicit CostsPlugin(std::string prefix = "");
  ~CostsPlugin() override;

  std::string name() const override { return "costs"; }
  // Wraps the store at StorePosition::kInner.
  void Setup(PluginContext& context) override;

  // A decorator that counts every request `inner` serves into this plugin.
  std::unique_ptr<ObjectStore> Wrap(std::unique_ptr<ObjectStore> inner);

  // Counts one request a lower layer made (say the S3 store reporting each HTTP attempt).
  // `key` is the object key or list prefix, for attribution.
  void Count(RequestKind kind, std::string_view key, uint64_t bytes_out, uint64_t bytes_in);
  // True when the backend reports every request it sends through Count (the S3 store sees its
  // own retries, write-tag checks and one-by-one deletes, which a decorator cannot): the
  // decorators then only forward, so nothing is counted twice. Default false.
  void set_backend_counts(bool on);
  // Takes the backend's own reports (set_backend_counts(true)) and counts each.
  bool TakeBackendRequests() override;
  void OnBackendRequest(const SentRequest& request) override;

  CostTotals Totals() const;                                     // the whole database
  CostTotals ResourceTotals(const std::string& resource) const;  // zeros when none
  std::map<std::string, CostTotals> ByResource() const;
  // Totals().ToJson(): the CLI line's object.
  Json ToJson() const;
  // {"database": Totals().ToJson(), "resources": {"<name>": ..., ...}}
  Json Report() const;
  void Reset();

 private:
  std::shared_ptr<CostTracker> tracker_;
};

}  // namespace s3db
