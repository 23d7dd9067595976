// Lists every key under a prefix with many LIST requests in flight, for the listings that
// S3 serves only 1000 keys at a time (issue 8: "S3 lists 1000 at a time and cannot be
// parallelised" — it can, over disjoint prefixes).
//
// The first page of the range is listed as usual. When it is not the last, what remains
// (the keys after the page's last key) is split by the next character, among the characters
// keys can have there (`alphabet`): the last key's own character continues after that key,
// every later character is a range of its own, and the earlier ones are skipped (the page
// covered them). A range that again holds more than a page is split the same way. Ranges
// are listed level by level, a level's ranges in parallel. When most ranges of a level come
// back empty, the keys crowd in a few narrow ranges (sequential ids such as "user-000001"),
// and splitting further would mostly list empty ranges: from then on a range is walked page
// by page. The result is sorted, so it equals a sequential listing of every key whose next
// characters are in the alphabet (for record keys, all of them: an encoded id uses only
// unreserved characters and '%').
//
// May call: util/ and the public headers (ObjectStore, ExecutorOptions).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "s3db/object_store.h"

namespace s3db::exec {

// The characters an encoded id can start with (and continue with), in byte order.
inline constexpr const char* kEncodedIdAlphabet = "%-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~";

struct ParallelListStats {
  size_t requests = 0;
  size_t levels = 0;
};

// Every key under `prefix`, sorted. concurrency <= 1 lists sequentially (one range).
Result<std::vector<std::string>> ListKeysInParallel(ObjectStore& store, const std::string& prefix, int concurrency,
                                                    const std::string& alphabet, ParallelListStats* stats = nullptr);

// A listed key and the ETag the listing gave it.
struct ListedObject {
  std::string key;
  std::string etag;
};

// ListKeysInParallel, with each key's ETag when `etags` (a scan compares it with its
// snapshot's; a count does not need it, and an ETag costs an allocation per key).
Result<std::vector<ListedObject>> ListObjectsInParallel(ObjectStore& store, const std::string& prefix, int concurrency,
                                                        const std::string& alphabet, ParallelListStats* stats = nullptr,
                                                        bool etags = true);

}  // namespace s3db::exec
