// The redis cache driver, on the connections of src/plugins/redis_connection.h (hiredis 0.14:
// blocking contexts, no TLS). docs/PLUGINS.md "The redis driver" states the coherence rule this implements; in
// short, under the namespace N (CacheOptions::key_prefix):
//
//   N e:<key>      the entry: "s3db-redis 1 <g0> <g1> <g2>\n" + value, with a PX expiry; g0..g2
//                  are the generations of the key's scopes when it was filled
//   N g:<key>      the key's generation: INCR on every Invalidate(key) (which also deletes the
//                  entry), with an expiry of kKeyGenerationTtl
//   N s:<scope>    a scope's generation (scopes: "", and the key up to its first and second
//                  '/', e.g. "resource=users/" and "resource=users/query/"): INCR on an
//                  InvalidatePrefix that the scope covers; never expires
//   N lru          a sorted set of the entries by expiry time, for max_entries
//
// A Get reads the entry and the four generations in one MGET: a hit is an entry whose scope
// generations are current. A Put fills only through a script that checks, atomically in
// Redis, that the four generations are still the ones that Get read on this thread: a write
// that landed (and returned) between the read and the fill makes the fill a no-op. So once a
// write's invalidation has returned, no process can read the value it replaced.
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "plugins/cache_internal.h"
#include "plugins/redis_connection.h"
#include "s3db/cache.h"

namespace s3db {
namespace {

using plugins::Command;
using plugins::Context;
using plugins::Failure;
using plugins::Open;
using plugins::RedisUri;
using plugins::Reply;
using plugins::ReplyText;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kEntryMagic = "s3db-redis 1 ";
constexpr int64_t kKeyGenerationTtlMs = 24 * 3600 * 1000;
// A fill later than this after its read is dropped: the key's generation (which expires after
// kKeyGenerationTtlMs) must still exist when the fill checks it.
constexpr auto kFillWindow = std::chrono::minutes(10);
constexpr int64_t kFirstBackoffMs = 50;
constexpr int64_t kMaxBackoffMs = 5000;
constexpr const char* kMissing = "-";  // a generation that does not exist (yet)
// Read pipelines in flight at once (RedisCache::Batched): two, so that a batch can be sent
// while the previous one is answered.
constexpr size_t kReadLanes = 2;

// KEYS: entry, key generation, three scope generations, lru. ARGV: the four generations the
// read saw, ttl ms, now ms, max entries, the framed value. 0: dropped; n > 0: stored, n - 1
// entries evicted for max_entries.
constexpr const char* kFillScript = R"lua(
for i = 1, 4 do
  local v = redis.call('GET', KEYS[i + 1])
  if not v then v = '-' end
  if v ~= ARGV[i] then return 0 end
end
local ttl = tonumber(ARGV[5])
local now = tonumber(ARGV[6])
redis.call('SET', KEYS[1], ARGV[8], 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
redis.call('ZADD', KEYS[6], now + ttl, KEYS[1])
local over = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[7])
if over <= 0 then return 1 end
local victims = redis.call('ZPOPMIN', KEYS[6], over)
for i = 1, #victims, 2 do
  if victims[i] ~= KEYS[1] then redis.call('DEL', victims[i]) end
end
return 1 + over
)lua";

// KEYS: entry, key generation, lru. ARGV: the generation's ttl ms.
constexpr const char* kInvalidateScript = R"lua(
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
return 1
)lua";

// The scopes of a key: "", and the key up to its first and its second '/'.
std::array<std::string, 3> ScopesOf(const std::string& key) {
  std::array<std::string, 3> out;
  size_t first = key.find('/');
  out[1] = first == std::string::npos ? "" : key.substr(0, first + 1);
  size_t second = first == std::string::npos ? std::string::npos : key.find('/', first + 1);
  out[2] = second == std::string::npos ? out[1] : key.substr(0, second + 1);
  return out;
}

