// FileStore: one file per object under a root directory (the embedded default backend).
//
// Layout under the root:
//   <escaped key path>   one file per object (file_key_codec.h has the key -> path mapping):
//                        a header line of JSON {"v","etag","content_type","last_modified_ms",
//                        "size","metadata"} then '\n' then the body bytes, so metadata and
//                        body are published together by one rename.
//   .locks/00 .. 63      lock stripes; a writer holds flock(LOCK_EX) on stripe
//                        hash(key) % 64 around its check-and-rename.
//   .../.tmp-<random>    a write in progress (or left by a crash); ignored by reads and List.
// Names starting with '.' are never produced by the key codec, so they cannot collide with
// objects. Directories are never removed (another writer may be about to use one), so empty
// directories may remain after deletes; they cost nothing but an inode.
//
// Writes: the new file is written beside its target under a temporary name (and fsynced
// when FileStoreOptions::fsync), then renamed over the target while the stripe lock is held.
// Every mutation takes the lock, not only conditional ones: an unconditional Put landing
// between another writer's check and rename would otherwise be silently undone.
// Reads take no lock: rename is atomic, so a reader opens either the old or the new file.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "s3db/stores.h"
#include "store/file_key_codec.h"
#include "store/list_paging.h"
#include "store/metadata_rules.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db {
namespace {

constexpr int kLockStripes = 64;
constexpr const char* kLocksDirectory = ".locks";
constexpr const char* kTempPrefix = ".tmp-";
constexpr int kHeaderVersion = 1;
// Metadata (2 KB, at most doubled by JSON escaping) and the content type (1 KB) keep a
// header far below this, so a longer first line means the file is not ours.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string ErrnoText(int err) { return std::system_category().message(err); }

Status IoError(const std::string& action, const std::string& path, int err) {
  return Status(ErrorCode::kIOError, action + " '" + path + "': " + ErrnoText(err));
}

Status Corrupt(const std::string& path, const std::string& why) {
  return Status(ErrorCode::kCorruption, "object file '" + path + "' is corrupt: " + why);
}

Status NotFound(const std::string& key) {
  return Status(ErrorCode::kNotFound, "object '" + key + "' not found");
}

// ENOTDIR: a component of the path is a file. Our layout never makes one, but a path that
// cannot exist is an absent object, not an I/O failure.
bool IsAbsent(int err) { return err == ENOENT || err == ENOTDIR; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and reports the error close() returns (it can carry a delayed write error).
  int Close() {
    int result = ::close(std::exchange(fd_, -1));
    return result == 0 ? 0 : errno;
  }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }
  int fd_ = -1;
};

UniqueFd OpenFd(const std::string& path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return UniqueFd(fd);
}

