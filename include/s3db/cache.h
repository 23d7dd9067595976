// Caching: CachePlugin (a read-through cache for record reads and query results, with memory,
// file, s3 and redis drivers) and Memoizer (a small single-flight function cache).
//
// CachePlugin is a component the core calls; it does not sit in the store stack, because what
// is worth caching (a record read, a count) and what must invalidate it (this process's write
// of that record) are known only above the store. The core's calls (docs/PLUGINS.md):
//   get(id)         GetObject(RecordKey(resource, id), load), when caches_records(): the raw
//                   object (metadata, body, ETag) is cached, so decoding stays in the core;
//                   getMany uses one entry per id.
//   list/count/...  GetJson(QueryKey(resource, kind, params), load), when caches_queries().
//   insert/update/delete of a record: Invalidate(RecordKey(...)) and
//                   InvalidatePrefix(QueryPrefix(resource)), after the write returns.
//   deleteAll / drop: InvalidatePrefix(ResourcePrefix(resource)).
//
// Consistency. This process's writes are seen by its next read: an invalidation is never lost
// to a read that was filling the cache at the same time (every Get hands out a ticket; a Put
// whose ticket predates an invalidation of its key is dropped or undone), and when a driver
// fails to invalidate (say the s3 driver's DELETE failed) the key is bypassed until the entry
// would have expired. With the memory, file and s3 drivers, writes by OTHER processes are not
// seen until the entry expires: the stale-read window is the TTL. The redis driver is coherent
// across processes: once a write has returned, no process sharing the Redis reads the value it
// replaced (docs/PLUGINS.md).
//
// Failures never escape: a driver that cannot read is a miss, one that cannot write caches
// nothing; stats().errors counts them. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/object_store.h"
#include "s3db/plugin.h"
#include "s3db/record.h"

namespace s3db {

// Milliseconds. Cache drivers use the wall clock (since the Unix epoch) because file and s3
// entries outlive the process; tests inject a fake one.
using CacheClock = std::function<int64_t()>;

struct S3DB_EXPORT CacheOptions {
  // "memory" (LRU), "file" (a directory; "filesystem", the seeds' name, is the same), "s3"
  // (the bucket), "redis" (a Redis server, shared by every process that names it).
  std::string driver = "memory";
  // Default time to live, and so the stale-read window for other processes' writes.
  std::chrono::milliseconds ttl{60000};
  size_t max_entries = 10000;         // memory, file: least recently used go first
  size_t max_bytes = 64u << 20;       // memory, file: keys + values
  size_t max_entry_bytes = 1u << 20;  // every driver: bigger values are not cached
  std::string directory = {};         // file: where entries live (created if absent)
  // redis: redis://[user:password@]host[:port][/db] or unix:///path/to/socket[?db=N]
  // (rediss:// is refused: Debian 12's hiredis has no TLS). A secret: never printed.
  std::string uri = {};
  // redis: bounds connecting and each command; past it Redis counts as down (reads go to the
  // store uncached, reconnecting with backoff).
  std::chrono::milliseconds timeout{100};
  // redis: connections in the pool; 0 = the database's concurrency (8 outside a Database).
  size_t connections = 0;
  // redis: what every key starts with; empty = RedisKeyPrefix(the database prefix). Databases
  // of different buckets with the same prefix sharing one Redis need different ones.
  std::string key_prefix = {};
  // What the core caches. With the s3 driver a cached record costs the same one GET as the
  // record itself, so there only query results (a count is many LISTs) are worth caching:
  // set cache_records = false.
  bool cache_records = true;  // get / getMany results
  bool cache_queries = true;  // list / count / query results
  CacheClock clock = {};      // empty: the system clock

  // kInvalidArgument naming the first bad option.
  Status Validate() const;
};

struct S3DB_EXPORT CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;           // entries stored
  uint64_t evictions = 0;      // removed for the size bound
  uint64_t expirations = 0;    // found expired and removed
  uint64_t invalidations = 0;  // Invalidate / InvalidatePrefix calls
  uint64_t dropped_fills = 0;  // CachePlugin: fills refused because a write raced them
  uint64_t bypassed = 0;       // CachePlugin: reads sent around a key it failed to invalidate
  uint64_t errors = 0;         // driver failures (each one a miss or a skipped put)
  size_t entries = 0;          // memory, file: entries held now (s3: unknown, 0)
  size_t bytes = 0;            // memory, file: key + value bytes held now
};