// The scope an InvalidatePrefix(prefix) bumps: the longest scope form that is a prefix of
// `prefix`. Every key starting with `prefix` has it among its scopes (more may go than asked:
// only ever safe).
std::string ScopeOfPrefix(const std::string& prefix) {
  size_t first = prefix.find('/');
  if (first == std::string::npos) return "";
  size_t second = prefix.find('/', first + 1);
  return prefix.substr(0, (second == std::string::npos ? first : second) + 1);
}

// One read's MGET: the entry's key and its four generations' keys, in one buffer (one
// allocation instead of five strings).
class ReadCommand {
 public:
  ReadCommand(const std::string& ns, const std::string& key) {
    const std::array<std::string, 3> scopes = ScopesOf(key);
    keys_.reserve(5 * ns.size() + 2 * key.size() + scopes[1].size() + scopes[2].size() + 10);
    Add(ns, "e:", key);
    Add(ns, "g:", key);
    Add(ns, "s:", scopes[0]);
    Add(ns, "s:", scopes[1]);
    Add(ns, "s:", scopes[2]);
  }

  // Queues the MGET on `c` (hiredis copies the arguments).
  bool Append(redisContext* c) const {
    const char* argv[6] = {"MGET"};
    size_t lens[6] = {4};
    for (size_t i = 0; i < 5; ++i) {
      argv[i + 1] = keys_.data() + ends_[i] - lengths_[i];
      lens[i + 1] = lengths_[i];
    }
    return redisAppendCommandArgv(c, 6, argv, lens) == REDIS_OK;
  }

 private:
  void Add(const std::string& ns, std::string_view kind, std::string_view tail) {
    keys_ += ns;
    keys_ += kind;
    keys_ += tail;
    lengths_[count_] = ns.size() + kind.size() + tail.size();
    ends_[count_++] = keys_.size();
  }

  std::string keys_;
  std::array<size_t, 5> ends_{};
  std::array<size_t, 5> lengths_{};
  size_t count_ = 0;
};

// What a Get read, kept on its thread for the Put that fills the same key.
struct PendingRead {
  uint64_t driver = 0;
  std::string key;
  std::array<std::string, 4> generations;
  Clock::time_point at;
};
constexpr size_t kPendingLimit = 64;
thread_local std::deque<PendingRead> t_pending;
std::atomic<uint64_t> g_driver_serial{0};

class RedisCache : public CacheDriver {
 public:
  RedisCache(RedisUri uri, const CacheOptions& options, std::string masked_uri, CacheEventFn on_event)
      : uri_(std::move(uri)),
        masked_uri_(std::move(masked_uri)),
        ns_(options.key_prefix),
        timeout_(options.timeout),
        max_entries_(options.max_entries),
        max_entry_bytes_(options.max_entry_bytes),
        pool_size_(std::max<size_t>(1, options.connections)),
        on_event_(std::move(on_event)),
        serial_(++g_driver_serial) {}

  ~RedisCache() override {
    std::erase_if(t_pending, [&](const PendingRead& p) { return p.driver == serial_; });
  }

  // The first connection, made at construction so that a wrong password or database number
  // fails there (AccessDenied, InvalidArgument) instead of as a warning later.
  Status Probe() {
    auto [c, outcome] = Open(uri_, timeout_);
    if (outcome.failure == Failure::kAuth) {
      return Status(ErrorCode::kAccessDenied,
                    "cache: redis at " + masked_uri_ + " refused the credentials: " + outcome.message);
    }
    if (outcome.failure == Failure::kOther) {
      return Status(ErrorCode::kInvalidArgument, "cache: redis at " + masked_uri_ + ": " + outcome.message);
    }
    if (outcome.failure == Failure::kIo) {
      MarkDown(outcome.message);  // down at start: uncached until it answers
      return Status::Ok();
    }
    {
      std::lock_guard lock(mu_);
      open_++;  // Release counts it back in as idle
    }
    Release(std::move(c), true);
    return Status::Ok();
  }