// Reads until `out` holds `limit` bytes or EOF; returns 0 or errno.
int ReadUpTo(int fd, size_t limit, std::string* out) {
  char buffer[16 * 1024];
  while (out->size() < limit) {
    size_t want = std::min(sizeof(buffer), limit - out->size());
    ssize_t n = ::read(fd, buffer, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out->append(buffer, static_cast<size_t>(n));
  }
  return 0;
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

Status FsyncDirectory(const std::string& path) {
  UniqueFd fd = OpenFd(path, O_RDONLY | O_DIRECTORY);
  if (!fd.valid()) return IoError("cannot open directory", path, errno);
  if (::fsync(fd.get()) != 0) return IoError("cannot fsync directory", path, errno);
  return Status::Ok();
}

std::string ParentOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// FNV-1a: stable across processes and builds, which std::hash does not promise.
uint64_t StableHash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

struct ObjectHeader {
  std::string etag;
  std::string content_type;
  int64_t last_modified_ms = 0;
  uint64_t size = 0;
  Metadata metadata;
};

std::string SerializeHeader(const ObjectHeader& header) {
  nlohmann::json json = {
      {"v", kHeaderVersion},
      {"etag", header.etag},
      {"content_type", header.content_type},
      {"last_modified_ms", header.last_modified_ms},
      {"size", header.size},
      {"metadata", header.metadata},
  };
  // Every string in it is ASCII (validated), so dump() cannot throw; it escapes control
  // characters, so the header never contains the '\n' that ends it.
  return json.dump() + "\n";
}

Result<ObjectHeader> ParseHeader(std::string_view line, const std::string& path) {
  nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Corrupt(path, "header is not JSON");
  auto field = [&](const char* name) -> const nlohmann::json* {
    auto it = json.find(name);
    return it == json.end() ? nullptr : &*it;
  };
  const nlohmann::json* version = field("v");
  const nlohmann::json* etag = field("etag");
  const nlohmann::json* content_type = field("content_type");
  const nlohmann::json* last_modified = field("last_modified_ms");
  const nlohmann::json* size = field("size");
  const nlohmann::json* metadata = field("metadata");
  if (!version || !version->is_number_integer() || version->get<int64_t>() != kHeaderVersion) {
    return Corrupt(path, "unknown header version");
  }
  if (!etag || !etag->is_string() || !content_type || !content_type->is_string() ||
      !last_modified || !last_modified->is_number_integer() || !size ||
      !size->is_number_unsigned() || !metadata || !metadata->is_object()) {
    return Corrupt(path, "header misses a field");
  }
  ObjectHeader header;
  header.etag = etag->get<std::string>();
  header.content_type = content_type->get<std::string>();
  header.last_modified_ms = last_modified->get<int64_t>();
  header.size = size->get<uint64_t>();
  for (auto it = metadata->begin(); it != metadata->end(); ++it) {
    if (!it.value().is_string()) return Corrupt(path, "metadata value is not a string");
    header.metadata.emplace(it.key(), it.value().get<std::string>());
  }
  return header;
}

// Reads the header of the object file at `path`; kNotFound when there is none. Checks the
// file length against the header so a truncated file is reported, not served.
Result<ObjectHeader> ReadHeader(const std::string& path, const std::string& key) {
  UniqueFd fd = OpenFd(path, O_RDONLY);
  if (!fd.valid()) {
    if (IsAbsent(errno)) return NotFound(key);
    return IoError("cannot open", path, errno);
  }
  std::string data;
  size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    size_t before = data.size();
    if (int err = ReadUpTo(fd.get(), before + 4096, &data); err != 0) {
      return IoError("cannot read", path, err);
    }
    if (data.size() == before) return Corrupt(path, "no header line");
    newline = data.find('\n', before);
    if (newline == std::string::npos && data.size() > kMaxHeaderBytes) {
      return Corrupt(path, "header line too long");
    }
  }
  Result<ObjectHeader> header = ParseHeader(std::string_view(data).substr(0, newline), path);
  if (!header.ok()) return header;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return IoError("cannot stat", path, errno);
  if (static_cast<uint64_t>(st.st_size) != newline + 1 + header->size) {
    return Corrupt(path, "length does not match its header");
  }
  return header;
}

ObjectInfo InfoFrom(const std::string& key, ObjectHeader header) {
  ObjectInfo info;
  info.key = key;
  info.etag = std::move(header.etag);
  info.last_modified_ms = header.last_modified_ms;
  info.size = header.size;
  info.content_type = std::move(header.content_type);
  info.metadata = std::move(header.metadata);
  return info;
}

// Held while a writer checks and replaces an object; released by the destructor.
class StripeLock {
 public:
  static Result<StripeLock> Acquire(const std::string& lock_path) {
    // A descriptor of our own per acquisition: flock excludes other open file descriptions,
    // so threads sharing one descriptor would not exclude each other.
    UniqueFd fd = OpenFd(lock_path, O_RDWR | O_CREAT, 0644);
    if (!fd.valid()) return IoError("cannot open lock file", lock_path, errno);
    int result;
    do {
      result = ::flock(fd.get(), LOCK_EX);
    } while (result != 0 && errno == EINTR);
    if (result != 0) return IoError("cannot lock", lock_path, errno);
    return StripeLock(std::move(fd));
  }

 private:
  explicit StripeLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// The decoded, sorted entries of one directory, reused while the directory is unchanged.
// Without it every List page re-reads and re-sorts whole directories, so listing N keys
// of one flat directory costs N^2/1000 entry reads; with it a page of a settled directory
// costs a binary search. A directory counts as unchanged while its inode and mtime are;
// one modified in the last two seconds is never cached, since a coarse-grained mtime could
// hide a change made just after the read (git's "racy" rule).
struct DirEntry {
  std::string order_key;  // bytes, plus '/' for a segment directory: the subtree's least key
  std::string bytes;
  std::string name;
  store::EntryKind kind;
};
using DirListing = std::vector<DirEntry>;

class DirCache {
 public:
  Result<std::shared_ptr<const DirListing>> Get(const std::string& dir) {
    struct stat st;
    if (::lstat(dir.c_str(), &st) != 0) {
      if (IsAbsent(errno)) return std::shared_ptr<const DirListing>(std::make_shared<DirListing>());
      return IoError("cannot stat directory", dir, errno);
    }
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    {
      std::lock_guard lock(mu_);
      auto it = entries_.find(dir);
      if (it != entries_.end() && it->second.ino == st.st_ino && it->second.mtime_ns == mtime_ns) {
        return it->second.listing;
      }
    }
    Result<std::shared_ptr<const DirListing>> read = Read(dir);
    if (!read.ok()) return read;
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    if (now_ns - mtime_ns > 2'000'000'000) {
      std::lock_guard lock(mu_);
      if (entries_.size() >= kMaxDirectories) entries_.clear();  // crude bound; rebuilt on demand
      entries_[dir] = Cached{st.st_ino, mtime_ns, *read};
    }
    return read;
  }

 private:
  static constexpr size_t kMaxDirectories = 256;
  struct Cached {
    ino_t ino;
    int64_t mtime_ns;
    std::shared_ptr<const DirListing> listing;
  };

  static Result<std::shared_ptr<const DirListing>> Read(const std::string& dir) {
    auto listing = std::make_shared<DirListing>();
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      if (IsAbsent(ec.value())) return std::shared_ptr<const DirListing>(listing);
      return IoError("cannot list directory", dir, ec.value());
    }
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().native();
      // symlink_status: never follow a link, which could lead outside the root.
      std::filesystem::file_type type = it->symlink_status(ec).type();
      if (ec) break;
      bool is_directory = type == std::filesystem::file_type::directory;
      if (!is_directory && type != std::filesystem::file_type::regular) continue;
      std::optional<store::DecodedEntry> entry = store::DecodeEntryName(name, is_directory);
      if (!entry) continue;
      std::string order_key = entry->bytes;
      if (entry->kind == store::EntryKind::kSegmentDirectory) order_key.push_back('/');
      listing->push_back({std::move(order_key), std::move(entry->bytes), std::move(name), entry->kind});
    }
    if (ec) return IoError("cannot list directory", dir, ec.value());
    std::sort(listing->begin(), listing->end(),
              [](const DirEntry& a, const DirEntry& b) { return a.order_key < b.order_key; });
    return std::shared_ptr<const DirListing>(listing);
  }

  std::mutex mu_;
  std::unordered_map<std::string, Cached> entries_;
};

