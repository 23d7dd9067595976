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
//
// The pieces: object_file.h (the file format), atomic_write.h (temporary file, rename, lock
// stripes), file_listing.h (List's directory walk), posix_file.h (descriptors, errno).

#include <sys/stat.h>
#include <unistd.h>

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
  FileStore(FileStoreOptions options, std::string root) : options_(std::move(options)), root_(std::move(root)) {}

  Result<ObjectInfo> Put(const PutRequest& request) override {
    Result<store::ValidatedPut> validated = store::ValidatePut(request, capabilities());
    if (!validated.ok()) return validated.status();

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
      if (!header.ok()) return header.status();
      ObjectInfo info = InfoFrom(key, std::move(header).value());
      info.metadata.clear();  // List results carry no metadata, as on S3
      page.objects.push_back(std::move(info));
    }
    return page;
  }

  Capabilities capabilities() const override { return Capabilities{}; }

  // Percent-encoded like StoreUri::ToString, so the description parses back to this store.
  std::string Describe() const override { return "file://" + util::PercentEncodePath(options_.root); }

 private:
  std::string ObjectPath(const std::string& key) const { return root_ + "/" + store::ObjectFilePath(key); }

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
  std::string root_;    // absolute, normalised, without a trailing '/'
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
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status)) {
    return Status(ErrorCode::kInvalidArgument, "FileStore root '" + root + "' exists and is not a directory");
  }
  std::filesystem::create_directories(root, ec);
  if (ec) return store::IoError("cannot create FileStore root", root, ec.value());
  const std::string locks = root + "/" + store::kLocksDirectory;
  if (::mkdir(locks.c_str(), 0755) != 0 && errno != EEXIST) {
    return store::IoError("cannot create lock directory", locks, errno);
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<store::FileStore>(options, std::move(root)));
}

}  // namespace s3db
