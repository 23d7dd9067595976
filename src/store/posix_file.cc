#include "store/posix_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace s3db::store {

Status IoError(const std::string& action, const std::string& path, int err) {
  return Status(ErrorCode::kIOError, action + " '" + path + "': " + std::system_category().message(err));
}

bool IsAbsent(int err) { return err == ENOENT || err == ENOTDIR; }

UniqueFd::UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

int UniqueFd::Close() {
  int result = ::close(std::exchange(fd_, -1));
  return result == 0 ? 0 : errno;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

UniqueFd OpenFd(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return UniqueFd(fd);
}

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

}  // namespace s3db::store
