#include "exec/parallel_lister.h"

#include <algorithm>
#include <atomic>

#include "util/parallel.h"

namespace s3db::exec {
namespace {

// Keys under `prefix` that sort after `start_after` (empty: all of them).
struct Range {
  std::string prefix;
  std::string start_after;
  bool walk = false;  // list to the end page by page, never split
};

// The keys of one range: all of them, or (when it holds more than a page and may split) its
// first page, with `split` set.
struct RangeResult {
  std::vector<ListedObject> keys;
  bool split = false;
  Status status;
};

RangeResult ListRange(ObjectStore& store, const Range& range, bool may_split, bool etags, size_t* requests) {
  RangeResult out;
  ListRequest request;
  request.prefix = range.prefix;
  request.start_after = range.start_after;
  while (true) {
    Result<ListPage> page = store.List(request);
    ++*requests;
    if (!page.ok()) {
      out.status = page.status();
      return out;
    }
    for (auto& o : page->objects) out.keys.push_back({std::move(o.key), etags ? std::move(o.etag) : std::string()});
    if (!page->truncated) return out;
    if (may_split && !out.keys.empty()) {  // more than a page: list the rest in parallel
      out.split = true;
      return out;
    }
    request.continuation_token = page->next_continuation_token;
  }
}

// What is left of `range` after its first page, which ended at `last`: the keys after
// `last` that share its next character, and every character after that one. The
// characters before it are covered by the first page already (keys come sorted), so they
// are not listed again.
void AddRest(const Range& range, const std::string& last, const std::string& alphabet, std::vector<Range>* next) {
  const size_t depth = range.prefix.size();
  if (last.size() <= depth) {  // the page ended at the prefix itself: every child is left
    for (char c : alphabet) next->push_back({range.prefix + c, ""});
    return;
  }
  const char at = last[depth];
  next->push_back({range.prefix + at, last});
  for (char c : alphabet) {
    if (static_cast<unsigned char>(c) > static_cast<unsigned char>(at)) next->push_back({range.prefix + c, ""});
  }
}

// Both listings; `etags` says whether to keep them (a count does not need them).
Result<std::vector<ListedObject>> ListInParallel(ObjectStore& store, const std::string& prefix, int concurrency,
                                                 const std::string& alphabet, ParallelListStats* stats, bool etags) {
  // A key longer than S3's 1024 bytes cannot exist, so splitting stops there; past that
  // depth a range is walked page by page.
  constexpr size_t kMaxKeyBytes = 1024;
  std::vector<ListedObject> keys;
  std::vector<Range> level{{prefix, ""}};
  std::atomic<size_t> requests{0};
  size_t levels = 0;
  // Once most ranges of a level come back empty the keys crowd in a few narrow ranges
  // (ids "user-000001", "user-000002", ...), where splitting again would list dozens of
  // empty ranges for each full one: from then on a range that holds more is walked page by
  // page from where its first page ended.
  bool skewed = false;
  while (!level.empty()) {
    ++levels;
    std::vector<RangeResult> results(level.size());
    util::ParallelFor(level.size(), concurrency, [&](size_t i) {
      size_t made = 0;
      const bool may_split = concurrency > 1 && !level[i].walk && level[i].prefix.size() < kMaxKeyBytes;
      results[i] = ListRange(store, level[i], may_split, etags, &made);
      requests += made;
    });
    size_t empty = 0;
    for (const RangeResult& result : results) {
      if (!result.status.ok()) return result.status;
      if (result.keys.empty()) ++empty;
    }
    if (level.size() > 1 && empty * 2 > level.size()) skewed = true;
    std::vector<Range> next;
    for (size_t i = 0; i < level.size(); ++i) {
      if (results[i].split) {
        const std::string& last = results[i].keys.back().key;
        if (skewed) {
          next.push_back({level[i].prefix, last, /*walk=*/true});
        } else {
          AddRest(level[i], last, alphabet, &next);
        }
      }
      keys.insert(keys.end(), std::make_move_iterator(results[i].keys.begin()),
                  std::make_move_iterator(results[i].keys.end()));
    }
    level = std::move(next);
  }
  std::sort(keys.begin(), keys.end(), [](const ListedObject& a, const ListedObject& b) { return a.key < b.key; });
  if (stats) {
    stats->requests = requests;
    stats->levels = levels;
  }
  return keys;
}

}  // namespace

Result<std::vector<std::string>> ListKeysInParallel(ObjectStore& store, const std::string& prefix, int concurrency,
                                                    const std::string& alphabet, ParallelListStats* stats) {
  Result<std::vector<ListedObject>> listed = ListInParallel(store, prefix, concurrency, alphabet, stats, false);
  if (!listed.ok()) return listed.status();
  std::vector<std::string> keys;
  keys.reserve(listed->size());
  for (auto& o : *listed) keys.push_back(std::move(o.key));
  return keys;
}

Result<std::vector<ListedObject>> ListObjectsInParallel(ObjectStore& store, const std::string& prefix, int concurrency,
                                                        const std::string& alphabet, ParallelListStats* stats,
                                                        bool etags) {
  return ListInParallel(store, prefix, concurrency, alphabet, stats, etags);
}

}  // namespace s3db::exec
