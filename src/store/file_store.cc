// FileStore: one file per object under a root directory (the embedded default backend).
//
// Layout under the root:
//   <escaped key path>   one file per object (file_key_codec.h has the key -> path mapping):
//                        a header line of JSON {"v","etag","content_type","last_modified_ms",
//                        "size","metadata"} then '\n' then the body bytes, so metadata and
//                        body are published together by one rename.
//   .locks/00 .. 63      lock stripes; a writer holds flock(LOCK_EX) on stripe
//                        hash(key) % 64 around its check-and-rename.
//   .../.tmp-<pid>-<host>-<random>
//                        a write in progress (or left by a crash); ignored by reads and List,
//                        removed by RemoveStaleTemporaries once its writer is known gone
//                        (stale_temporaries.h).
// Names starting with '.' are never produced by the key codec, so they cannot collide with
// objects. Directories are never removed (another writer may be about to use one), so empty
// directories may remain after deletes; they cost nothing but an inode.
//
// Writes: the new file is written beside its target under a temporary name (and fsynced
// when FileStoreOptions::fsync), then renamed over the target while the stripe lock is held.
// Every mutation takes the lock, not only conditional ones: an unconditional Put landing
// between another writer's check and rename would otherwise be silently undone.
// Reads take no lock: rename is atomic, so a reader opens either the old or the new file.
//
// The pieces: object_file.h (the file format), atomic_write.h (temporary file, rename, lock
// stripes), file_listing.h (List's directory walk), posix_file.h (descriptors, errno).

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "s3db/stores.h"
#include "store/atomic_write.h"
#include "store/file_key_codec.h"
#include "store/file_listing.h"
#include "store/list_paging.h"
#include "store/metadata_rules.h"
#include "store/object_file.h"
#include "store/posix_file.h"
#include "store/stale_temporaries.h"
#include "util/text.h"

namespace s3db {
namespace store {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FileStore final : public ObjectStore {
 public:
  FileStore(FileStoreOptions options, std::string root, bool root_ready)
      : options_(std::move(options)), root_(std::move(root)), root_ready_(root_ready) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    Result<store::ValidatedPut> validated = store::ValidatePut(request, capabilities());
    if (!validated.ok()) return validated.status();

    if (Status status = EnsureRoot(); !status.ok()) return status;
    const std::string path = ObjectPath(request.key);
    const std::string dir = ParentOf(path);
    if (Status status = EnsureDirectories(root_, dir, options_.fsync); !status.ok()) return status;

    ObjectHeader header;
    header.etag = std::move(validated->etag);
    header.content_type = std::move(validated->content_type);
    header.last_modified_ms = NowMs();
    header.size = request.body.size();
    header.metadata = std::move(validated->metadata);

