// A counting semaphore whose permits go to the highest-priority waiter, FIFO among equals,
// and whose capacity can change while it is in use (autotune). A freed slot is handed to
// the next waiter directly, waking that one thread only.
//
// May call: util/ and the public headers (ObjectStore, ExecutorOptions).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

namespace s3db::exec {

class RequestSlots {
 public:
  explicit RequestSlots(int capacity) : capacity_(capacity) {}

  void Acquire(int priority);
  // The same, giving up at `deadline`: false when no slot came free by then.
  bool Acquire(int priority, std::chrono::steady_clock::time_point deadline);
  void Release();
  // Shrinking takes effect as requests finish; running ones are never interrupted.
  void SetCapacity(int capacity);

  int capacity() const;
  int in_flight() const;
  int peak_in_flight() const;  // the most in flight at once so far
  int waiting() const;

 private:
  struct Waiter {
    int priority;
    uint64_t ticket;
    std::condition_variable* cv;  // the waiting thread's, on its stack
    bool* granted;
    bool operator<(const Waiter& o) const {  // best first: higher priority, then older ticket
      return priority != o.priority ? priority > o.priority : ticket < o.ticket;
    }
  };
  // Hands free slots to the best waiters, in order. mu_ held.
  void GrantLocked();

  mutable std::mutex mu_;
  int capacity_;
  int in_flight_ = 0;
  uint64_t next_ticket_ = 0;
  int peak_in_flight_ = 0;
  // Ordered best first; a set, so a waiter that gives up can leave it.
  std::set<Waiter> queue_;
};

}  // namespace s3db::exec