// A place to keep bytes by key. Drivers are thread-safe and never throw from these calls.
class S3DB_EXPORT CacheDriver {
 public:
  virtual ~CacheDriver() = default;
  // The value, unless absent or expired.
  virtual std::optional<std::string> Get(const std::string& key) = 0;
  // Get of each key, at once where the driver can (redis: pipelined, one round trip). The
  // default calls Get for each.
  virtual std::vector<std::optional<std::string>> GetMany(const std::vector<std::string>& keys);
  // Stores (replacing) with this time to live. A value over max_entry_bytes, or a ttl <= 0,
  // stores nothing (and drops an older entry where that costs no request).
  virtual Status Put(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) = 0;
  virtual Status Invalidate(const std::string& key) = 0;
  virtual Status InvalidatePrefix(const std::string& prefix) = 0;
  virtual Status Clear() = 0;
  virtual CacheStats stats() const = 0;
};

// LRU in memory, bounded by max_entries and max_bytes.
S3DB_EXPORT std::unique_ptr<CacheDriver> NewMemoryCache(const CacheOptions& options);
// One file per entry in options.directory (named by the SHA-256 of the key, written to a
// temporary file and renamed, so a reader sees a whole entry or none), the expiry time in the
// entry. Bounded like the memory driver (LRU within a run; at open, by file age). Entries
// survive a reopen. Meant for one process at a time: another process writing the same
// directory is safe, but the entries it adds are not counted against this one's bound.
S3DB_EXPORT Result<std::unique_ptr<CacheDriver>> NewFileCache(const CacheOptions& options);
// Entries are objects under `key_prefix` (S3CachePrefix of the database prefix) in `store`,
// the expiry time in their metadata ("exp"), so any process with the bucket shares them. An
// expired entry is deleted when read (DELETE is free). Cost: a hit is one GET; a fill one PUT;
// InvalidatePrefix one LIST per 1000 entries plus one POST per 1000 deleted. There is no total
// bound (counting objects would cost LISTs): an expired entry goes when it is read, and a
// bucket lifecycle rule on the prefix (expire after a day) bounds the rest at no request cost.
// `store` must outlive the driver.
S3DB_EXPORT std::unique_ptr<CacheDriver> NewS3Cache(ObjectStore& store, std::string key_prefix,
                                                    const CacheOptions& options);
// "<prefix>/plugin=cache/" ("plugin=cache/" for an empty prefix).
S3DB_EXPORT std::string S3CachePrefix(std::string_view database_prefix);

// What the redis driver tells about its server: kCacheWarningEvent once when Redis stops
// answering (payload {driver, uri (masked), message}), kCacheRecoveredEvent once when it
// answers again ({driver, uri}). Called on the thread that noticed; must be quick.
inline constexpr const char* kCacheWarningEvent = "warning";
inline constexpr const char* kCacheRecoveredEvent = "recovered";
using CacheEventFn = std::function<void(const char* event, const Json& payload)>;
// A Redis server shared by every process that names it, coherent across them: once a write's
// Invalidate has returned, no process reads the value it replaced (docs/PLUGINS.md "The redis
// driver" has the rule and the round trips). A bad URI or options: InvalidArgument; a refused
// password: AccessDenied (one connection is made here). A server that is down or slow is no
// error: the driver misses until it answers (reconnecting with backoff). max_entries bounds
// the entries of the key prefix (the soonest to expire go first); max_bytes is not used (bound
// Redis itself with maxmemory).
S3DB_EXPORT Result<std::unique_ptr<CacheDriver>> NewRedisCache(const CacheOptions& options,
                                                               CacheEventFn on_event = nullptr);
// InvalidArgument naming what is wrong with a redis URI (the password masked).
S3DB_EXPORT Status ValidateRedisUri(const std::string& uri);
// "s3db:<prefix>:" (the database prefix without its slashes at either end).
S3DB_EXPORT std::string RedisKeyPrefix(std::string_view database_prefix);
// The URI with its password (or lone credential) shown as "***".
S3DB_EXPORT std::string MaskedRedisUri(std::string_view uri);

