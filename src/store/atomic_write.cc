#include "store/atomic_write.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

#include "store/stale_temporaries.h"

namespace s3db::store {
namespace {

constexpr int kLockStripes = 64;

// FNV-1a: stable across processes and builds, which std::hash does not promise.
uint64_t StableHash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

std::string LockPathFor(const std::string& root, const std::string& key) {
  int stripe = static_cast<int>(StableHash(key) % kLockStripes);
  char name[3] = {static_cast<char>('0' + stripe / 10), static_cast<char>('0' + stripe % 10), 0};
  return root + "/" + kLocksDirectory + "/" + name;
}

Result<StripeLock> StripeLock::Acquire(const std::string& lock_path) {
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

std::string TempPathIn(const std::string& dir) { return dir + "/" + NewTemporaryName(); }

Status EnsureDirectories(const std::string& root, const std::string& dir, bool fsync) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
  size_t position = root.size();
  while (position < dir.size()) {
    size_t next = dir.find('/', position + 1);
    if (next == std::string::npos) next = dir.size();
    const std::string partial = dir.substr(0, next);
    if (::mkdir(partial.c_str(), 0755) == 0) {
      if (fsync) {
        if (Status status = FsyncDirectory(ParentOf(partial)); !status.ok()) return status;
      }
    } else if (errno != EEXIST) {
      return IoError("cannot create directory", partial, errno);
    }
    position = next;
  }
  return Status::Ok();
}

Status WriteTempFile(const std::string& temp_path, std::string_view header, std::string_view body, bool fsync) {
  UniqueFd fd = OpenFd(temp_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (!fd.valid()) return IoError("cannot create", temp_path, errno);
  int err = WriteAll(fd.get(), header);
  if (err == 0) err = WriteAll(fd.get(), body);
  if (err == 0 && fsync && ::fsync(fd.get()) != 0) err = errno;
  if (err == 0) err = fd.Close();
  if (err != 0) {
    ::unlink(temp_path.c_str());
    return IoError("cannot write", temp_path, err);
  }
  return Status::Ok();
}

}  // namespace s3db::store
