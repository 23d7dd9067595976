// POSIX file primitives FileStore builds on: an owning descriptor, open/read/write that
// retry on EINTR, directory fsync, and errno turned into a Status. Calls only libc; knows
// nothing of FileStore's layout.
//
// May call: util/ and the public headers.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "s3db/errors.h"

namespace s3db::store {

// kIOError "<action> '<path>': <strerror(err)>".
Status IoError(const std::string& action, const std::string& path, int err);

// ENOTDIR: a component of the path is a file. Our layout never makes one, but a path that
// cannot exist is an absent object, not an I/O failure.
bool IsAbsent(int err);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept;
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes and reports the error close() returns (it can carry a delayed write error).
  int Close();

 private:
  void Reset();
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; invalid (errno set) on failure.
UniqueFd OpenFd(const std::string& path, int flags, mode_t mode = 0);

// Reads until `out` holds `limit` bytes or EOF; returns 0 or errno.
int ReadUpTo(int fd, size_t limit, std::string* out);

// Writes all of `data`; returns 0 or errno.
int WriteAll(int fd, std::string_view data);

Status FsyncDirectory(const std::string& path);

// "a/b/c" -> "a/b".
std::string ParentOf(const std::string& path);

}  // namespace s3db::store