  // One MGET (the entry and its four generations): one round trip, shared with the reads of
  // other threads running at the same time (Batched).
  std::optional<std::string> Get(const std::string& key) override {
    const ReadCommand command(ns_, key);
    std::vector<Reply> replies = Batched(&command, 1);
    return Answer(key, replies.empty() ? nullptr : replies.front().get());
  }

  // One MGET per key, pipelined: one round trip.
  std::vector<std::optional<std::string>> GetMany(const std::vector<std::string>& keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<ReadCommand> commands;
    commands.reserve(keys.size());
    for (const std::string& key : keys) commands.emplace_back(ns_, key);
    std::vector<Reply> replies = Batched(commands.data(), commands.size());
    for (size_t k = 0; k < keys.size(); ++k) out[k] = Answer(keys[k], k < replies.size() ? replies[k].get() : nullptr);
    return out;
  }

  Status Put(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) override {
    std::optional<PendingRead> read = Take(key);
    if (ttl.count() <= 0 || value.size() > max_entry_bytes_) return Status::Ok();
    if (!read || Clock::now() - read->at > kFillWindow) {
      // No read of this key on this thread to check the fill against: it cannot be shown
      // current, so it is not stored.
      dropped_++;
      return Status::Ok();
    }
    std::string framed(kEntryMagic);
    framed += read->generations[1] + " " + read->generations[2] + " " + read->generations[3] + "\n";
    framed += value;
    const std::array<std::string, 3> scopes = ScopesOf(key);
    const std::string ttl_text = std::to_string(ttl.count());
    const std::string now_text = std::to_string(NowMs());
    const std::string max_text = std::to_string(max_entries_);
    std::optional<Reply> reply =
        Run({"EVAL", kFillScript, "6", ns_ + "e:" + key, ns_ + "g:" + key, ns_ + "s:" + scopes[0],
             ns_ + "s:" + scopes[1], ns_ + "s:" + scopes[2], ns_ + "lru", read->generations[0], read->generations[1],
             read->generations[2], read->generations[3], ttl_text, now_text, max_text, framed});
    if (!reply || (*reply)->type != REDIS_REPLY_INTEGER) {
      errors_++;
      return Status(ErrorCode::kNetwork, "cache: redis fill failed");
    }
    long long n = (*reply)->integer;
    if (n == 0) {
      dropped_++;
      return Status::Ok();
    }
    puts_++;
    evictions_ += static_cast<uint64_t>(n - 1);
    return Status::Ok();
  }

  Status Invalidate(const std::string& key) override {
    invalidations_++;
    const std::string ttl = std::to_string(kKeyGenerationTtlMs);
    return Bump(Run({"EVAL", kInvalidateScript, "3", ns_ + "e:" + key, ns_ + "g:" + key, ns_ + "lru", ttl}));
  }

  Status InvalidatePrefix(const std::string& prefix) override {
    invalidations_++;
    return Bump(Run({"INCR", ns_ + "s:" + ScopeOfPrefix(prefix)}));
  }

  // Every entry of the namespace goes stale at once (they expire on their own).
  Status Clear() override { return Bump(Run({"INCR", ns_ + "s:"})); }