// Walks the directories that can hold keys of one List page and keeps the smallest
// max_keys + 1 keys that qualify (the extra one tells whether the page is truncated).
class ListWalker {
 public:
  ListWalker(const std::string& root, const store::ListBounds& bounds, DirCache& cache)
      : root_(root), bounds_(bounds), capacity_(static_cast<size_t>(bounds.max_keys) + 1), cache_(cache) {}

  Status Run() {
    // Start below the segments the prefix names completely: "a/b/c" starts in a/b.
    // (rfind gives npos without a '/', and npos + 1 == 0: start at the root.)
    std::string start_key = bounds_.prefix.substr(0, bounds_.prefix.rfind('/') + 1);
    return Walk(store::DirectoryPathFor(start_key), start_key);
  }

  // Ascending binary order.
  std::vector<std::string> TakeSortedKeys() {
    std::vector<std::string> keys;
    keys.reserve(smallest_.size());
    while (!smallest_.empty()) {
      keys.push_back(smallest_.top());
      smallest_.pop();
    }
    std::reverse(keys.begin(), keys.end());
    return keys;
  }

 private:
  // Every key below a directory starts with `key_prefix`; skip the directory when none of
  // them can pass the filters.
  bool MayHoldWantedKeys(const std::string& key_prefix) const {
    bool prefix_compatible = util::StartsWith(key_prefix, bounds_.prefix) ||
                             util::StartsWith(bounds_.prefix, key_prefix);
    if (!prefix_compatible) return false;
    // If key_prefix <= after and is not a prefix of it, every extension is < after.
    if (key_prefix <= bounds_.after && !util::StartsWith(bounds_.after, key_prefix)) return false;
    // Every key below is > key_prefix >= the largest kept key: none would be kept.
    if (smallest_.size() == capacity_ && key_prefix >= smallest_.top()) return false;
    return true;
  }

