// Helpers the cache drivers and CachePlugin share. Internal.
//
// May call: util/ and the public headers; the stores only through ObjectStore.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include "plugins/cache_lru.h"
#include "s3db/cache.h"
#include "util/time_format.h"

namespace s3db::plugins {

// The options every driver needs (ttl, bounds); CacheOptions::Validate adds the driver name
// and the file driver's directory.
Status ValidateCacheBounds(const CacheOptions& options);

// What the memory and file drivers share: the clock, the per-entry bound, an LruIndex behind
// one lock and the counters, so stats() is written once. The payload is the value (memory)
// or the entry's file name (file).
class LruCacheDriver : public CacheDriver {
 public:
  CacheStats stats() const override {
    std::lock_guard lock(mu_);
    CacheStats s = stats_;
    s.entries = index_.size();
    s.bytes = index_.bytes();
    return s;
  }

 protected:
  explicit LruCacheDriver(const CacheOptions& options)
      : clock_(options.clock ? options.clock : CacheClock(util::NowMs)),
        max_entry_bytes_(options.max_entry_bytes),
        index_(options.max_entries, options.max_bytes) {}

  const CacheClock clock_;
  const size_t max_entry_bytes_;
  mutable std::mutex mu_;
  LruIndex<std::string> index_;
  CacheStats stats_;
};

}  // namespace s3db::plugins