// The options a cache URI names (the CLI's --cache): "memory" (or "memory://"), "file://DIR"
// (the file driver; a relative DIR is from the working directory), "s3://" (the s3 driver, in
// the database's own bucket: nothing may follow), "redis://..." or "unix://..." (the redis
// driver, `uri` set). Every other option keeps its default. InvalidArgument otherwise, any
// password masked.
S3DB_EXPORT Result<CacheOptions> CacheOptionsFromUri(const std::string& uri);

// The raw object as the cache keeps it: versioned framing, the body verbatim. Decode returns
// nullopt for anything Encode did not write (a damaged entry is a miss, not a wrong record).
S3DB_EXPORT std::string EncodeCachedObject(const GetResult& object);
S3DB_EXPORT std::optional<GetResult> DecodeCachedObject(std::string_view bytes);

struct S3DB_EXPORT CacheRead {
  std::optional<std::string> value;
  uint64_t ticket = 0;  // give it to Put when filling the cache after this miss
  bool hit() const { return value.has_value(); }
};

class S3DB_EXPORT CachePlugin : public Plugin, public ReadCache {
 public:
  // Builds the memory or file driver now (throws InvalidArgument for bad options, StorageError
  // when the directory cannot be made); the s3 driver at Start, on the database's store under
  // S3CachePrefix(prefix); the redis driver at Start too, its keys under
  // RedisKeyPrefix(prefix) unless options.key_prefix says otherwise (a refused password
  // fails the connect with AccessDenied).
  explicit CachePlugin(CacheOptions options = {});
  // Uses a driver you built (any kind; options.driver is then ignored).
  CachePlugin(CacheOptions options, std::unique_ptr<CacheDriver> driver);
  ~CachePlugin() override;

  std::string name() const override { return "cache"; }
  void Setup(PluginContext& context) override;
  void Start() override;
  void Stop() override;  // drops an s3 driver made at Start (the store goes away next)
  ReadCache* read_cache() override { return this; }

  // Low level. Without a driver (s3 before Start), every Get misses and Put does nothing.
  CacheRead Get(const std::string& key);
  void Put(const std::string& key, std::string_view value, uint64_t ticket,
           std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  void Invalidate(const std::string& key) override;
  void InvalidatePrefix(const std::string& prefix) override;
  void Clear();

  // Read-through: a hit returns the cached object; a miss calls `load` and caches what it
  // returns when that is OK (NotFound and errors are not cached).
  Result<GetResult> GetObject(const std::string& key, const std::function<Result<GetResult>()>& load) override;
  // The same for JSON results (list ids, counts). What `load` throws propagates; nothing is
  // cached then.
  Json GetJson(const std::string& key, const std::function<Json()>& load) override;
  // The hits among `keys` in one driver GetMany (misses are not counted here: the GetObject
  // that follows counts them).
  std::vector<std::optional<GetResult>> PeekObjects(const std::vector<std::string>& keys) override;

  // The keys: ReadCache::RecordKey, QueryKey, QueryPrefix, ResourcePrefix (plugin.h).

  bool caches_records() const override { return options_.cache_records; }
  bool caches_queries() const override { return options_.cache_queries; }
  const CacheOptions& options() const { return options_; }
  CacheStats stats() const;
  // The driver's news (kCacheWarningEvent, kCacheRecoveredEvent; payloads name "plugin":
  // "cache"). With no listener for "warning", it is written as one line on stderr.
  EventEmitter& events() { return events_; }

 private:
  struct Invalidation {
    uint64_t seq;
    std::string key;
    bool prefix;
  };
  struct Bypass {  // a key or prefix whose invalidation failed: not cached until `until_ms`
    std::string key;
    bool prefix;
    int64_t until_ms;
  };

  std::shared_ptr<CacheDriver> driver() const;
  int64_t Now() const;
  uint64_t Invalidated(const std::string& key, bool prefix);             // logs it; returns the ticket after
  void Failed(const std::string& key, bool prefix);                      // a driver could not invalidate
  bool InvalidatedSince(uint64_t ticket, const std::string& key) const;  // log_mu_ held
  bool Bypassed(const std::string& key, int64_t now);                    // log_mu_ held

  CacheOptions options_;
  PluginContext* context_ = nullptr;

  mutable std::mutex driver_mu_;
  std::shared_ptr<CacheDriver> driver_;
  bool driver_from_start_ = false;  // the s3 driver, made at Start on the database's store

  mutable std::mutex log_mu_;
  uint64_t seq_ = 0;              // invalidations so far
  std::deque<Invalidation> log_;  // the most recent ones, for tickets to check against
  std::vector<Bypass> bypass_;
  int64_t longest_ttl_ms_ = 0;  // how long an entry a failed invalidation left may live

  std::atomic<uint64_t> hits_{0}, misses_{0}, dropped_fills_{0}, bypassed_{0};
  EventEmitter events_;
};

// A small cache of computed values keyed by string, with a time to live (the performance
// guide's Memoizer). Concurrent callers of one key wait for a single computation (single
// flight). A computation that throws caches nothing: its waiters get the same exception and
// the next call computes again. `compute` must not call Get with the same key (it would wait
// for itself). Thread-safe. For a handful of keys (config, settings), not for record data:
// at most max_entries are kept, the soonest to expire dropped first.
template <typename T>
class S3DB_EXPORT Memoizer {
 public:
  struct Options {
    std::chrono::milliseconds ttl{300000};
    size_t max_entries = 1024;
    std::function<int64_t()> clock;  // milliseconds; empty: a steady clock
  };

