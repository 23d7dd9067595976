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
#include <optional>

#include "s3db/errors.h"
#include "s3db/export.h"

namespace s3db {

// The seeds' `executorPool`. Every field is applied, on every store (docs/API.md
// "Concurrency, retries and priorities" says how each one maps).
struct S3DB_EXPORT ExecutorOptions {
  // Request slots (1..1024). In DatabaseOptions this and DatabaseOptions::concurrency are one
  // setting: give either (both, with different values, is InvalidArgument).
  int concurrency = 8;
  // Retries of retryable errors, with full jitter. On S3 the S3 store makes them, with these
  // same settings (the executor then does not retry on top).
  int retries = 3;                                  // extra attempts for retryable errors
  std::chrono::milliseconds retry_delay{100};       // backoff base: delay <= base * 2^attempt
  std::chrono::milliseconds max_retry_delay{5000};  // backoff cap
  // Per store request: the wait for a slot, every attempt (an S3 attempt in flight is cut
  // off when it runs out) and the backoff between them. kTimeout when it runs out.
  std::chrono::milliseconds timeout{30000};

  struct Autotune {
    bool enabled = false;
    std::chrono::milliseconds target_latency{100};  // grow while the mean latency is below
    int min_concurrency = 1;
    int max_concurrency = 64;
    int window = 32;  // requests between adjustments
    // When enabled, bulk calls run on max_concurrency threads and an S3 store keeps up to
    // max_concurrency connections, so the slot count is what bounds requests in flight.
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

// Options of one call, as the seeds' `users.get(id, {priority: 100})`: every Resource call
// has an overload that takes them last, `users.Get(id, {.priority = 100})`.
struct S3DB_EXPORT CallOptions {
  // The priority of the call's store requests, bulk items included (default: the thread's,
  // PriorityScope's, 0).
  std::optional<int> priority = std::nullopt;
  // The whole call: every store request it makes, with their retries and waits. Once it has
  // passed, requests fail with kTimeout (an S3 request in flight is cut off); a call made
  // inside another that has a timeout keeps the sooner of the two deadlines. A bulk call
  // reports items that ran out of time as failed items, like any other failure.
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;

  Status Validate() const;  // kInvalidArgument for a timeout that is not positive
};

// Applies CallOptions to the store requests the current thread makes while it lives (what
// the CallOptions overloads do around the call). Throws InvalidArgument for bad options.
class S3DB_EXPORT CallScope {
 public:
  explicit CallScope(const CallOptions& options);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  int previous_priority_;
  std::optional<std::chrono::steady_clock::time_point> previous_deadline_;
};

struct S3DB_EXPORT ExecutorStats {
  uint64_t requests = 0;   // attempts sent to the store
  uint64_t retries = 0;    // attempts that were retries
  uint64_t throttled = 0;  // SlowDown answers seen
  uint64_t failures = 0;   // retryable failures given up on (out of attempts or time)
  int concurrency = 0;     // current slot count
  int in_flight = 0;
  int peak_in_flight = 0;  // the most requests in flight at once so far
  int waiting = 0;
};

}  // namespace s3db
