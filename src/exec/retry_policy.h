// When and how long a failed store request waits before it is tried again: the one retry
// policy of the executor (ExecutingStore) and the S3 store (docs/ARCHITECTURE.md "Design rules the code keeps"). A
// Database configures both from its ExecutorOptions (RetryOptionsFor), so they back off alike.
//
//  - Only errors whose Status says retryable() are retried (5xx, 503 SlowDown, 429,
//    timeouts, connection resets, a mangled 2xx body), never 400/403/404/412, and never
//    kConflict: S3's 409 ConditionalRequestConflict means "re-read, then retry", which only
//    the caller (the record layer) can do, so the store hands it back at once.
//  - Exponential backoff with full jitter (AWS architecture blog "Exponential Backoff And
//    Jitter"): before retry n (n = 1, 2, ...) wait uniform(0, min(cap, base * 2^(n-1))).
//  - A Retry-After from the server (in seconds) is a floor on that wait, clamped to
//    max_retry_after so that a confused server cannot stall a caller for hours.
//  - At most max_attempts attempts in all (the first one included).
//
// The randomness is injected (a function returning a uniform double in [0, 1)), so tests
// get exact delays. The default is a per-policy PRNG seeded from the CSPRNG and guarded by
// a mutex, so one policy may be shared by every thread of a store. Calls only util.
//
// Thread-safety: const methods are safe from any thread once constructed.
//
// May call: util/ and the public headers (ObjectStore, ExecutorOptions).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/executor.h"

namespace s3db::exec {

struct RetryOptions {
  int max_attempts = 4;  // 1 = never retry
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{5000};         // cap of the exponential part
  std::chrono::milliseconds max_retry_after{20000};  // clamp for Retry-After
  // kInvalidArgument naming the first bad field.
  Status Validate() const;
};

class RetryPolicy {
 public:
  // Uniform double in [0, 1). Must be callable from many threads at once when the policy
  // is shared (the default is).
  using Random = std::function<double()>;

  explicit RetryPolicy(RetryOptions options = {}, Random random = nullptr);

  const RetryOptions& options() const { return options_; }

  // Whether a request that failed with `status` after `attempts_made` attempts (>= 1)
  // should be tried again.
  bool ShouldRetry(const Status& status, int attempts_made) const { return ShouldRetry(status.code(), attempts_made); }
  bool ShouldRetry(ErrorCode code, int attempts_made) const;

  // The wait before the next attempt after `attempts_made` failed attempts (>= 1).
  std::chrono::milliseconds Delay(int attempts_made, std::optional<std::chrono::milliseconds> retry_after) const;

 private:
  RetryOptions options_;
  Random random_;
};

// The executor's retry settings as RetryOptions: `retries` extra attempts, the backoff base
// `retry_delay` and cap `max_retry_delay`.
RetryOptions RetryOptionsFor(const ExecutorOptions& executor);

// A Retry-After header value in delay-seconds form ("3") as a duration; nullopt for
// anything else (the HTTP-date form is not used by S3 and is ignored).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value);

}  // namespace s3db::exec