  explicit Memoizer(Options options) : options_(std::move(options)) {
    if (!options_.clock) {
      options_.clock = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
      };
    }
    if (options_.max_entries == 0) options_.max_entries = 1;
  }
  explicit Memoizer(std::chrono::milliseconds ttl = std::chrono::minutes(5)) : Memoizer(Options{ttl, 1024, {}}) {}

  T Get(const std::string& key, const std::function<T()>& compute) {
    std::shared_ptr<Slot> slot;
    std::promise<T> promise;
    bool owner = false;  // this call computes; the others wait for it
    {
      std::lock_guard lock(mu_);
      const int64_t now = options_.clock();
      auto it = slots_.find(key);
      if (it != slots_.end() && (!it->second->ready || it->second->expires_ms > now)) {
        slot = it->second;
      } else {
        if (it != slots_.end()) slots_.erase(it);
        Prune(now);
        slot = std::make_shared<Slot>();
        slot->value = promise.get_future().share();
        slots_.emplace(key, slot);
        computations_++;
        owner = true;
      }
    }
    if (!owner) return slot->value.get();  // rethrows what the computation threw
    try {
      T value = compute();
      promise.set_value(value);
      std::lock_guard lock(mu_);
      auto it = slots_.find(key);
      // Invalidated while computing: the waiters get the value, later callers compute anew.
      if (it != slots_.end() && it->second == slot) {
        slot->ready = true;
        slot->expires_ms = options_.clock() + options_.ttl.count();
      }
      return value;
    } catch (...) {
      promise.set_exception(std::current_exception());
      std::lock_guard lock(mu_);
      auto it = slots_.find(key);
      if (it != slots_.end() && it->second == slot) slots_.erase(it);
      throw;
    }
  }

  void Invalidate(const std::string& key) {
    std::lock_guard lock(mu_);
    slots_.erase(key);
  }
  void Clear() {
    std::lock_guard lock(mu_);
    slots_.clear();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return slots_.size();
  }
  // How many computations were started (a measure of the hit rate).
  uint64_t computations() const {
    std::lock_guard lock(mu_);
    return computations_;
  }

 private:
  struct Slot {
    std::shared_future<T> value;
    bool ready = false;  // computed; while false, callers wait on `value`
    int64_t expires_ms = std::numeric_limits<int64_t>::max();
  };

  // Makes room for one more (mu_ held): expired entries first, then the soonest to expire.
  void Prune(int64_t now) {
    if (slots_.size() < options_.max_entries) return;
    for (auto it = slots_.begin(); it != slots_.end();) {
      it = it->second->ready && it->second->expires_ms <= now ? slots_.erase(it) : std::next(it);
    }
    while (slots_.size() >= options_.max_entries) {
      auto victim = slots_.end();
      for (auto it = slots_.begin(); it != slots_.end(); ++it) {
        if (it->second->ready && (victim == slots_.end() || it->second->expires_ms < victim->second->expires_ms)) {
          victim = it;
        }
      }
      if (victim == slots_.end()) return;  // all are computing: let it grow past the bound briefly
      slots_.erase(victim);
    }
  }

  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Slot>> slots_;
  uint64_t computations_ = 0;
};

}  // namespace s3db
