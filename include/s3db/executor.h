// The executor: every store request of a Database goes through it. It bounds how many run
// at once, lets urgent requests overtake bulk work, retries what can be retried with
// exponential backoff and full jitter, and can tune the concurrency from what it observes.
//
// Concurrency is a pool of request slots, not of threads: a caller blocks until a slot is
// free, and a freed slot goes to the highest-priority waiter (first come first served among
// equals). So a get at priority 100 waits for one request to finish, not for a whole import.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include "s3db/export.h"

#include "s3db/errors.h"

namespace s3db {

struct S3DB_EXPORT ExecutorOptions {
  int concurrency = 8;  // request slots (1..1024)
  // Retries of retryable errors, with full jitter. On S3 the S3 store makes them, with these
  // same settings (the executor then does not retry on top).
  int retries = 3;                                  // extra attempts for retryable errors
  std::chrono::milliseconds retry_delay{100};       // backoff base: delay <= base * 2^attempt
  std::chrono::milliseconds max_retry_delay{5000};  // backoff cap
  std::chrono::milliseconds timeout{30000};         // per operation, retries included

  struct Autotune {
    bool enabled = false;
    std::chrono::milliseconds target_latency{100};  // grow while the mean latency is below
    int min_concurrency = 1;
    int max_concurrency = 64;
    int window = 32;  // requests between adjustments
  } autotune = {};

  Status Validate() const;
};

// Priority of the requests the current thread makes while the scope lives (default 0;
// higher runs first), so it applies to any call made inside it:
//
//   { s3db::PriorityScope urgent(100); users.Get(id); }   // overtakes a running import
//
// Bulk calls (InsertMany, GetMany, ...) run their items at the caller's priority.
class S3DB_EXPORT PriorityScope {
 public:
  explicit PriorityScope(int priority);
  ~PriorityScope();
  PriorityScope(const PriorityScope&) = delete;
  PriorityScope& operator=(const PriorityScope&) = delete;
  static int Current();

 private:
  int previous_;
};

struct S3DB_EXPORT ExecutorStats {
  uint64_t requests = 0;   // attempts sent to the store
  uint64_t retries = 0;    // attempts that were retries
  uint64_t throttled = 0;  // SlowDown answers seen
  uint64_t failures = 0;   // retryable failures given up on (out of attempts or time)
  int concurrency = 0;     // current slot count
  int in_flight = 0;
  int waiting = 0;
};

}  // namespace s3db
