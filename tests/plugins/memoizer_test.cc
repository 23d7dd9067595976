// Memoizer: TTL on an injected clock, single flight, failures not cached, the entry bound.
#include <gtest/gtest.h>

#include <condition_variable>
#include <stdexcept>
#include <thread>

#include "plugin_test_util.h"
#include "s3db/cache.h"

namespace s3db {
namespace {

Memoizer<int>::Options WithClock(const testing::FakeClock& clock, int64_t ttl_ms, size_t max_entries = 1024) {
  Memoizer<int>::Options o;
  o.ttl = std::chrono::milliseconds(ttl_ms);
  o.max_entries = max_entries;
  o.clock = clock.fn();
  return o;
}

TEST(Memoizer, ComputesOnceUntilTheTtlRunsOut) {
  testing::FakeClock clock;
  Memoizer<int> memo(WithClock(clock, 1000));
  int calls = 0;
  auto compute = [&] { return ++calls * 10; };
  EXPECT_EQ(memo.Get("config", compute), 10);
  clock.Advance(999);
  EXPECT_EQ(memo.Get("config", compute), 10);
  EXPECT_EQ(calls, 1);
  clock.Advance(1);  // expiry is exclusive: at ttl the value is stale
  EXPECT_EQ(memo.Get("config", compute), 20);
  EXPECT_EQ(memo.Get("other", compute), 30);  // keys are separate
  EXPECT_EQ(memo.computations(), 3u);
}

TEST(Memoizer, InvalidateAndClearForceARecompute) {
  testing::FakeClock clock;
  Memoizer<int> memo(WithClock(clock, 1000));
  int calls = 0;
  auto compute = [&] { return ++calls; };
  memo.Get("a", compute);
  memo.Get("b", compute);
  memo.Invalidate("a");
  EXPECT_EQ(memo.Get("a", compute), 3);
  EXPECT_EQ(memo.Get("b", compute), 2);
  memo.Clear();
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_EQ(memo.Get("b", compute), 4);
}

TEST(Memoizer, AFailureIsNotCached) {
  Memoizer<std::string> memo(std::chrono::minutes(1));
  int calls = 0;
  EXPECT_THROW(memo.Get("k",
                        [&]() -> std::string {
                          ++calls;
                          throw std::runtime_error("backend down");
                        }),
               std::runtime_error);
  EXPECT_EQ(memo.size(), 0u);
  EXPECT_EQ(memo.Get("k", [&] { return std::to_string(++calls); }), "2");
}

// Concurrent callers of one key wait for the one computation in flight; they get its value
// (or its exception), and the computation runs once.
TEST(Memoizer, ConcurrentCallersShareOneComputation) {
  Memoizer<int> memo(std::chrono::minutes(1));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> computations{0};
  std::atomic<int> entered{0};
  auto slow = [&] {
    computations++;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return 42;
  };
  std::vector<std::thread> threads;
  std::vector<int> results(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      entered++;
      results[static_cast<size_t>(i)] = memo.Get("key", slow);
    });
  }
  // Let every thread reach Get (they block on the flight or in `slow`), then finish it.
  while (entered.load() < 8) std::this_thread::yield();
  while (computations.load() < 1) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  EXPECT_EQ(computations.load(), 1);
  for (int r : results) EXPECT_EQ(r, 42);
}

TEST(Memoizer, WaitersGetTheFlightsException) {
  Memoizer<int> memo(std::chrono::minutes(1));
  std::promise<void> started;
  std::promise<void> go;
  std::shared_future<void> go_future = go.get_future().share();
  std::thread owner([&] {
    EXPECT_THROW(memo.Get("k",
                          [&]() -> int {
                            started.set_value();
                            go_future.wait();
                            throw std::runtime_error("failed once");
                          }),
                 std::runtime_error);
  });
  started.get_future().wait();
  std::thread waiter([&] {
    // Arrives while the flight is running: it must not compute, it shares the failure.
    EXPECT_THROW(memo.Get("k", []() -> int { return 1; }), std::runtime_error);
  });
  // No hook tells when the waiter blocks on the flight; give it ample time to get there.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  go.set_value();
  owner.join();
  waiter.join();
  EXPECT_EQ(memo.computations(), 1u);
  EXPECT_EQ(memo.Get("k", [] { return 7; }), 7);
}

TEST(Memoizer, KeepsAtMostMaxEntriesDroppingTheSoonestToExpire) {
  testing::FakeClock clock;
  Memoizer<int> memo(WithClock(clock, 1000, 3));
  memo.Get("a", [] { return 1; });
  clock.Advance(10);
  memo.Get("b", [] { return 2; });
  clock.Advance(10);
  memo.Get("c", [] { return 3; });
  memo.Get("d", [] { return 4; });  // full: "a" expires first, so it goes
  EXPECT_EQ(memo.size(), 3u);
  int recomputed = 0;
  memo.Get("b", [&] { return ++recomputed; });
  EXPECT_EQ(recomputed, 0);
  memo.Get("a", [&] { return ++recomputed; });
  EXPECT_EQ(recomputed, 1);
}

}  // namespace
}  // namespace s3db
