// Small concurrency helpers shared by the layers: ParallelFor (fn(0..n-1) on at most
// `concurrency` threads, waiting for all; fn must not throw, callers catch per item), the
// thread's request priority and deadline it hands to its workers, and a full-jitter backoff sleep.
// Request slots, retries and priorities proper are the executor's (src/exec).
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <vector>

namespace s3db::util {

// What the store requests this thread makes run under: their priority (s3db::PriorityScope,
// CallOptions::priority; higher first) and the deadline of the call they serve
// (CallOptions::timeout; the executor narrows it to each request's own timeout while the
// request runs, and the S3 store bounds its attempts, retries and waits by it). Kept here,
// below the executor and the stores, so ParallelFor can hand it to its workers.
struct RequestContext {
  int priority = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
};
inline RequestContext& ThreadRequestContext() {
  thread_local RequestContext context;
  return context;
}
inline int& ThreadPriority() { return ThreadRequestContext().priority; }

// Time left before the thread's deadline (zero once it passed); nullopt without one.
inline std::optional<std::chrono::milliseconds> TimeLeft() {
  const auto& deadline = ThreadRequestContext().deadline;
  if (!deadline) return std::nullopt;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// Sleeps a uniformly random time in [0, base * 2^min(attempt, max_doublings)] ms ("full
// jitter"), so writers that lost a conditional race do not collide again in step.
inline void SleepWithFullJitter(int attempt, int base_ms, int max_doublings) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(0, base_ms << std::min(attempt, max_doublings));
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(rng)));
}

inline void ParallelFor(size_t n, int concurrency, const std::function<void(size_t)>& fn) {
  size_t workers = std::min(n, static_cast<size_t>(std::max(1, concurrency)));
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  // A bulk call's items run at the caller's priority and under its deadline.
  const RequestContext context = ThreadRequestContext();
  auto work = [&] {
    ThreadRequestContext() = context;
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

}  // namespace s3db::util
