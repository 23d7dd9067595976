// The executor against a real MemoryStore, with a thin wrapper that injects failures and
// delays (a real backend cannot be made to throttle on demand).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "exec/executing_store.h"
#include "exec/request_slots.h"
#include "s3db/stores.h"
#include "util/parallel.h"

namespace s3db::exec {
namespace {

// Forwards to a memory store; the first `fail_next` calls fail with `code`, and each call
// waits `delay` while counting how many run at once.
class FlakyStore : public ObjectStore {
 public:
  explicit FlakyStore(std::string bucket) : inner_(NewMemoryStore(bucket)) {}
  std::atomic<int> fail_next{0};
  ErrorCode code = ErrorCode::kSlowDown;
  std::chrono::milliseconds delay{0};
  std::atomic<int> calls{0}, running{0}, max_running{0};

  template <typename F>
  auto Wrap(F f) -> decltype(f()) {
    calls++;
    int now = ++running;
    int seen = max_running.load();
    while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    running--;
    if (fail_next.fetch_sub(1) > 0) return decltype(f())(Status(code, "injected"));
    return f();
  }
  Result<ObjectInfo> Put(const PutRequest& r) override {
    return Wrap([&] { return inner_->Put(r); });
  }
  Result<GetResult> Get(const std::string& k) override {
    return Wrap([&] { return inner_->Get(k); });
  }
  Result<ObjectInfo> Head(const std::string& k) override {
    return Wrap([&] { return inner_->Head(k); });
  }
  Status Delete(const std::string& k) override {
    return Wrap([&] { return inner_->Delete(k); });
  }
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& k) override {
    return Wrap([&] { return inner_->DeleteMany(k); });
  }
  Result<ListPage> List(const ListRequest& r) override {
    return Wrap([&] { return inner_->List(r); });
  }
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<ObjectStore> inner_;
};

struct Harness {
  explicit Harness(ExecutorOptions options, const std::string& bucket) {
    auto flaky_owned = std::make_unique<FlakyStore>(bucket);
    flaky = flaky_owned.get();
    store = std::make_unique<ExecutingStore>(std::move(flaky_owned), options, [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu);
      sleeps.push_back(d);
    });
  }
  FlakyStore* flaky;
  std::unique_ptr<ExecutingStore> store;
  std::mutex mu;
  std::vector<std::chrono::milliseconds> sleeps;
};

PutRequest Put(const std::string& key) {
  PutRequest p;
  p.key = key;
  p.body = "x";
  return p;
}

TEST(ExecutingStore, RetriesRetryableErrorsWithBoundedJitteredBackoff) {
  ExecutorOptions options;
  options.retries = 3;
  options.retry_delay = std::chrono::milliseconds(100);
  Harness h(options, "exec-retry");
  ASSERT_TRUE(h.store->Put(Put("k")).ok());
  h.flaky->fail_next = 2;
  auto got = h.store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(h.store->stats().retries, 2u);
  ASSERT_EQ(h.sleeps.size(), 2u);
  EXPECT_LE(h.sleeps[0].count(), 100);  // attempt 0: [0, base]
  EXPECT_LE(h.sleeps[1].count(), 200);  // attempt 1: [0, 2 * base]
  EXPECT_EQ(h.store->stats().throttled, 2u);
}

TEST(ExecutingStore, GivesUpAfterTheLastAttempt) {
  ExecutorOptions options;
  options.retries = 2;
  Harness h(options, "exec-giveup");
  h.flaky->fail_next = 10;
  auto got = h.store->Get("k");
  EXPECT_EQ(got.code(), ErrorCode::kSlowDown);
  EXPECT_EQ(h.flaky->calls.load(), 3);
  EXPECT_EQ(h.store->stats().failures, 1u);
}

TEST(ExecutingStore, NeverRetriesPermanentErrorsOrConditionalPuts) {
  ExecutorOptions options;
  Harness h(options, "exec-permanent");
  EXPECT_EQ(h.store->Get("absent").code(), ErrorCode::kNotFound);
  EXPECT_EQ(h.flaky->calls.load(), 1);
  h.flaky->fail_next = 1;
  h.flaky->code = ErrorCode::kTimeout;
  PutRequest conditional = Put("c");
  conditional.if_none_match_star = true;
  EXPECT_EQ(h.store->Put(conditional).code(), ErrorCode::kTimeout);
  EXPECT_EQ(h.flaky->calls.load(), 2);
}

