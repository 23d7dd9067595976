#include "exec/request_slots.h"

#include <algorithm>

namespace s3db::exec {

void RequestSlots::Acquire(int priority) { (void)Acquire(priority, std::chrono::steady_clock::time_point::max()); }

bool RequestSlots::Acquire(int priority, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (queue_.empty() && in_flight_ < capacity_) {
    peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
    return true;
  }
  // Wait to be handed a slot: only the waiter that gets it wakes, where waking every waiter
  // to re-check made each release cost a wake-up per waiter (bulk calls nest 32 x 32 threads).
  std::condition_variable granted_cv;
  bool granted = false;
  const Waiter me{priority, next_ticket_++, &granted_cv, &granted};
  queue_.insert(me);
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    granted_cv.wait(lock, [&] { return granted; });
  } else if (!granted_cv.wait_until(lock, deadline, [&] { return granted; })) {
    queue_.erase(me);  // not granted, so still queued: nobody holds a pointer to us after this
    return false;
  }
  return true;
}

void RequestSlots::Release() {
  std::lock_guard lock(mu_);
  --in_flight_;
  GrantLocked();
}

void RequestSlots::SetCapacity(int capacity) {
  std::lock_guard lock(mu_);
  capacity_ = capacity < 1 ? 1 : capacity;
  GrantLocked();
}

void RequestSlots::GrantLocked() {
  while (!queue_.empty() && in_flight_ < capacity_) {
    const Waiter next = *queue_.begin();
    queue_.erase(queue_.begin());
    peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);  // on the waiter's behalf
    *next.granted = true;
    // Under the lock: once it sees `granted` the waiter returns and its cv is gone.
    next.cv->notify_one();
  }
}

int RequestSlots::capacity() const {
  std::lock_guard lock(mu_);
  return capacity_;
}
int RequestSlots::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}
int RequestSlots::peak_in_flight() const {
  std::lock_guard lock(mu_);
  return peak_in_flight_;
}
int RequestSlots::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace s3db::exec
