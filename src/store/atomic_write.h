// How FileStore replaces an object file without readers ever seeing half of it, and how
// writers of one key take turns.
//
// A new file is written beside its target under a temporary name ".tmp-<pid>-<host>-<random>"
// (stale_temporaries.h: repair can tell when its writer is gone; fsynced when asked), then renamed over the target
// while the writer holds flock(LOCK_EX) on the key's lock stripe, ".locks/<hash(key) % 64>" under the root. rename is
// atomic, so readers need no lock. Names starting with '.' are never produced by the key codec, so neither kind can
// collide with an object. Calls posix_file.h only.
//
// May call: util/ and the public headers.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "s3db/errors.h"
#include "store/posix_file.h"

namespace s3db::store {

inline constexpr const char* kLocksDirectory = ".locks";

// The lock file of `key`'s stripe under `root`.
std::string LockPathFor(const std::string& root, const std::string& key);

// Held while a writer checks and replaces an object; released by the destructor.
class StripeLock {
 public:
  static Result<StripeLock> Acquire(const std::string& lock_path);

 private:
  explicit StripeLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// A fresh temporary name in directory `dir`, for WriteTempFile.
std::string TempPathIn(const std::string& dir);

// Creates `dir` (below `root`) and its missing parents. With fsync, each new directory's
// entry is made durable too, or a crash could lose a file whose rename was fsynced.
Status EnsureDirectories(const std::string& root, const std::string& dir, bool fsync);

// Writes header then body to a new file at `temp_path` (fsynced when asked); removes it
// again on failure.
Status WriteTempFile(const std::string& temp_path, std::string_view header, std::string_view body, bool fsync);

}  // namespace s3db::store