TEST(ExecutingStore, BoundsConcurrency) {
  ExecutorOptions options;
  options.concurrency = 3;
  Harness h(options, "exec-bound");
  h.flaky->delay = std::chrono::milliseconds(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) (void)h.store->Put(Put("k" + std::to_string(t) + "-" + std::to_string(i)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(h.flaky->max_running.load(), 3);
  EXPECT_GE(h.flaky->max_running.load(), 2);
}

TEST(RequestSlots, HighPriorityOvertakesQueuedWork) {
  RequestSlots slots(1);
  slots.Acquire(0);  // the one slot is busy
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> low;
  for (int i = 0; i < 4; ++i) {
    low.emplace_back([&] {
      slots.Acquire(0);
      {
        std::lock_guard lock(mu);
        order.push_back(0);
      }
      slots.Release();
    });
  }
  while (slots.waiting() < 4) std::this_thread::yield();
  std::thread high([&] {
    slots.Acquire(100);
    {
      std::lock_guard lock(mu);
      order.push_back(100);
    }
    slots.Release();
  });
  while (slots.waiting() < 5) std::this_thread::yield();
  slots.Release();
  high.join();
  for (auto& t : low) t.join();
  ASSERT_EQ(order.size(), 5u);
  EXPECT_EQ(order.front(), 100);
}

TEST(RequestSlots, GrowingCapacityAdmitsWaitersAtOnceAndEqualsGoInArrivalOrder) {
  RequestSlots slots(1);
  slots.Acquire(0);
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&, i] {
      slots.Acquire(0);
      std::lock_guard lock(mu);
      order.push_back(i);
    });
    while (slots.waiting() < i + 1) std::this_thread::yield();  // arrive one after another
  }
  slots.SetCapacity(2);  // one more slot: the first to arrive gets it, no release needed
  waiters[0].join();     // hangs if the slot went to another waiter
  EXPECT_EQ(slots.in_flight(), 2);
  EXPECT_EQ(slots.waiting(), 2);
  slots.SetCapacity(4);  // room for both others at once
  waiters[1].join();
  waiters[2].join();
  EXPECT_EQ(slots.in_flight(), 4);
  // Which of the last two wrote first is up to the scheduler; the first slot went to 0.
  EXPECT_EQ(order.front(), 0);
  for (int i = 0; i < 4; ++i) slots.Release();
  EXPECT_EQ(slots.in_flight(), 0);
}

TEST(ExecutingStore, AutotuneShrinksWhenThrottledAndGrowsWhenFast) {
  ExecutorOptions options;
  options.concurrency = 10;
  options.retries = 0;
  options.autotune.enabled = true;
  options.autotune.window = 4;
  options.autotune.min_concurrency = 2;
  options.autotune.max_concurrency = 12;
  options.autotune.target_latency = std::chrono::milliseconds(50);
  Harness h(options, "exec-autotune");
  h.flaky->fail_next = 4;
  for (int i = 0; i < 4; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 7);  // 10 * 0.7
  ASSERT_TRUE(h.store->Put(Put("k")).ok());
  for (int i = 0; i < 3 + 4 * 20; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 12);  // fast answers: +1 a window, up to the max
}

// Slow start: fast windows double the slots until the first slow one, then +1 a window.
TEST(ExecutingStore, AutotuneDoublesUntilTheFirstSlowWindowThenGrowsByOne) {
  ExecutorOptions options;
  options.concurrency = 16;
  options.retries = 0;
  options.autotune.enabled = true;
  options.autotune.window = 4;
  options.autotune.min_concurrency = 1;
  options.autotune.max_concurrency = 1024;
  options.autotune.target_latency = std::chrono::milliseconds(20);
  Harness h(options, "exec-autotune-slow-start");
  ASSERT_TRUE(h.store->Put(Put("k")).ok());  // the first request of the first window
  for (int i = 0; i < 3; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 32);
  for (int i = 0; i < 8; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 128);
  h.flaky->delay = std::chrono::milliseconds(40);  // over 1.5x the target: slow start ends
  for (int i = 0; i < 4; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 127);
  h.flaky->delay = std::chrono::milliseconds(0);
  for (int i = 0; i < 8; ++i) (void)h.store->Get("k");
  EXPECT_EQ(h.store->stats().concurrency, 129) << "fast again: +1 a window, no more doubling";
}

