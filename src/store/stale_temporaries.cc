#include "store/stale_temporaries.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "store/file_key_codec.h"
#include "store/posix_file.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::store {
namespace {

constexpr size_t kHostTagLength = 16;
constexpr size_t kRandomLength = 16;
constexpr size_t kMaxExamples = 10;

std::string FirstLineOf(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

std::string ComputeHostTag() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::error_code ec;
  const std::string pid_namespace = std::filesystem::read_symlink("/proc/self/ns/pid", ec).native();
  const std::string identity =
      std::string(host) + '\n' + FirstLineOf("/proc/sys/kernel/random/boot_id") + '\n' + pid_namespace;
  return util::HexEncode(util::Sha256(identity)).substr(0, kHostTagLength);
}

bool AllOf(std::string_view text, bool (*accept)(char)) {
  for (char c : text) {
    if (!accept(c)) return false;
  }
  return !text.empty();
}

// kill(pid, 0): ESRCH is the only answer that proves the process is gone (EPERM: it exists,
// owned by someone else).
bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

class Sweep {
 public:
  Sweep(const std::string& root, const StaleTemporaryOptions& options) : root_(root), options_(options) {}

  Status Walk(const std::string& relative_dir, const std::string& key_prefix) {
    const std::string dir = relative_dir.empty() ? root_ : root_ + "/" + relative_dir;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      if (IsAbsent(ec.value())) return Status::Ok();  // no keys there, or removed meanwhile
      return IoError("cannot list directory", dir, ec.value());
    }
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().native();
      const std::filesystem::file_type type = it->symlink_status(ec).type();  // never follow a link
      if (ec) break;
      if (type == std::filesystem::file_type::regular && util::StartsWith(name, kTempPrefix)) {
        if (Status status = Judge(dir + "/" + name, name); !status.ok()) return status;
        continue;
      }
      if (type != std::filesystem::file_type::directory) continue;
      std::optional<DecodedEntry> entry = DecodeEntryName(name, /*is_directory=*/true);
      if (!entry) continue;  // .locks, foreign directories
      std::string child_prefix = key_prefix + entry->bytes;
      if (entry->kind == EntryKind::kSegmentDirectory) child_prefix.push_back('/');
      if (!util::StartsWith(child_prefix, options_.prefix) && !util::StartsWith(options_.prefix, child_prefix)) {
        continue;
      }
      const std::string child = relative_dir.empty() ? name : relative_dir + "/" + name;
      if (Status status = Walk(child, child_prefix); !status.ok()) return status;
    }
    if (ec && !IsAbsent(ec.value())) return IoError("cannot list directory", dir, ec.value());
    return Status::Ok();
  }

  StaleTemporaryResult TakeResult() { return std::move(result_); }

 private:
  Status Judge(const std::string& path, const std::string& name) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (IsAbsent(errno)) return Status::Ok();  // published or removed meanwhile
      return IoError("cannot stat", path, errno);
    }
    const auto modified = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - modified);
    if (JudgeTemporary(name, age, options_.max_age) == TemporaryVerdict::kMaybeLive) {
      ++result_.kept;
      return Status::Ok();
    }
    ++result_.stale;
    if (result_.examples.size() < kMaxExamples) result_.examples.push_back(path);
    if (options_.dry_run) return Status::Ok();
    if (::unlink(path.c_str()) != 0) {
      if (IsAbsent(errno)) return Status::Ok();
      return IoError("cannot remove stale temporary file", path, errno);
    }
    ++result_.removed;
    return Status::Ok();
  }

  const std::string& root_;
  const StaleTemporaryOptions& options_;
  StaleTemporaryResult result_;
};

}  // namespace

const std::string& ThisHostTag() {
  static const std::string tag = ComputeHostTag();
  return tag;
}

std::string NewTemporaryName() {
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + ThisHostTag() + "-" +
         util::RandomAlnum(kRandomLength);
}

std::optional<TemporaryWriter> WriterOfTemporary(std::string_view name) {
  if (!util::StartsWith(name, kTempPrefix)) return std::nullopt;
  name.remove_prefix(kTempPrefix.size());
  const size_t first = name.find('-');
  const size_t second = first == std::string_view::npos ? first : name.find('-', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view pid_text = name.substr(0, first);
  const std::string_view host = name.substr(first + 1, second - first - 1);
  const std::string_view random = name.substr(second + 1);
  TemporaryWriter writer;
  const auto [end, error] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), writer.pid);
  if (error != std::errc() || end != pid_text.data() + pid_text.size() || writer.pid <= 0) return std::nullopt;
  if (host.size() != kHostTagLength ||
      !AllOf(host, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  if (random.size() != kRandomLength ||
      !AllOf(random, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  writer.host = std::string(host);
  return writer;
}

TemporaryVerdict JudgeTemporary(std::string_view name, std::chrono::seconds age, std::chrono::seconds max_age) {
  if (age > max_age) return TemporaryVerdict::kStale;
  const std::optional<TemporaryWriter> writer = WriterOfTemporary(name);
  if (writer && writer->host == ThisHostTag() && !ProcessExists(writer->pid)) return TemporaryVerdict::kStale;
  return TemporaryVerdict::kMaybeLive;
}

Result<StaleTemporaryResult> RemoveStaleTemporariesUnder(const std::string& root,
                                                         const StaleTemporaryOptions& options) {
  if (options.max_age.count() < 0) {
    return Status(ErrorCode::kInvalidArgument, "the age beyond which a temporary file is stale must not be negative");
  }
  // Start in the directory of the segments the prefix names completely: "a/b/c" starts in a/b.
  const std::string start_key = options.prefix.substr(0, options.prefix.rfind('/') + 1);
  Sweep sweep(root, options);
  if (Status status = sweep.Walk(DirectoryPathFor(start_key), start_key); !status.ok()) return status;
  return sweep.TakeResult();
}

}  // namespace s3db::store
