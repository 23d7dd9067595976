// The file cache driver. One file per entry, "<sha256(key) hex>.entry":
//
//   s3db-cache 1\n
//   <expires_ms> <key bytes> <value bytes>\n
//   <key><value>
//
// The key is kept in the file so a reopen can rebuild the index (and a hash collision, or a
// stray file, is detected). Files are written under a temporary name and renamed, so a reader
// sees a whole entry or none; a torn file (crash mid-write, no fsync: a cache need not survive
// power loss) fails the length check and is a miss.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <system_error>

#include "plugins/cache_internal.h"
#include "s3db/cache.h"
#include "util/crypto_hash.h"
#include "util/time_format.h"

namespace s3db {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "s3db-cache 1\n";
constexpr std::string_view kEntrySuffix = ".entry";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr size_t kMaxKeyBytes = 4096;  // longer keys are not cached (the read limit counts on it)

std::string FileName(const std::string& key) { return util::HexEncode(util::Sha256(key)) + std::string(kEntrySuffix); }

struct Header {
  int64_t expires_ms = 0;
  size_t key_bytes = 0;
  size_t value_bytes = 0;
  size_t header_bytes = 0;  // magic + the numbers line
};

// Parses the magic and the numbers line at the start of `text`.
std::optional<Header> ParseHeader(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  text.remove_prefix(kMagic.size());
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos || eol > 64) return std::nullopt;
  std::string line(text.substr(0, eol));
  Header h;
  long long expires = 0;
  unsigned long long key_bytes = 0, value_bytes = 0;
  int consumed = 0;
  if (std::sscanf(line.c_str(), "%lld %llu %llu%n", &expires, &key_bytes, &value_bytes, &consumed) != 3 ||
      static_cast<size_t>(consumed) != line.size()) {
    return std::nullopt;
  }
  h.expires_ms = expires;
  h.key_bytes = key_bytes;
  h.value_bytes = value_bytes;
  h.header_bytes = kMagic.size() + eol + 1;
  return h;
}

// Reads at most `limit` bytes of a file; nullopt when it cannot be read or is longer.
std::optional<std::string> ReadFile(const fs::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data;
  data.resize(limit + 1);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return std::nullopt;
  size_t n = static_cast<size_t>(in.gcount());
  if (n > limit) return std::nullopt;
  data.resize(n);
  return data;
}

struct Loaded {
  Header header;
  std::string key;
  std::string value;
};

// A whole entry file, checked: magic, lengths that add up to the file, and (when given) the key.
std::optional<Loaded> ReadEntry(const fs::path& path, size_t limit) {
  std::optional<std::string> data = ReadFile(path, limit);
  if (!data) return std::nullopt;
  std::optional<Header> h = ParseHeader(*data);
  if (!h || h->header_bytes + h->key_bytes + h->value_bytes != data->size()) return std::nullopt;
  Loaded out;
  out.header = *h;
  out.key = data->substr(h->header_bytes, h->key_bytes);
  out.value = data->substr(h->header_bytes + h->key_bytes);
  return out;
}

class FileCache : public plugins::LruCacheDriver {
 public:
  FileCache(const CacheOptions& options, fs::path dir) : LruCacheDriver(options), dir_(std::move(dir)) {}

