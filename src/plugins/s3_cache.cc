// The s3 cache driver: one object per entry under "<prefix>/plugin=cache/", the expiry time
// in metadata "exp" (milliseconds since the epoch, decimal). Works on any ObjectStore, so it is
// tested on the memory and file stores as well as on RGW.
#include <algorithm>
#include <atomic>
#include <charconv>

#include "plugins/cache_internal.h"
#include "s3db/cache.h"
#include "util/crypto_hash.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db {
namespace {

constexpr const char* kExpiresKey = "exp";
// Encoded keys longer than this are cut to kKeptChars and given the key's hash, so an object
// key stays far below S3's 1024 bytes whatever the database prefix.
constexpr size_t kMaxEncodedKey = 512;
constexpr size_t kKeptChars = 440;

bool KeptAsIs(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '=' || c == '/';
}

// Percent-encoding byte by byte keeps prefixes: the encoding of a prefix of a key is a prefix
// of the key's encoding, which is what lets InvalidatePrefix list. '~' is always encoded, so it
// marks the hashed long form alone.
std::string Encode(std::string_view key) {
  return util::PercentEncodeKeeping(key, [](size_t, unsigned char c) { return KeptAsIs(c); });
}

std::string EncodeKey(std::string_view key) {
  std::string encoded = Encode(key);
  if (encoded.size() <= kMaxEncodedKey) return encoded;
  return encoded.substr(0, kKeptChars) + "~" + util::HexEncode(util::Sha256(key));
}

// A list prefix that covers every key starting with `prefix`, in either form. Cutting a long
// one to kKeptChars covers more than asked (safe: extra entries are only invalidated).
std::string EncodePrefix(std::string_view prefix) {
  std::string encoded = Encode(prefix);
  if (encoded.size() > kKeptChars) encoded.resize(kKeptChars);
  return encoded;
}

class S3Cache : public CacheDriver {
 public:
  S3Cache(ObjectStore& store, std::string key_prefix, const CacheOptions& options)
      : store_(store),
        key_prefix_(std::move(key_prefix)),
        clock_(options.clock ? options.clock : CacheClock(util::NowMs)),
        max_entry_bytes_(options.max_entry_bytes) {}

  std::optional<std::string> Get(const std::string& key) override {
    const std::string object_key = key_prefix_ + EncodeKey(key);
    Result<GetResult> got = store_.Get(object_key);
    if (!got.ok()) {
      if (got.code() != ErrorCode::kNotFound) errors_++;
      misses_++;
      return std::nullopt;
    }
    int64_t expires = 0;
    auto it = got->info.metadata.find(kExpiresKey);
    const std::string text = it == got->info.metadata.end() ? "" : it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), expires);
    if (ec != std::errc() || end != text.data() + text.size() || expires <= clock_()) {
      // Expired (or not ours to read): remove it now, DELETE is free.
      if (!store_.Delete(object_key).ok()) errors_++;
      expirations_++;
      misses_++;
      return std::nullopt;
    }
    hits_++;
    return std::move(got->body);
  }

  Status Put(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) override {
    // Not cacheable: store nothing. An older entry is not deleted (that is a request; the
    // caller only fills after a miss, so there is none that is still fresh).
    if (ttl.count() <= 0 || value.size() > max_entry_bytes_) return Status::Ok();
    PutRequest request;
    request.key = key_prefix_ + EncodeKey(key);
    request.metadata[kExpiresKey] = std::to_string(clock_() + ttl.count());
    request.body = std::string(value);
    request.content_type = "application/octet-stream";
    Result<ObjectInfo> put = store_.Put(request);
    if (!put.ok()) {
      errors_++;
      return put.status();
    }
    puts_++;
    return Status::Ok();
  }

  Status Invalidate(const std::string& key) override {
    invalidations_++;
    Status s = store_.Delete(key_prefix_ + EncodeKey(key));
    if (!s.ok()) errors_++;
    return s;
  }

  Status InvalidatePrefix(const std::string& prefix) override {
    invalidations_++;
    return DeleteUnder(key_prefix_ + EncodePrefix(prefix));
  }

  Status Clear() override { return DeleteUnder(key_prefix_); }

  CacheStats stats() const override {
    CacheStats s;
    s.hits = hits_;
    s.misses = misses_;
    s.puts = puts_;
    s.expirations = expirations_;
    s.invalidations = invalidations_;
    s.errors = errors_;
    return s;
  }

 private:
  // Lists everything first and then deletes, so the deletes cannot disturb the paging.
  Status DeleteUnder(const std::string& list_prefix) {
    std::vector<std::string> keys;
    ListRequest request;
    request.prefix = list_prefix;
    while (true) {
      Result<ListPage> page = store_.List(request);
      if (!page.ok()) {
        errors_++;
        return page.status();
      }
      for (const ObjectInfo& object : page->objects) keys.push_back(object.key);
      if (!page->truncated) break;
      request.continuation_token = page->next_continuation_token;
    }
    Status result;
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                     keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
      Result<DeleteManyResult> deleted = store_.DeleteMany(batch);
      if (!deleted.ok()) {
        errors_++;
        result = deleted.status();
      } else if (!deleted->errors.empty()) {
        errors_++;
        result = deleted->errors.front().second;
      }
    }
    return result;
  }

  ObjectStore& store_;
  const std::string key_prefix_;
  const CacheClock clock_;
  const size_t max_entry_bytes_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, puts_{0}, expirations_{0}, invalidations_{0}, errors_{0};
};

}  // namespace

std::string S3CachePrefix(std::string_view database_prefix) {
  while (!database_prefix.empty() && database_prefix.front() == '/') database_prefix.remove_prefix(1);
  while (!database_prefix.empty() && database_prefix.back() == '/') database_prefix.remove_suffix(1);
  return database_prefix.empty() ? "plugin=cache/" : std::string(database_prefix) + "/plugin=cache/";
}

std::unique_ptr<CacheDriver> NewS3Cache(ObjectStore& store, std::string key_prefix, const CacheOptions& options) {
  ThrowIfError(plugins::ValidateCacheBounds(options));
  return std::make_unique<S3Cache>(store, std::move(key_prefix), options);
}

}  // namespace s3db
