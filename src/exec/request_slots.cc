#include "exec/request_slots.h"

namespace s3db::exec {

void RequestSlots::Acquire(int priority) {
  std::unique_lock lock(mu_);
  Waiter me{priority, next_ticket_++};
  if (queue_.empty() && in_flight_ < capacity_) {
    ++in_flight_;
    return;
  }
  queue_.push(me);
  cv_.wait(lock, [&] { return in_flight_ < capacity_ && IsNext(me); });
  queue_.pop();
  ++in_flight_;
  // More slots may be free (capacity grew): let the next waiter check.
  cv_.notify_all();
}

void RequestSlots::Release() {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  cv_.notify_all();
}

void RequestSlots::SetCapacity(int capacity) {
  {
    std::lock_guard lock(mu_);
    capacity_ = capacity < 1 ? 1 : capacity;
  }
  cv_.notify_all();
}

int RequestSlots::capacity() const {
  std::lock_guard lock(mu_);
  return capacity_;
}
int RequestSlots::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}
int RequestSlots::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace s3db::exec
