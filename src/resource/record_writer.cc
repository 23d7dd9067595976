// RecordWriter (record_stream.h): a bounded queue of records drained by `concurrency` threads
// that call Resource::Insert or Upsert, so a streamed write behaves exactly as single calls.
// Writes into a store that sends them from an event loop (the S3 store) are drained instead
// by two threads that each take what is queued (up to `concurrency` records) and write it
// with one InsertMany or UpsertMany: the same answers per record, with `concurrency` requests
// in flight on a handful of threads; two, so one batch's last answers overlap the next batch.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "resource/bulk_item_error.h"
#include "resource/resource_context.h"
#include "s3db/resource.h"
#include "util/parallel.h"

namespace s3db {

class RecordWriter::Impl {
 public:
  Impl(Resource& resource, const WriterOptions& options, int concurrency, bool asynchronous_writes)
      : resource_(resource),
        mode_(options.mode),
        max_pending_(options.max_pending ? options.max_pending : 4 * static_cast<size_t>(std::max(1, concurrency))),
        on_error_(options.on_error),
        batch_(asynchronous_writes ? static_cast<size_t>(std::max(1, concurrency)) : 1),
        workers_(batch_ > 1 ? 2 : static_cast<size_t>(std::max(1, concurrency))),
        context_(util::ThreadRequestContext()) {}  // the writes run at the creator's priority and deadline
  ~Impl() {
    try {
      Close();
    } catch (...) {
      // A destructor does not throw; Close() reports what matters.
    }
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void Write(Json record) {
    {
      std::unique_lock lock(mu_);
      settled_cv_.wait(lock, [&] { return closed_ || pending_ < max_pending_; });  // backpressure
      if (closed_) {
        throw InvalidArgument("resource '" + resource_.name() + "': Write on a RecordWriter that was closed",
                              resource_.name());
      }
      if (threads_.empty()) {
        for (size_t i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
      }
      queue_.emplace_back(next_index_++, std::move(record));
      ++pending_;
    }
    work_cv_.notify_one();
  }

  void Flush() {
    std::unique_lock lock(mu_);
    settled_cv_.wait(lock, [&] { return pending_ == 0; });
  }

  WriterResult Close() {
    std::lock_guard closing(close_mu_);  // one closer joins the threads
    {
      std::unique_lock lock(mu_);
      closed_ = true;
      settled_cv_.notify_all();  // a Write waiting for room now throws
      settled_cv_.wait(lock, [&] { return pending_ == 0; });
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard lock(mu_);
    return result_;
  }

 private:
  void Work() {
    util::ThreadRequestContext() = context_;
    while (true) {
      std::vector<std::pair<size_t, Json>> items;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left
        while (!queue_.empty() && items.size() < batch_) {
          items.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<BulkItemError> errors;
      if (batch_ > 1) {
        errors = WriteBatch(items);
      } else if (std::optional<BulkItemError> error = WriteOne(items[0].first, std::move(items[0].second))) {
        errors.push_back(std::move(*error));
      }
      if (on_error_) {
        std::lock_guard reporting(report_mu_);
        for (const BulkItemError& error : errors) {
          try {
            on_error_(error);
          } catch (...) {
            // A reporter that throws must not take a writer thread down with it.
          }
        }
      }
      {
        std::lock_guard lock(mu_);
        result_.failed += errors.size();
        result_.written += items.size() - errors.size();
        if (!on_error_) {
          for (BulkItemError& error : errors) result_.errors.push_back(std::move(error));
        }
        pending_ -= items.size();
      }
      settled_cv_.notify_all();
    }
  }

  // Writes a batch with one InsertMany or UpsertMany; the failures, indexed as the writer
  // numbered them.
  std::vector<BulkItemError> WriteBatch(std::vector<std::pair<size_t, Json>>& items) {
    std::vector<Json> records;
    records.reserve(items.size());
    for (auto& [index, record] : items) records.push_back(std::move(record));
    std::vector<BulkItemError> errors;
    try {
      std::vector<BulkItemError> failed =
          mode_ == WriteMode::kInsert ? resource_.InsertMany(records).errors : resource_.UpsertMany(records).errors;
      for (BulkItemError& error : failed) {
        error.index = items[error.index].first;
        errors.push_back(std::move(error));
      }
    } catch (const std::exception& e) {  // the batch as a whole (not expected: InsertMany answers per item)
      for (size_t i = 0; i < items.size(); ++i) errors.push_back(core::ItemError(items[i].first, "", e));
    }
    return errors;
  }

  // Writes one record; its failure, if any.
  std::optional<BulkItemError> WriteOne(size_t index, Json&& record) {
    const std::string id = core::GivenId(record);
    try {
      if (mode_ == WriteMode::kInsert) {
        resource_.Insert(std::move(record));  // the queue's copy: no need for another
      } else {
        if (record.is_object() && id.empty()) {
          throw InvalidArgument("resource '" + resource_.name() + "': record #" + std::to_string(index) +
                                    " has no \"id\" string, which an upsert needs",
                                resource_.name());
        }
        resource_.Upsert(id, record);
      }
      return std::nullopt;
    } catch (const std::exception& e) {
      return core::ItemError(index, id, e);
    } catch (...) {
      return BulkItemError{index, id, ErrorCode::kInternal, "unknown failure", {}};
    }
  }

  Resource& resource_;
  const WriteMode mode_;
  const size_t max_pending_;
  const std::function<void(const BulkItemError&)> on_error_;
  const size_t batch_;  // records a worker writes at once: 1, or `concurrency` with one InsertMany
  const size_t workers_;
  const util::RequestContext context_;

  std::mutex mu_;
  std::condition_variable work_cv_;     // workers: a record or the stop
  std::condition_variable settled_cv_;  // Write, Flush, Close: a record finished, or closed
  std::deque<std::pair<size_t, Json>> queue_;
  size_t next_index_ = 0;
  size_t pending_ = 0;  // accepted, not yet written or failed
  bool closed_ = false;
  bool stopping_ = false;
  WriterResult result_;
  std::vector<std::thread> threads_;  // started by the first Write

  std::mutex report_mu_;  // one on_error call at a time
  std::mutex close_mu_;
};

RecordWriter::RecordWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordWriter::RecordWriter(RecordWriter&&) noexcept = default;
RecordWriter& RecordWriter::operator=(RecordWriter&&) noexcept = default;
RecordWriter::~RecordWriter() = default;  // Impl's destructor closes

void RecordWriter::Write(Json record) {
  if (!impl_) throw InvalidArgument("Write on a RecordWriter that was moved from");
  impl_->Write(std::move(record));
}

void RecordWriter::Flush() {
  if (impl_) impl_->Flush();
}

WriterResult RecordWriter::Close() { return impl_ ? impl_->Close() : WriterResult{}; }

RecordWriter Resource::Writer(const WriterOptions& options) {
  return RecordWriter(std::make_unique<RecordWriter::Impl>(*this, options, context_->settings().concurrency,
                                                           context_->store().capabilities().asynchronous_writes));
}

}  // namespace s3db