  CacheStats stats() const override {
    CacheStats s;
    s.hits = hits_;
    s.misses = misses_;
    s.puts = puts_;
    s.evictions = evictions_;
    s.invalidations = invalidations_;
    s.dropped_fills = dropped_;
    s.errors = errors_;
    // Entries filled and not expired yet (some may be stale after a prefix invalidation).
    std::string now = std::to_string(NowMs());
    if (std::optional<Reply> r = const_cast<RedisCache*>(this)->Run({"ZCOUNT", ns_ + "lru", "(" + now, "+inf"});
        r && (*r)->type == REDIS_REPLY_INTEGER) {
      s.entries = static_cast<size_t>((*r)->integer);
    }
    return s;
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A read's value from its MGET reply (nullptr: Redis down or failed): the entry when its
  // scope generations are current. A miss remembers the generations for the fill that
  // follows (Put); a hit needs no fill, so it leaves nothing behind (a Put after a hit, which
  // only a damaged entry causes, is then dropped: safe, and the next read fills).
  std::optional<std::string> Answer(const std::string& key, const redisReply* r) {
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
      misses_++;
      return std::nullopt;
    }
    auto generation = [&](size_t i) {
      const redisReply* g = r->element[i + 1];
      return g->type == REDIS_REPLY_STRING ? ReplyText(g) : std::string_view(kMissing);
    };
    if (r->element[0]->type == REDIS_REPLY_STRING) {
      if (std::optional<std::string> value =
              Unframe(ReplyText(r->element[0]), {generation(1), generation(2), generation(3)})) {
        hits_++;
        return value;
      }
    }
    misses_++;
    PendingRead read{serial_, key, {}, Clock::now()};
    for (size_t i = 0; i < 4; ++i) read.generations[i] = generation(i);
    Remember(std::move(read));
    return std::nullopt;
  }

  // The value of a framed entry whose scope generations are the current ones; nullopt when
  // it is stale (or not ours).
  static std::optional<std::string> Unframe(std::string_view text, const std::array<std::string_view, 3>& scopes) {
    if (text.substr(0, kEntryMagic.size()) != kEntryMagic) return std::nullopt;
    text.remove_prefix(kEntryMagic.size());
    for (size_t i = 0; i < scopes.size(); ++i) {
      if (text.substr(0, scopes[i].size()) != scopes[i]) return std::nullopt;
      text.remove_prefix(scopes[i].size());
      const char separator = i + 1 < scopes.size() ? ' ' : '\n';
      if (text.empty() || text.front() != separator) return std::nullopt;
      text.remove_prefix(1);
    }
    return std::string(text);
  }

  void Remember(PendingRead read) {
    std::erase_if(t_pending, [&](const PendingRead& p) { return p.driver == serial_ && p.key == read.key; });
    t_pending.push_back(std::move(read));
    if (t_pending.size() > kPendingLimit) t_pending.pop_front();
  }

  std::optional<PendingRead> Take(const std::string& key) {
    for (auto it = t_pending.begin(); it != t_pending.end(); ++it) {
      if (it->driver == serial_ && it->key == key) {
        PendingRead out = std::move(*it);
        t_pending.erase(it);
        return out;
      }
    }
    return std::nullopt;
  }

  // An invalidation's outcome. One that did not reach Redis leaves entries other processes
  // may read: the next connection first makes the whole namespace stale.
  Status Bump(const std::optional<Reply>& reply) {
    if (reply && (*reply)->type != REDIS_REPLY_ERROR) return Status::Ok();
    lost_invalidation_ = true;
    errors_++;
    return Status(ErrorCode::kNetwork, "cache: redis at " + masked_uri_ + " did not take an invalidation");
  }

  // One command on a pooled connection; nullopt when Redis is down, slow or refused it.
  std::optional<Reply> Run(const std::vector<std::string_view>& args) {
    Context c = Acquire();
    if (!c) return std::nullopt;
    Reply r = Command(c.get(), args);
    if (!r) {
      std::string message = c->errstr;
      Release(nullptr, false);
      MarkDown(message);
      return std::nullopt;
    }
    Release(std::move(c), true);
    if (r->type == REDIS_REPLY_ERROR) {
      errors_++;
      return std::nullopt;
    }
    return r;
  }

