#include "core/parallel_lister.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "util/parallel.h"

namespace s3db::core {
namespace {

// All keys of one range, or (when it holds more than a page) the word that it must split.
struct RangeResult {
  std::vector<std::string> keys;
  bool split = false;
  Status status;
};

RangeResult ListWholeRange(ObjectStore& store, const std::string& prefix, bool may_split, size_t* requests) {
  RangeResult out;
  ListRequest request;
  request.prefix = prefix;
  while (true) {
    Result<ListPage> page = store.List(request);
    ++*requests;
    if (!page.ok()) {
      out.status = page.status();
      return out;
    }
    for (auto& o : page->objects) out.keys.push_back(std::move(o.key));
    if (!page->truncated) return out;
    if (may_split) {  // more than a page: cheaper to split than to walk it page by page
      out.split = true;
      return out;
    }
    request.continuation_token = page->next_continuation_token;
  }
}

}  // namespace

Result<std::vector<std::string>> ListKeysInParallel(ObjectStore& store, const std::string& prefix,
                                                    int concurrency, const std::string& alphabet,
                                                    ParallelListStats* stats) {
  // A key longer than S3's 1024 bytes cannot exist, so splitting stops there; past that
  // depth a range is walked page by page.
  constexpr size_t kMaxKeyBytes = 1024;
  std::vector<std::string> keys;
  std::vector<std::string> level{prefix};
  std::atomic<size_t> requests{0};
  size_t levels = 0;
  while (!level.empty()) {
    ++levels;
    std::vector<RangeResult> results(level.size());
    util::ParallelFor(level.size(), concurrency, [&](size_t i) {
      size_t made = 0;
      const bool may_split = concurrency > 1 && level[i].size() < kMaxKeyBytes;
      results[i] = ListWholeRange(store, level[i], may_split, &made);
      requests += made;
    });
    std::vector<std::string> next;
    for (size_t i = 0; i < level.size(); ++i) {
      if (!results[i].status.ok()) return results[i].status;
      if (!results[i].split) {
        keys.insert(keys.end(), std::make_move_iterator(results[i].keys.begin()),
                    std::make_move_iterator(results[i].keys.end()));
        continue;
      }
      // The range's own key (exactly the prefix), if any, belongs to no child range.
      if (!results[i].keys.empty() && results[i].keys.front() == level[i]) keys.push_back(level[i]);
      for (char c : alphabet) next.push_back(level[i] + c);
    }
    level = std::move(next);
  }
  std::sort(keys.begin(), keys.end());
  if (stats) {
    stats->requests = requests;
    stats->levels = levels;
  }
  return keys;
}

}  // namespace s3db::core
