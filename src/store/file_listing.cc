#include "store/file_listing.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "store/posix_file.h"
#include "util/text.h"

namespace s3db::store {

Result<std::shared_ptr<const DirListing>> DirCache::Get(const std::string& dir) {
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
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (now_ns - mtime_ns > 2'000'000'000) {
    std::lock_guard lock(mu_);
    if (entries_.size() >= kMaxDirectories) entries_.clear();  // crude bound; rebuilt on demand
    entries_[dir] = Cached{st.st_ino, mtime_ns, *read};
  }
  return read;
}

Result<std::shared_ptr<const DirListing>> DirCache::Read(const std::string& dir) {
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
    if (ec && IsAbsent(ec.value())) {
      // Gone since the directory was read: a writer's temporary file renamed into place, or
      // an object deleted. Not an error of the listing (it would fail a scan racing writers).
      ec.clear();
      continue;
    }
    if (ec) break;
    bool is_directory = type == std::filesystem::file_type::directory;
    if (!is_directory && type != std::filesystem::file_type::regular) continue;
    std::optional<DecodedEntry> entry = DecodeEntryName(name, is_directory);
    if (!entry) continue;
    std::string order_key = entry->bytes;
    if (entry->kind == EntryKind::kSegmentDirectory) order_key.push_back('/');
    listing->push_back({std::move(order_key), std::move(entry->bytes), std::move(name), entry->kind});
  }
  if (ec) return IoError("cannot list directory", dir, ec.value());
  std::sort(listing->begin(), listing->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.order_key < b.order_key; });
  return std::shared_ptr<const DirListing>(listing);
}

Status ListWalker::Run() {
  // Start below the segments the prefix names completely: "a/b/c" starts in a/b.
  // (rfind gives npos without a '/', and npos + 1 == 0: start at the root.)
  std::string start_key = bounds_.prefix.substr(0, bounds_.prefix.rfind('/') + 1);
  return Walk(DirectoryPathFor(start_key), start_key);
}

std::vector<std::string> ListWalker::TakeSortedKeys() {
  std::vector<std::string> keys;
  keys.reserve(smallest_.size());
  while (!smallest_.empty()) {
    keys.push_back(smallest_.top());
    smallest_.pop();
  }
  std::reverse(keys.begin(), keys.end());
  return keys;
}

// Every key below a directory starts with `key_prefix`; skip the directory when none of
// them can pass the filters.
bool ListWalker::MayHoldWantedKeys(const std::string& key_prefix) const {
  bool prefix_compatible = util::StartsWith(key_prefix, bounds_.prefix) || util::StartsWith(bounds_.prefix, key_prefix);
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
void ListWalker::Offer(std::string key, const std::string& relative_path) {
  if (!util::StartsWith(key, bounds_.prefix) || key <= bounds_.after) return;
  bool full = smallest_.size() == capacity_;
  if (full && key >= smallest_.top()) return;
  if (ObjectFilePath(key) != relative_path) return;
  if (full) smallest_.pop();
  smallest_.push(std::move(key));
}

Status ListWalker::Walk(const std::string& relative_dir, const std::string& key_prefix) {
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
      case EntryKind::kObjectFile:
        Offer(key_prefix + entry.bytes, child_relative);
        break;
      case EntryKind::kSegmentDirectory:
      case EntryKind::kChunkDirectory: {
        std::string child_prefix = key_prefix + entry.order_key;
        if (!MayHoldWantedKeys(child_prefix)) break;
        if (Status status = Walk(child_relative, child_prefix); !status.ok()) return status;
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace s3db::store