  // The reads of concurrent GetMany calls share round trips, as ioredis's pipelining does: at
  // most kReadLanes pipelines are in flight; a read that finds them all busy queues, and the
  // first queued reader to find a lane free sends every queued read in one pipeline. A read
  // alone goes out at once. Redis (one thread) then spends one socket read and write on many
  // reads instead of one each, which is what bounds cached gets at high concurrency. The
  // replies are in the order of `commands`; empty when Redis is down or failed midway.
  //
  // The sender wakes its batch's readers after letting go of batch_mu_: woken under it, each
  // would at once block on the lock again, one more sleep and wake per reader. The slots are
  // shared so that a reader that returns (a spurious wake that finds its answer) cannot take
  // the slot away from under that late notify.
  struct ReadSlot {
    const ReadCommand* commands = nullptr;
    size_t count = 0;
    std::vector<Reply> replies;  // written by the sender before `done`, read after it
    bool taken = false;          // in a pipeline that is in flight
    bool done = false;
    std::condition_variable cv;  // its own: a finished batch wakes only its readers and the next leader
  };
  std::vector<Reply> Batched(const ReadCommand* commands, size_t count) {
    auto slot = std::make_shared<ReadSlot>();
    slot->commands = commands;
    slot->count = count;
    std::unique_lock lock(batch_mu_);
    batch_queue_.push_back(slot);
    while (!slot->done) {
      if (slot->taken || lanes_busy_ >= kReadLanes) {
        slot->cv.wait(lock);
        continue;
      }
      std::vector<std::shared_ptr<ReadSlot>> batch;
      batch.swap(batch_queue_);
      std::vector<const ReadCommand*> all;
      for (const auto& s : batch) {
        s->taken = true;
        for (size_t i = 0; i < s->count; ++i) all.push_back(&s->commands[i]);
      }
      lanes_busy_++;
      lock.unlock();
      std::vector<Reply> replies = Pipeline(all);
      size_t next = 0;
      for (const auto& s : batch) {  // taken slots are this sender's alone until `done`
        for (size_t i = 0; i < s->count && next < replies.size(); ++i) s->replies.push_back(std::move(replies[next++]));
      }
      lock.lock();
      lanes_busy_--;
      for (const auto& s : batch) s->done = true;
      std::shared_ptr<ReadSlot> leader = batch_queue_.empty() ? nullptr : batch_queue_.front();
      lock.unlock();
      for (const auto& s : batch) {
        if (s != slot) s->cv.notify_one();
      }
      if (leader) leader->cv.notify_one();  // sends the reads queued meanwhile
      return std::move(slot->replies);
    }
    return std::move(slot->replies);
  }

  // MGETs of five keys each, sent together and read back in order; empty when Redis is down or
  // failed midway (every key a miss then).
  std::vector<Reply> Pipeline(const std::vector<const ReadCommand*>& commands) {
    std::vector<Reply> replies;
    if (commands.empty()) return replies;
    Context c = Acquire();
    if (!c) return replies;
    replies.reserve(commands.size());
    for (const ReadCommand* command : commands) {
      if (!command->Append(c.get())) break;
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      void* reply = nullptr;
      if (redisGetReply(c.get(), &reply) != REDIS_OK || reply == nullptr) {
        std::string message = c->errstr;
        Release(nullptr, false);
        MarkDown(message);
        return {};
      }
      replies.emplace_back(static_cast<redisReply*>(reply));
    }
    Release(std::move(c), true);
    return replies;
  }

  bool Down() const { return Clock::now().time_since_epoch().count() < down_until_.load(); }

