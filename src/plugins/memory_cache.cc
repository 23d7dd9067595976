// The memory cache driver: an LruIndex whose payload is the value itself.
#include <mutex>

#include "plugins/cache_internal.h"
#include "s3db/cache.h"

namespace s3db {
namespace {

class MemoryCache : public plugins::LruCacheDriver {
 public:
  explicit MemoryCache(const CacheOptions& options) : LruCacheDriver(options) {}

  std::optional<std::string> Get(const std::string& key) override {
    std::lock_guard lock(mu_);
    auto* e = index_.Find(key);
    if (e == nullptr) {
      stats_.misses++;
      return std::nullopt;
    }
    if (e->expires_ms <= clock_()) {
      index_.Erase(key);
      stats_.expirations++;
      stats_.misses++;
      return std::nullopt;
    }
    index_.Touch(*e);
    stats_.hits++;
    return e->payload;
  }

  Status Put(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) override {
    const size_t bytes = key.size() + value.size();
    std::lock_guard lock(mu_);
    if (ttl.count() <= 0 || value.size() > max_entry_bytes_ || !index_.Fits(bytes)) {
      index_.Erase(key);  // an older value must not outlive the one that replaced it
      return Status::Ok();
    }
    index_.Upsert(key, std::string(value), bytes, clock_() + ttl.count());
    stats_.puts++;
    stats_.evictions += index_.EvictOverBounds().size();
    return Status::Ok();
  }

  Status Invalidate(const std::string& key) override {
    std::lock_guard lock(mu_);
    stats_.invalidations++;
    index_.Erase(key);
    return Status::Ok();
  }

  Status InvalidatePrefix(const std::string& prefix) override {
    std::lock_guard lock(mu_);
    stats_.invalidations++;
    index_.ErasePrefix(prefix);
    return Status::Ok();
  }

  Status Clear() override {
    std::lock_guard lock(mu_);
    index_.EraseAll();
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<CacheDriver> NewMemoryCache(const CacheOptions& options) {
  ThrowIfError(plugins::ValidateCacheBounds(options));
  return std::make_unique<MemoryCache>(options);
}

}  // namespace s3db