  // Keeps `key` if it passes the filters and is among the smallest seen. Only a file at the
  // very path the key maps to counts, so a foreign file cannot alias a key (checked last,
  // as it is the costly test).
  void Offer(std::string key, const std::string& relative_path) {
    if (!util::StartsWith(key, bounds_.prefix) || key <= bounds_.after) return;
    bool full = smallest_.size() == capacity_;
    if (full && key >= smallest_.top()) return;
    if (store::ObjectFilePath(key) != relative_path) return;
    if (full) smallest_.pop();
    smallest_.push(std::move(key));
  }

  Status Walk(const std::string& relative_dir, const std::string& key_prefix) {
    std::string dir = relative_dir.empty() ? root_ : root_ + "/" + relative_dir;
    Result<std::shared_ptr<const DirListing>> listing = cache_.Get(dir);
    if (!listing.ok()) return listing.status();
    const DirListing& entries = **listing;
    // Entries are in key order; the first that can hold a key after `after` is the one just
    // before the first entry >= after (it may be a directory holding `after` itself).
    // The same holds for the list prefix: keys before it cannot match.
    auto start_at = [&](const std::string& bound) -> size_t {
      if (!util::StartsWith(bound, key_prefix)) return 0;
      const std::string rest = bound.substr(key_prefix.size());
      auto pos = std::lower_bound(entries.begin(), entries.end(), rest,
                                  [](const DirEntry& e, const std::string& r) { return e.order_key < r; });
      size_t at = static_cast<size_t>(pos - entries.begin());
      return at > 0 ? at - 1 : 0;
    };
    const size_t first = std::max(start_at(bounds_.after), start_at(bounds_.prefix));
    for (size_t i = first; i < entries.size(); ++i) {
      const DirEntry& entry = entries[i];
      const std::string least = key_prefix + entry.order_key;  // no key below is smaller
      // Every key from here on is >= least: past the page once it is full, and past the
      // prefix once least is beyond it without starting with it.
      if (smallest_.size() == capacity_ && least >= smallest_.top()) break;
      if (least > bounds_.prefix && !util::StartsWith(least, bounds_.prefix)) break;
      std::string child_relative = relative_dir.empty() ? entry.name : relative_dir + "/" + entry.name;
      switch (entry.kind) {
        case store::EntryKind::kObjectFile:
          Offer(key_prefix + entry.bytes, child_relative);
          break;
        case store::EntryKind::kSegmentDirectory:
        case store::EntryKind::kChunkDirectory: {
          std::string child_prefix = key_prefix + entry.order_key;
          if (!MayHoldWantedKeys(child_prefix)) break;
          if (Status status = Walk(child_relative, child_prefix); !status.ok()) return status;
          break;
        }
      }
    }
    return Status::Ok();
  }

  const std::string& root_;
  const store::ListBounds& bounds_;
  const size_t capacity_;
  DirCache& cache_;
  std::priority_queue<std::string> smallest_;  // max-heap of the smallest keys seen
};

class FileStore final : public ObjectStore {
 public:
  FileStore(FileStoreOptions options, std::string root)
      : options_(std::move(options)), root_(std::move(root)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    Result<store::ValidatedPut> validated = store::ValidatePut(request, capabilities());
    if (!validated.ok()) return validated.status();

    const std::string path = ObjectPath(request.key);
    const std::string dir = ParentOf(path);
    if (Status status = EnsureDirectories(dir); !status.ok()) return status;

    ObjectHeader header;
    header.etag = std::move(validated->etag);
    header.content_type = std::move(validated->content_type);
    header.last_modified_ms = NowMs();
    header.size = request.body.size();
    header.metadata = std::move(validated->metadata);

    const std::string temp_path = dir + "/" + kTempPrefix + util::RandomAlnum(16);
    if (Status status = WriteTempFile(temp_path, SerializeHeader(header), request.body);
        !status.ok()) {
      return status;
    }
    Status published = PublishLocked(request, temp_path, path);
    if (!published.ok()) {
      ::unlink(temp_path.c_str());
      return published;
    }
    if (options_.fsync) {
      if (Status status = FsyncDirectory(dir); !status.ok()) return status;
    }
    return InfoFrom(request.key, std::move(header));
  }

