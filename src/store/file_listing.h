// How FileStore lists: ListWalker visits, in key order, only the directories that can hold
// keys of the requested page, reading each through DirCache, which keeps the decoded and
// sorted entries of a directory while it is unchanged. Calls file_key_codec.h for names and
// posix_file.h for errors; reads no object file (FileStore reads the headers of the keys
// the walk returns).
//
// May call: util/ and the public headers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "s3db/errors.h"
#include "store/file_key_codec.h"
#include "store/list_paging.h"

namespace s3db::store {

struct DirEntry {
  std::string order_key;  // bytes, plus '/' for a segment directory: the subtree's least key
  std::string bytes;
  std::string name;
  EntryKind kind;
};
using DirListing = std::vector<DirEntry>;

// The decoded, sorted entries of one directory, reused while the directory is unchanged.
// Without it every List page re-reads and re-sorts whole directories, so listing N keys
// of one flat directory costs N^2/1000 entry reads; with it a page of a settled directory
// costs a binary search. A directory counts as unchanged while its inode and mtime are;
// one modified in the last two seconds is never cached, since a coarse-grained mtime could
// hide a change made just after the read (git's "racy" rule). Thread-safe.
class DirCache {
 public:
  // An absent directory lists as empty.
  Result<std::shared_ptr<const DirListing>> Get(const std::string& dir);

 private:
  static constexpr size_t kMaxDirectories = 256;
  struct Cached {
    ino_t ino;
    int64_t mtime_ns;
    std::shared_ptr<const DirListing> listing;
  };

  static Result<std::shared_ptr<const DirListing>> Read(const std::string& dir);

  std::mutex mu_;
  std::unordered_map<std::string, Cached> entries_;
};

// Walks the directories that can hold keys of one List page and keeps the smallest
// max_keys + 1 keys that qualify (the extra one tells whether the page is truncated).
class ListWalker {
 public:
  ListWalker(const std::string& root, const ListBounds& bounds, DirCache& cache)
      : root_(root), bounds_(bounds), capacity_(static_cast<size_t>(bounds.max_keys) + 1), cache_(cache) {}

  Status Run();

  // Ascending binary order.
  std::vector<std::string> TakeSortedKeys();

 private:
  bool MayHoldWantedKeys(const std::string& key_prefix) const;
  void Offer(std::string key, const std::string& relative_path);
  Status Walk(const std::string& relative_dir, const std::string& key_prefix);

  const std::string& root_;
  const ListBounds& bounds_;
  const size_t capacity_;
  DirCache& cache_;
  std::priority_queue<std::string> smallest_;  // max-heap of the smallest keys seen
};

}  // namespace s3db::store