  // Rebuilds the index from the directory: drops temporary files (a crashed writer's), torn,
  // foreign and expired entries, then applies the bounds, newest files kept.
  void Load() {
    struct Found {
      std::string key;
      std::string file;
      size_t bytes;
      int64_t expires_ms;
      fs::file_time_type mtime;
    };
    std::vector<Found> found;
    const int64_t now = clock_();
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.size() > kTempSuffix.size() && name.ends_with(kTempSuffix)) {
        fs::remove(entry.path(), ec);
        continue;
      }
      if (!name.ends_with(kEntrySuffix) || !entry.is_regular_file(ec)) continue;
      std::optional<Loaded> loaded = ReadEntry(entry.path(), ReadLimit());
      if (!loaded || FileName(loaded->key) != name || loaded->header.expires_ms <= now) {
        fs::remove(entry.path(), ec);
        continue;
      }
      found.push_back(Found{loaded->key, name, loaded->key.size() + loaded->value.size(), loaded->header.expires_ms,
                            entry.last_write_time(ec)});
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime > b.mtime; });
    std::lock_guard lock(mu_);
    for (Found& f : found) index_.AddOldest(f.key, std::move(f.file), f.bytes, f.expires_ms);
    for (const std::string& file : index_.EvictOverBounds()) (void)Remove(file);  // counted in stats_.errors
  }

  std::optional<std::string> Get(const std::string& key) override {
    std::string file;
    {
      std::lock_guard lock(mu_);
      auto* e = index_.Find(key);
      if (e == nullptr) {
        stats_.misses++;
        return std::nullopt;
      }
      if (e->expires_ms <= clock_()) {
        (void)Remove(e->payload);
        index_.Erase(key);
        stats_.expirations++;
        stats_.misses++;
        return std::nullopt;
      }
      index_.Touch(*e);
      file = e->payload;
    }
    // Read outside the lock: a concurrent rename replaces the file whole, an unlink makes
    // this a miss. The file's own header is the authority (another process may have written it).
    std::optional<Loaded> loaded = ReadEntry(dir_ / file, ReadLimit());
    std::lock_guard lock(mu_);
    if (!loaded || loaded->key != key || loaded->header.expires_ms <= clock_()) {
      std::error_code ec;
      if (!fs::exists(dir_ / file, ec)) index_.Erase(key);
      stats_.misses++;
      return std::nullopt;
    }
    stats_.hits++;
    return std::move(loaded->value);
  }

  Status Put(const std::string& key, std::string_view value, std::chrono::milliseconds ttl) override {
    const size_t bytes = key.size() + value.size();
    const std::string file = FileName(key);
    if (ttl.count() <= 0 || key.size() > kMaxKeyBytes || value.size() > max_entry_bytes_ || !index_fits(bytes)) {
      return Invalidate(key, false);  // an older value must not outlive the one that replaced it
    }
    const int64_t expires = clock_() + ttl.count();
    const fs::path temp = dir_ / (file + "." + util::RandomAlnum(10) + std::string(kTempSuffix));
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << kMagic << expires << ' ' << key.size() << ' ' << value.size() << '\n';
      out.write(key.data(), static_cast<std::streamsize>(key.size()));
      out.write(value.data(), static_cast<std::streamsize>(value.size()));
      out.close();
      if (!out) {
        std::error_code ec;
        fs::remove(temp, ec);
        std::lock_guard lock(mu_);
        stats_.errors++;
        return Status(ErrorCode::kIOError, "file cache: cannot write " + temp.string());
      }
    }
    std::lock_guard lock(mu_);
    std::error_code ec;
    fs::rename(temp, dir_ / file, ec);
    if (ec) {
      fs::remove(temp, ec);
      stats_.errors++;
      return Status(ErrorCode::kIOError, "file cache: cannot publish " + file + ": " + ec.message());
    }
    index_.Upsert(key, file, bytes, expires);
    stats_.puts++;
    for (const std::string& evicted : index_.EvictOverBounds()) {
      (void)Remove(evicted);
      stats_.evictions++;
    }
    return Status::Ok();
  }

  Status Invalidate(const std::string& key) override { return Invalidate(key, true); }

  Status InvalidatePrefix(const std::string& prefix) override {
    std::lock_guard lock(mu_);
    stats_.invalidations++;
    Status result;
    for (const std::string& file : index_.ErasePrefix(prefix)) {
      if (Status s = Remove(file); !s.ok()) result = s;
    }
    return result;
  }

  Status Clear() override {
    std::lock_guard lock(mu_);
    index_.EraseAll();
    // Every entry file, also ones this process never indexed (another process's).
    std::error_code ec;
    Status result;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
      if (entry.path().filename().string().ends_with(kEntrySuffix)) {
        if (Status s = Remove(entry.path().filename().string()); !s.ok()) result = s;
      }
    }
    if (ec) return Status(ErrorCode::kIOError, "file cache: cannot list " + dir_.string() + ": " + ec.message());
    return result;
  }

 private:
  size_t ReadLimit() const { return kMagic.size() + 64 + kMaxKeyBytes + max_entry_bytes_; }
  bool index_fits(size_t bytes) {
    std::lock_guard lock(mu_);
    return index_.Fits(bytes);
  }

  Status Invalidate(const std::string& key, bool count) {
    std::lock_guard lock(mu_);
    if (count) stats_.invalidations++;
    index_.Erase(key);
    // By name, not by index: the file may be another process's, or from before a reopen.
    return Remove(FileName(key));
  }

  // Unlinks an entry file (mu_ held, so a concurrent Put's rename is ordered with it).
  Status Remove(const std::string& file) {
    std::error_code ec;
    fs::remove(dir_ / file, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) {
      stats_.errors++;
      return Status(ErrorCode::kIOError, "file cache: cannot remove " + file + ": " + ec.message());
    }
    return Status::Ok();
  }

  const fs::path dir_;
};

}  // namespace

Result<std::unique_ptr<CacheDriver>> NewFileCache(const CacheOptions& options) {
  if (Status s = plugins::ValidateCacheBounds(options); !s.ok()) return s;
  if (options.directory.empty()) return Status(ErrorCode::kInvalidArgument, "file cache: no directory given");
  std::error_code ec;
  fs::create_directories(options.directory, ec);
  if (ec || !fs::is_directory(options.directory, ec)) {
    return Status(ErrorCode::kIOError,
                  "file cache: cannot use directory " + options.directory + (ec ? ": " + ec.message() : ""));
  }
  auto cache = std::make_unique<FileCache>(options, fs::path(options.directory));
  cache->Load();
  return std::unique_ptr<CacheDriver>(std::move(cache));
}

}  // namespace s3db