  Result<GetResult> Get(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    const std::string path = ObjectPath(key);
    UniqueFd fd = OpenFd(path, O_RDONLY);
    if (!fd.valid()) {
      if (IsAbsent(errno)) return NotFound(key);
      return IoError("cannot open", path, errno);
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return IoError("cannot stat", path, errno);
    std::string data;
    data.reserve(static_cast<size_t>(st.st_size));
    // Read one byte past the expected size so a file that grew is noticed, not cut.
    if (int err = ReadUpTo(fd.get(), static_cast<size_t>(st.st_size) + 1, &data); err != 0) {
      return IoError("cannot read", path, err);
    }
    size_t newline = data.find('\n');
    if (newline == std::string::npos) return Corrupt(path, "no header line");
    Result<ObjectHeader> header = ParseHeader(std::string_view(data).substr(0, newline), path);
    if (!header.ok()) return header.status();
    if (data.size() - newline - 1 != header->size) {
      return Corrupt(path, "length does not match its header");
    }
    data.erase(0, newline + 1);
    return GetResult{InfoFrom(key, std::move(header).value()), std::move(data)};
  }

  Result<ObjectInfo> Head(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    Result<ObjectHeader> header = ReadHeader(ObjectPath(key), key);
    if (!header.ok()) return header.status();
    return InfoFrom(key, std::move(header).value());
  }

  Status Delete(const std::string& key) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    const std::string path = ObjectPath(key);
    {
      Result<StripeLock> lock = StripeLock::Acquire(LockPathFor(key));
      if (!lock.ok()) return lock.status();
      if (::unlink(path.c_str()) != 0) {
        if (IsAbsent(errno)) return Status::Ok();
        return IoError("cannot delete", path, errno);
      }
    }
    if (options_.fsync) return FsyncDirectory(ParentOf(path));
    return Status::Ok();
  }

  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override {
    if (keys.size() > store::kMaxDeleteKeys) {
      return Status(ErrorCode::kInvalidArgument,
                    "DeleteMany of " + std::to_string(keys.size()) + " keys; at most " +
                        std::to_string(store::kMaxDeleteKeys) + " per call");
    }
    DeleteManyResult result;
    for (const std::string& key : keys) {
      Status status = Delete(key);
      if (status.ok()) {
        result.deleted.push_back(key);
      } else {
        result.errors.emplace_back(key, std::move(status));
      }
    }
    return result;
  }

  Result<ListPage> List(const ListRequest& request) override {
    Result<store::ListBounds> bounds = store::ResolveListRequest(request);
    if (!bounds.ok()) return bounds.status();
    ListWalker walker(root_, *bounds, dir_cache_);
    if (Status status = walker.Run(); !status.ok()) return status;
    std::vector<std::string> keys = walker.TakeSortedKeys();

    ListPage page;
    const size_t page_size = static_cast<size_t>(bounds->max_keys);
    if (keys.size() > page_size) {
      keys.resize(page_size);
      page.truncated = true;
      // Resume after the last key considered, even if it vanished before we read it.
      page.next_continuation_token = store::EncodeContinuationToken(keys.back());
    }
    for (const std::string& key : keys) {
      Result<ObjectHeader> header = ReadHeader(ObjectPath(key), key);
      if (header.code() == ErrorCode::kNotFound) continue;  // deleted since the walk
      if (!header.ok()) return header.status();
      ObjectInfo info = InfoFrom(key, std::move(header).value());
      info.metadata.clear();  // List results carry no metadata, as on S3
      page.objects.push_back(std::move(info));
    }
    return page;
  }

  Capabilities capabilities() const override { return Capabilities{}; }

