// ObjectStore::GetEachFrom's default: Read on up to `concurrency` threads, each pulling the next
// key when it is free, so a slow object holds up one thread and not a batch. Stores that send
// requests from an event loop (the S3 store) override it.
#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

#include "s3db/object_store.h"
#include "util/parallel.h"

namespace s3db {

void ObjectStore::GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) {
  std::mutex pulling;  // next_key is called by one thread at a time
  size_t next_index = 0;
  bool exhausted = false;
  auto pull = [&]() -> std::optional<std::pair<size_t, std::string>> {
    std::lock_guard lock(pulling);
    if (exhausted) return std::nullopt;
    std::optional<std::string> key = next_key();
    if (!key) {
      exhausted = true;
      return std::nullopt;
    }
    return std::make_pair(next_index++, std::move(*key));
  };
  static const ObjectInfo kNoInfo;
  static const std::string kNoBody;
  const int workers = std::clamp(options.concurrency, 1, 1024);
  util::ParallelFor(static_cast<size_t>(workers), workers, [&](size_t) {
    while (std::optional<std::pair<size_t, std::string>> item = pull()) {
      const auto& [index, key] = *item;
      if (options.before_request) {
        if (Status allowed = options.before_request(); !allowed.ok()) {
          visit(index, allowed, kNoInfo, kNoBody);
          continue;
        }
      }
      const auto start = std::chrono::steady_clock::now();
      Status status = Read(key, [&, index = index](const ObjectInfo& info, const std::string& body) {
        visit(index, Status::Ok(), info, body);
      });
      if (options.after_request) options.after_request(std::chrono::steady_clock::now() - start, status.code());
      if (!status.ok()) visit(index, status, kNoInfo, kNoBody);
    }
  });
}

void ObjectStore::GetEach(const std::vector<std::string>& keys, const GetEachOptions& options,
                          const GetEachVisitor& visit) {
  if (keys.empty()) return;
  size_t next = 0;
  GetEachOptions bounded = options;
  // No more threads than keys.
  bounded.concurrency =
      static_cast<int>(std::min<size_t>(keys.size(), static_cast<size_t>(std::max(1, options.concurrency))));
  GetEachFrom(
      [&]() -> std::optional<std::string> { return next < keys.size() ? std::optional(keys[next++]) : std::nullopt; },
      bounded, visit);
}

}  // namespace s3db