TEST(ExecutingStore, ACallTimeoutEndsTheWaitForASlot) {
  ExecutorOptions options;
  options.concurrency = 1;
  Harness h(options, "exec-slot-deadline");
  ASSERT_TRUE(h.store->Put(Put("k")).ok());
  h.flaky->delay = std::chrono::milliseconds(1500);
  std::thread holder([&] { (void)h.store->Get("k"); });  // takes the only slot for 1.5 s
  while (h.store->stats().in_flight == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const int calls_before = h.flaky->calls.load();
  const auto start = std::chrono::steady_clock::now();
  Result<GetResult> got = [&] {
    CallScope scope(CallOptions{.timeout = std::chrono::milliseconds(100)});
    return h.store->Get("k");
  }();
  EXPECT_EQ(got.code(), ErrorCode::kTimeout) << got.status().ToString();
  EXPECT_NE(got.status().message().find("no request slot"), std::string::npos) << got.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1200));
  EXPECT_EQ(h.flaky->calls.load(), calls_before) << "a request that got no slot is not sent";
  EXPECT_EQ(h.store->stats().waiting, 0) << "the waiter that gave up left the queue";
  holder.join();
  h.flaky->delay = std::chrono::milliseconds(0);
  EXPECT_TRUE(h.store->Get("k").ok()) << "the slot it did not take is still there";
  EXPECT_EQ(h.store->stats().peak_in_flight, 1);
}

TEST(ExecutingStore, TheExecutorTimeoutBoundsTheSlotWaitToo) {
  ExecutorOptions options;
  options.concurrency = 1;
  options.timeout = std::chrono::milliseconds(100);
  Harness h(options, "exec-own-deadline");
  ASSERT_TRUE(h.store->Put(Put("k")).ok());
  h.flaky->delay = std::chrono::milliseconds(1000);
  std::thread holder([&] { (void)h.store->Get("k"); });
  while (h.store->stats().in_flight == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Result<GetResult> got = h.store->Get("k");
  EXPECT_EQ(got.code(), ErrorCode::kTimeout);
  EXPECT_NE(got.status().message().find("executor's timeout of 100 ms"), std::string::npos) << got.status().message();
  holder.join();
}

TEST(CallScope, SetsPriorityAndTheSoonerDeadlineAndRestoresThem) {
  auto& context = util::ThreadRequestContext();
  ASSERT_EQ(context.priority, 0);
  ASSERT_FALSE(context.deadline.has_value());
  {
    CallScope outer(CallOptions{.priority = 100, .timeout = std::chrono::milliseconds(200)});
    EXPECT_EQ(PriorityScope::Current(), 100);
    ASSERT_TRUE(context.deadline.has_value());
    const auto outer_deadline = *context.deadline;
    {
      CallScope inner(CallOptions{.timeout = std::chrono::seconds(60)});  // cannot extend it
      EXPECT_EQ(*context.deadline, outer_deadline);
      EXPECT_EQ(PriorityScope::Current(), 100);  // not given: kept
    }
    {
      CallScope inner(CallOptions{.priority = 1, .timeout = std::chrono::milliseconds(1)});
      EXPECT_LT(*context.deadline, outer_deadline);
      EXPECT_EQ(PriorityScope::Current(), 1);
    }
    EXPECT_EQ(*context.deadline, outer_deadline);
    // Bulk workers take both.
    std::atomic<int> same{0};
    util::ParallelFor(8, 4, [&](size_t) {
      if (util::ThreadRequestContext().priority == 100 && util::ThreadRequestContext().deadline == outer_deadline)
        ++same;
    });
    EXPECT_EQ(same.load(), 8);
  }
  EXPECT_EQ(context.priority, 0);
  EXPECT_FALSE(context.deadline.has_value());
  EXPECT_THROW(CallScope(CallOptions{.timeout = std::chrono::milliseconds(0)}), InvalidArgument);
  EXPECT_EQ(context.priority, 0);
}

TEST(ExecutorOptions, ValidateNamesTheBadOption) {
  ExecutorOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.concurrency = 0;
  EXPECT_NE(options.Validate().message().find("concurrency"), std::string::npos);
  options = ExecutorOptions();
  options.autotune.enabled = true;
  options.autotune.min_concurrency = 10;
  options.autotune.max_concurrency = 5;
  EXPECT_FALSE(options.Validate().ok());
}

TEST(PriorityScope, NestsAndReachesParallelWorkers) {
  EXPECT_EQ(PriorityScope::Current(), 0);
  {
    PriorityScope outer(100);
    {
      PriorityScope inner(5);
      EXPECT_EQ(PriorityScope::Current(), 5);
    }
    EXPECT_EQ(PriorityScope::Current(), 100);
    std::vector<int> seen(64, -1);
    util::ParallelFor(seen.size(), 8, [&](size_t i) { seen[i] = PriorityScope::Current(); });
    for (int p : seen) EXPECT_EQ(p, 100);
  }
  EXPECT_EQ(PriorityScope::Current(), 0);
}

}  // namespace
}  // namespace s3db::exec