  // Percent-encoded like StoreUri::ToString, so the description parses back to this store.
  std::string Describe() const override {
    return "file://" + util::PercentEncodePath(options_.root);
  }

 private:
  std::string ObjectPath(const std::string& key) const {
    return root_ + "/" + store::ObjectFilePath(key);
  }

  std::string LockPathFor(const std::string& key) const {
    int stripe = static_cast<int>(StableHash(key) % kLockStripes);
    char name[3] = {static_cast<char>('0' + stripe / 10), static_cast<char>('0' + stripe % 10), 0};
    return root_ + "/" + kLocksDirectory + "/" + name;
  }

  // Creates `dir` (below the root) and its missing parents. With fsync, each new directory's
  // entry is made durable too, or a crash could lose a file whose rename was fsynced.
  Status EnsureDirectories(const std::string& dir) const {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    size_t position = root_.size();
    while (position < dir.size()) {
      size_t next = dir.find('/', position + 1);
      if (next == std::string::npos) next = dir.size();
      const std::string partial = dir.substr(0, next);
      if (::mkdir(partial.c_str(), 0755) == 0) {
        if (options_.fsync) {
          if (Status status = FsyncDirectory(ParentOf(partial)); !status.ok()) return status;
        }
      } else if (errno != EEXIST) {
        return IoError("cannot create directory", partial, errno);
      }
      position = next;
    }
    return Status::Ok();
  }

  Status WriteTempFile(const std::string& temp_path, std::string_view header,
                       std::string_view body) const {
    UniqueFd fd = OpenFd(temp_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (!fd.valid()) return IoError("cannot create", temp_path, errno);
    int err = WriteAll(fd.get(), header);
    if (err == 0) err = WriteAll(fd.get(), body);
    if (err == 0 && options_.fsync && ::fsync(fd.get()) != 0) err = errno;
    if (err == 0) err = fd.Close();
    if (err != 0) {
      ::unlink(temp_path.c_str());
      return IoError("cannot write", temp_path, err);
    }
    return Status::Ok();
  }

  // Under the key's stripe lock: checks the precondition, then renames the temp file over
  // the object. The caller removes the temp file when this fails.
  Status PublishLocked(const PutRequest& request, const std::string& temp_path,
                       const std::string& path) const {
    Result<StripeLock> lock = StripeLock::Acquire(LockPathFor(request.key));
    if (!lock.ok()) return lock.status();
    if (request.if_match.has_value() || request.if_none_match_star) {
      Result<ObjectHeader> current = ReadHeader(path, request.key);
      if (!current.ok() && current.code() != ErrorCode::kNotFound) return current.status();
      const std::string* current_etag = current.ok() ? &current->etag : nullptr;
      if (Status status = store::CheckPrecondition(request, current_etag); !status.ok()) {
        return status;
      }
    }
    if (::rename(temp_path.c_str(), path.c_str()) != 0) {
      return IoError("cannot rename '" + temp_path + "' to", path, errno);
    }
    return Status::Ok();
  }

  FileStoreOptions options_;
  std::string root_;  // absolute, normalised, without a trailing '/'
  DirCache dir_cache_;  // decoded directory listings, for List
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> NewFileStore(const FileStoreOptions& options) {
  if (options.root.empty()) {
    return Status(ErrorCode::kInvalidArgument, "FileStore root directory is empty");
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(options.root, ec);
  if (ec) return IoError("cannot resolve FileStore root", options.root, ec.value());
  std::string root = absolute.lexically_normal().native();
  while (root.size() > 1 && root.back() == '/') root.pop_back();

  std::filesystem::file_status status = std::filesystem::status(root, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
    return Status(ErrorCode::kInvalidArgument,
                  "FileStore root '" + root + "' exists and is not a directory");
  }
  std::filesystem::create_directories(root, ec);
  if (ec) return IoError("cannot create FileStore root", root, ec.value());
  const std::string locks = root + "/" + kLocksDirectory;
  if (::mkdir(locks.c_str(), 0755) != 0 && errno != EEXIST) {
    return IoError("cannot create lock directory", locks, errno);
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<FileStore>(options, std::move(root)));
}

}  // namespace s3db