  Context Acquire() {
    if (Down()) return nullptr;
    {
      std::unique_lock lock(mu_);
      // Waits no longer than a command may take; a pool that stays full is a slow Redis.
      if (!idle_cv_.wait_for(lock, timeout_, [&] { return !idle_.empty() || open_ < pool_size_; })) {
        errors_++;
        return nullptr;
      }
      if (!idle_.empty()) {
        Context c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      open_++;
    }
    auto [c, outcome] = Open(uri_, timeout_);
    if (!c) {
      Release(nullptr, false);
      MarkDown(outcome.message);
      return nullptr;
    }
    if (lost_invalidation_.exchange(false)) {
      Reply r = Command(c.get(), {"INCR", ns_ + "s:"});
      if (!r || r->type == REDIS_REPLY_ERROR) {
        lost_invalidation_ = true;
        Release(nullptr, false);
        return nullptr;
      }
    }
    Recovered();
    return std::move(c);
  }

  // Gives a connection back; a broken one (nullptr) is closed and its slot freed.
  void Release(Context c, bool healthy) {
    {
      std::lock_guard lock(mu_);
      if (healthy && c) {
        idle_.push_back(std::move(c));
      } else {
        open_--;
      }
    }
    idle_cv_.notify_one();
  }

  void MarkDown(const std::string& why) {
    errors_++;
    bool first = false;
    int64_t backoff = 0;
    {
      std::lock_guard lock(mu_);
      first = !degraded_;
      degraded_ = true;
      backoff = backoff_ms_;
      backoff_ms_ = std::min(kMaxBackoffMs, backoff_ms_ * 2);
      // Idle connections of a server that failed are likely broken too.
      open_ -= idle_.size();
      idle_.clear();
    }
    auto until = Clock::now() + std::chrono::milliseconds(backoff);
    down_until_ = until.time_since_epoch().count();
    if (first && on_event_) {
      on_event_(kCacheWarningEvent, Json{{"driver", "redis"},
                                         {"uri", masked_uri_},
                                         {"message", "redis cache unreachable or slow (" + why +
                                                         "): reads go to the store uncached until it answers"}});
    }
  }

  void Recovered() {
    bool was = false;
    {
      std::lock_guard lock(mu_);
      was = degraded_;
      degraded_ = false;
      backoff_ms_ = kFirstBackoffMs;
    }
    if (was && on_event_) on_event_(kCacheRecoveredEvent, Json{{"driver", "redis"}, {"uri", masked_uri_}});
  }

  const RedisUri uri_;
  const std::string masked_uri_;
  const std::string ns_;
  const std::chrono::milliseconds timeout_;
  const size_t max_entries_;
  const size_t max_entry_bytes_;
  const size_t pool_size_;
  const CacheEventFn on_event_;
  const uint64_t serial_;

  std::mutex batch_mu_;  // the reads waiting for a lane (Batched)
  std::vector<std::shared_ptr<ReadSlot>> batch_queue_;
  size_t lanes_busy_ = 0;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<Context> idle_;
  size_t open_ = 0;
  bool degraded_ = false;
  int64_t backoff_ms_ = kFirstBackoffMs;
  std::atomic<int64_t> down_until_{0};  // steady clock ticks
  std::atomic<bool> lost_invalidation_{false};

  std::atomic<uint64_t> hits_{0}, misses_{0}, puts_{0}, evictions_{0}, invalidations_{0}, dropped_{0}, errors_{0};
};

}  // namespace

std::string RedisKeyPrefix(std::string_view database_prefix) {
  while (!database_prefix.empty() && database_prefix.front() == '/') database_prefix.remove_prefix(1);
  while (!database_prefix.empty() && database_prefix.back() == '/') database_prefix.remove_suffix(1);
  return "s3db:" + std::string(database_prefix) + ":";
}

Result<std::unique_ptr<CacheDriver>> NewRedisCache(const CacheOptions& options, CacheEventFn on_event) {
  if (Status s = plugins::ValidateCacheBounds(options); !s.ok()) return s;
  Result<RedisUri> uri = plugins::ParseRedisUri(options.uri);
  if (!uri.ok()) return uri.status();
  if (options.timeout.count() <= 0) return Status(ErrorCode::kInvalidArgument, "cache: timeout must be positive");
  CacheOptions o = options;
  if (o.key_prefix.empty()) o.key_prefix = RedisKeyPrefix("");
  if (o.connections == 0) o.connections = 8;
  auto driver = std::make_unique<RedisCache>(std::move(*uri), o, MaskedRedisUri(options.uri), std::move(on_event));
  if (Status s = driver->Probe(); !s.ok()) return s;
  return std::unique_ptr<CacheDriver>(std::move(driver));
}

}  // namespace s3db
