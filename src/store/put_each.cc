// ObjectStore::PutEachFrom's default: Put on up to `concurrency` threads, each pulling the
// next request when it is free. Stores that send requests from an event loop (the S3 store)
// override it.
#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "s3db/object_store.h"
#include "util/parallel.h"

namespace s3db {

void ObjectStore::PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) {
  std::mutex pulling;  // next is called by one thread at a time
  size_t next_index = 0;
  bool exhausted = false;
  auto pull = [&]() -> std::optional<std::pair<size_t, PutRequest>> {
    std::lock_guard lock(pulling);
    if (exhausted) return std::nullopt;
    std::optional<PutRequest> request = next();
    if (!request) {
      exhausted = true;
      return std::nullopt;
    }
    return std::make_pair(next_index++, std::move(*request));
  };
  const int workers = std::clamp(options.concurrency, 1, 1024);
  util::ParallelFor(static_cast<size_t>(workers), workers, [&](size_t) {
    while (std::optional<std::pair<size_t, PutRequest>> item = pull()) {
      const auto& [index, request] = *item;
      if (options.before_request) {
        if (Status allowed = options.before_request(); !allowed.ok()) {
          visit(index, Result<ObjectInfo>(allowed));
          continue;
        }
      }
      const auto start = std::chrono::steady_clock::now();
      Result<ObjectInfo> written = Put(request);
      if (options.after_request) options.after_request(std::chrono::steady_clock::now() - start, written.code());
      visit(index, written);
    }
  });
}

void ObjectStore::PutEach(std::vector<PutRequest> requests, const PutEachOptions& options,
                          const PutEachVisitor& visit) {
  if (requests.empty()) return;
  size_t next = 0;
  PutEachOptions bounded = options;
  // No more threads than requests.
  bounded.concurrency =
      static_cast<int>(std::min<size_t>(requests.size(), static_cast<size_t>(std::max(1, options.concurrency))));
  PutEachFrom(
      [&]() -> std::optional<PutRequest> {
        return next < requests.size() ? std::optional(std::move(requests[next++])) : std::nullopt;
      },
      bounded, visit);
}

}  // namespace s3db