    const std::string temp_path = TempPathIn(dir);
    if (Status status = WriteTempFile(temp_path, SerializeHeader(header), request.body, options_.fsync); !status.ok()) {
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
    return ReadObject(ObjectPath(key), key);
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
    if (!root_ready_.load(std::memory_order_acquire) && ::access(root_.c_str(), F_OK) != 0 && IsAbsent(errno)) {
      return Status::Ok();  // no store yet, so no object: nothing to delete, nothing to create
    }
    if (Status status = EnsureRoot(); !status.ok()) return status;
    {
      Result<StripeLock> lock = StripeLock::Acquire(LockPathFor(root_, key));
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
      return Status(ErrorCode::kInvalidArgument, "DeleteMany of " + std::to_string(keys.size()) + " keys; at most " +
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
      if (header.code() == ErrorCode::kCorruption) {
        // Listed as S3 lists an object whose body is garbage: it exists, so it is counted,
        // deletable and droppable, and reading it reports the corruption for that key alone.
        // The ETag is empty: it matches no If-Match and no cached copy.
        ObjectInfo info;
        info.key = key;
        std::error_code ec;
        const std::uintmax_t size = std::filesystem::file_size(ObjectPath(key), ec);
        info.size = ec ? 0 : size;
        page.objects.push_back(std::move(info));
        continue;
      }
      if (!header.ok()) return header.status();
      ObjectInfo info = InfoFrom(key, std::move(header).value());
      info.metadata.clear();  // List results carry no metadata, as on S3
      page.objects.push_back(std::move(info));
    }
    return page;
  }

  Capabilities capabilities() const override {
    Capabilities capabilities;
    capabilities.conditional_deletes = true;
    return capabilities;
  }

  // Percent-encoded like StoreUri::ToString, so the description parses back to this store.
  std::string Describe() const override { return "file://" + util::PercentEncodePath(options_.root); }

  Result<StaleTemporaryResult> RemoveStaleTemporaries(const StaleTemporaryOptions& options) override {
    return RemoveStaleTemporariesUnder(root_, options);
  }

  // Under the key's stripe lock, which every writer of the key holds around its rename (in
  // any process), so no write lands between the check and the unlink.
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override {
    if (Status status = store::ValidateObjectKey(key); !status.ok()) return status;
    const std::string path = ObjectPath(key);
    if (!root_ready_.load(std::memory_order_acquire) && ::access(root_.c_str(), F_OK) != 0 && IsAbsent(errno)) {
      return store::CheckDeletePrecondition(key, etag, nullptr);  // no store yet, so no object
    }
    if (Status status = EnsureRoot(); !status.ok()) return status;
    {
      Result<StripeLock> lock = StripeLock::Acquire(LockPathFor(root_, key));
      if (!lock.ok()) return lock.status();
      Result<ObjectHeader> current = ReadHeader(path, key);
      if (!current.ok() && current.code() != ErrorCode::kNotFound) return current.status();
      if (Status holds = store::CheckDeletePrecondition(key, etag, current.ok() ? &current->etag : nullptr);
          !holds.ok()) {
        return holds;
      }
      if (::unlink(path.c_str()) != 0) {
        if (IsAbsent(errno)) return store::CheckDeletePrecondition(key, etag, nullptr);
        return IoError("cannot delete", path, errno);
      }
    }
    if (options_.fsync) return FsyncDirectory(ParentOf(path));
    return Status::Ok();
  }

 private:
  std::string ObjectPath(const std::string& key) const { return root_ + "/" + store::ObjectFilePath(key); }

  // The root and its lock stripes, made by the first write rather than at open: a read of a
  // mistyped path must not leave directories behind. Idempotent and safe to race.
  Status EnsureRoot() {
    if (root_ready_.load(std::memory_order_acquire)) return Status::Ok();
    std::error_code ec;
    std::filesystem::create_directories(root_, ec);
    if (ec) return IoError("cannot create FileStore root", root_, ec.value());
    const std::string locks = root_ + "/" + kLocksDirectory;
    if (::mkdir(locks.c_str(), 0755) != 0 && errno != EEXIST)
      return IoError("cannot create lock directory", locks, errno);
    root_ready_.store(true, std::memory_order_release);
    return Status::Ok();
  }

  // Under the key's stripe lock: checks the precondition, then renames the temp file over
  // the object. The caller removes the temp file when this fails.
  Status PublishLocked(const PutRequest& request, const std::string& temp_path, const std::string& path) const {
    Result<StripeLock> lock = StripeLock::Acquire(LockPathFor(root_, request.key));
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
  std::atomic<bool> root_ready_;
  DirCache dir_cache_;  // decoded directory listings, for List
};

}  // namespace
}  // namespace store

Result<std::unique_ptr<ObjectStore>> NewFileStore(const FileStoreOptions& options) {
  if (options.root.empty()) {
    return Status(ErrorCode::kInvalidArgument, "FileStore root directory is empty");
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(options.root, ec);
  if (ec) return store::IoError("cannot resolve FileStore root", options.root, ec.value());
  std::string root = absolute.lexically_normal().native();
  while (root.size() > 1 && root.back() == '/') root.pop_back();

  std::filesystem::file_status status = std::filesystem::status(root, ec);
  // Absent is fine (the first write makes it); a path that cannot be one (below a regular
  // file, no permission to look) is refused now, naming it.
  if (ec && ec != std::errc::no_such_file_or_directory)
    return store::IoError("cannot use FileStore root", root, ec.value());
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
    return Status(ErrorCode::kInvalidArgument, "FileStore root '" + root + "' exists and is not a directory");
  }
  // An existing root gets its lock stripes now (the usual case, and an unwritable root fails
  // here); a missing one is made by the first write.
  bool ready = false;
  if (std::filesystem::exists(status)) {
    const std::string locks = root + "/" + store::kLocksDirectory;
    if (::mkdir(locks.c_str(), 0755) != 0 && errno != EEXIST) {
      return store::IoError("cannot create lock directory", locks, errno);
    }
    ready = true;
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<store::FileStore>(options, std::move(root), ready));
}

}  // namespace s3db
