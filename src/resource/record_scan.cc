#include "resource/record_scan.h"

#include <algorithm>
#include <utility>

#include "resource/bulk_item_error.h"
#include "util/parallel.h"

namespace s3db {

RecordScan::Impl::Impl(core::ScanSource source, size_t prefetch, int concurrency,
                       std::function<void(const BulkItemError&)> on_error)
    : source_(std::move(source)), prefetch_(std::max<size_t>(1, prefetch)), on_error_(std::move(on_error)) {
  // The scan's requests run at the priority, and under the deadline, of the thread that
  // created it.
  const util::RequestContext context = util::ThreadRequestContext();
  const size_t readers = source_.read_each ? 1 : std::min(prefetch_, static_cast<size_t>(std::max(1, concurrency)));
  try {
    threads_.emplace_back([this, context] {
      util::ThreadRequestContext() = context;
      ListPages();
    });
    for (size_t i = 0; i < readers; ++i) {
      threads_.emplace_back([this, context] {
        util::ThreadRequestContext() = context;
        if (source_.read_each) {
          ReadEach();
        } else {
          ReadRecords();
        }
      });
    }
  } catch (...) {
    Stop();  // the threads that did start
    throw;
  }
}

RecordScan::Impl::~Impl() { Stop(); }

void RecordScan::Impl::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    finished_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void RecordScan::Impl::ListPages() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || unstarted_.size() < source_.page_size; });
      if (stop_) return;
    }
    std::optional<std::vector<core::ScanCandidate>> page;
    std::exception_ptr error;
    try {
      page = source_.next_page();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      if (page) {
        listed_ += page->size();
        for (auto& candidate : *page) unstarted_.push_back(std::move(candidate));
      } else {
        listing_done_ = true;
        listing_error_ = error;
      }
    }
    work_cv_.notify_all();
    ready_cv_.notify_all();  // the end may have come
    if (!page) return;
  }
}

std::optional<std::pair<size_t, core::ScanCandidate>> RecordScan::Impl::NextToStart() {
  std::optional<std::pair<size_t, core::ScanCandidate>> next;
  {
    std::unique_lock lock(mu_);
    work_cv_.wait(lock, [&] {
      return stop_ || (!unstarted_.empty() && started_ < delivered_ + prefetch_) ||
             (listing_done_ && unstarted_.empty());
    });
    if (stop_ || unstarted_.empty()) return std::nullopt;
    next.emplace(started_++, std::move(unstarted_.front()));
    unstarted_.pop_front();
  }
  work_cv_.notify_all();  // the lister may be waiting for room
  return next;
}

void RecordScan::Impl::Deliver(size_t sequence, Outcome outcome) {
  {
    std::lock_guard lock(mu_);
    done_.emplace(sequence, std::move(outcome));
  }
  ready_cv_.notify_all();
}

void RecordScan::Impl::ReadRecords() {
  while (std::optional<std::pair<size_t, core::ScanCandidate>> next = NextToStart()) {
    auto& [seq, candidate] = *next;
    Outcome outcome;
    try {
      outcome.record = source_.read(candidate);
    } catch (...) {
      outcome.error = std::current_exception();
    }
    outcome.id = std::move(candidate.id);
    Deliver(seq, std::move(outcome));
  }
}

void RecordScan::Impl::ReadEach() {
  auto done = [this](size_t sequence, const std::string& id, std::optional<Record> record, std::exception_ptr error) {
    Deliver(sequence, Outcome{id, std::move(record), std::move(error)});
  };
  try {
    source_.read_each([this] { return NextToStart(); }, done);
  } catch (...) {
    // read_each reports per candidate; a throw here is a failure of the whole read (none
    // expected): the candidates it pulled and did not deliver would stall the consumer.
    std::lock_guard lock(mu_);
    reader_error_ = std::current_exception();
  }
  ready_cv_.notify_all();
}

std::optional<Record> RecordScan::Impl::Next() {
  std::unique_lock lock(mu_);
  while (true) {
    if (finished_) return std::nullopt;
    if (reader_error_) {
      const std::exception_ptr error = reader_error_;
      lock.unlock();
      Stop();
      std::rethrow_exception(error);
    }
    if (auto it = done_.find(delivered_); it != done_.end()) {
      Outcome outcome = std::move(it->second);
      done_.erase(it);
      const size_t seq = delivered_++;
      work_cv_.notify_all();  // the window moved on
      if (outcome.record) return std::move(outcome.record);
      if (!outcome.error) continue;  // skipped
      if (!on_error_) {
        lock.unlock();
        Stop();
        std::rethrow_exception(outcome.error);
      }
      BulkItemError reported;
      try {
        std::rethrow_exception(outcome.error);
      } catch (const std::exception& e) {
        reported = core::ItemError(seq, outcome.id, e);
      } catch (...) {
        reported = BulkItemError{seq, outcome.id, ErrorCode::kInternal, "unknown failure", {}};
      }
      lock.unlock();
      on_error_(reported);
      lock.lock();
      continue;
    }
    if (listing_done_ && delivered_ == listed_) {
      const std::exception_ptr error = listing_error_;
      lock.unlock();
      Stop();
      if (error) std::rethrow_exception(error);
      return std::nullopt;
    }
    ready_cv_.wait(lock);
  }
}

// ---- RecordScan ------------------------------------------------------------------------------

RecordScan::RecordScan(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordScan::RecordScan(RecordScan&&) noexcept = default;
RecordScan& RecordScan::operator=(RecordScan&&) noexcept = default;
RecordScan::~RecordScan() = default;

std::optional<Record> RecordScan::Next() { return impl_ ? impl_->Next() : std::nullopt; }

void RecordScan::Close() {
  if (impl_) impl_->Stop();
}

RecordScan::iterator RecordScan::begin() {
  current_ = Next();
  return current_ ? iterator(this) : iterator();
}

Record& RecordScan::iterator::operator*() const { return *scan_->current_; }

RecordScan::iterator& RecordScan::iterator::operator++() {
  scan_->current_ = scan_->Next();
  if (!scan_->current_) scan_ = nullptr;
  return *this;
}

}  // namespace s3db
