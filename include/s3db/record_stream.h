// Streaming a resource: RecordScan reads every record (or those of one partition) with a
// bounded read-ahead, RecordWriter writes records as they come with backpressure. Both keep
// memory independent of the resource's size, run their requests at the priority of the
// thread that created them (PriorityScope), and report a record that fails without stopping
// the others. Obtained from Resource::Scan and Resource::Writer (resource.h); docs/API.md
// "Streaming: Scan and Writer" walks through them.
#pragma once

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "s3db/export.h"

#include "s3db/errors.h"
#include "s3db/record.h"

namespace s3db {

// Per-item outcome of a bulk call or a stream: the ones that failed, with why. The rest
// succeeded.
struct S3DB_EXPORT BulkItemError {
  size_t index = 0;  // position in the input (a writer: the Write call; a scan: the listing)
  std::string id;    // empty when the item had no id yet
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<FieldError> fields;  // a ValidationError's failing fields; empty otherwise
};

struct S3DB_EXPORT ScanOptions {
  // Only the records of this partition whose fields equal `partition_values`, as in
  // ListOptions (resource.h). Empty: the whole resource.
  std::string partition = {};
  Json partition_values = Json::object();
  // Records read ahead of the consumer (being read or waiting to be taken); 0 = 4 x the
  // database's concurrency. Also bounds the GETs in flight, with the concurrency.
  size_t prefetch = 0;
  // Set: a record that cannot be read is reported here (on the thread calling Next) and
  // skipped. Unset: Next() throws its error at that record's position.
  std::function<void(const BulkItemError&)> on_error = {};
};

// The records of a resource in key (id) order, the order of ListIds(), read in the background
// by up to `concurrency` GETs at once, at most ScanOptions::prefetch ahead of the consumer;
// the next page of keys is listed while the records of the current one are read. Records
// deleted after the listing are skipped. Reads go to the store, not through a CachePlugin, so
// a scan does not evict a cache's working set. Through a partition, a record is returned
// only if its current data still puts it there (stale references are skipped).
//
// Not thread-safe: one consumer. Must not outlive its Database. Destroying or closing it
// stops the read-ahead (the requests in flight finish, no new one starts) and joins its
// threads.
class S3DB_EXPORT RecordScan {
 public:
  class Impl;  // internal (src/resource/record_scan.h)
  explicit RecordScan(std::unique_ptr<Impl> impl);
  RecordScan(RecordScan&&) noexcept;
  RecordScan& operator=(RecordScan&&) noexcept;
  ~RecordScan();

  // The next record; nullopt at the end. Throws a listing failure, and a record's failure
  // when no on_error is set; after a throw the scan is over (later calls return nullopt).
  std::optional<Record> Next();
  // Stops the read-ahead; Next() returns nullopt from now on. Safe at any point, repeatable.
  void Close();

  // `for (const Record& r : users.Scan())`. begin() reads the first record; the iterator
  // is a single-pass input iterator over this scan, and may throw as Next() does.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Record;
    using difference_type = std::ptrdiff_t;
    using pointer = Record*;
    using reference = Record&;

    iterator() = default;
    reference operator*() const;
    pointer operator->() const { return &**this; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.scan_ == b.scan_; }

   private:
    friend class RecordScan;
    explicit iterator(RecordScan* scan) : scan_(scan) {}
    RecordScan* scan_ = nullptr;  // null: the end
  };
  iterator begin();
  iterator end() { return iterator(); }

 private:
  std::unique_ptr<Impl> impl_;
  std::optional<Record> current_;  // what the iterator points at
};

enum class WriteMode {
  kInsert,  // Insert: an id that is taken fails (AlreadyExists)
  kUpsert,  // Upsert: the record needs an "id" string; inserts or updates (merging)
};

struct S3DB_EXPORT WriterOptions {
  WriteMode mode = WriteMode::kInsert;
  // Records accepted by Write but not yet written; Write blocks while there are this many.
  // 0 = 4 x the database's concurrency.
  size_t max_pending = 0;
  // Set: each failure is reported here, from a writer thread (one call at a time, in the
  // order the writes finish), and not kept in WriterResult::errors. Must not throw.
  std::function<void(const BulkItemError&)> on_error = {};
};

struct S3DB_EXPORT WriterResult {
  size_t written = 0;
  size_t failed = 0;
  std::vector<BulkItemError> errors;  // empty when on_error was set
};

// Writes records on `concurrency` background threads through Resource::Insert or Upsert, so
// hooks, events, validation, unique values and partitions apply exactly as for single calls.
// Records are written in parallel, so not necessarily in the order given. Thread-safe: many
// threads may Write at once. Must not outlive its Database; destroying it closes it.
class S3DB_EXPORT RecordWriter {
 public:
  class Impl;  // internal (src/resource/record_writer.cc)
  explicit RecordWriter(std::unique_ptr<Impl> impl);
  RecordWriter(RecordWriter&&) noexcept;
  RecordWriter& operator=(RecordWriter&&) noexcept;
  ~RecordWriter();  // Close(), never throws

  // Queues one record (a JSON object, "id" optional in insert mode), blocking while
  // max_pending are pending. A record that fails is reported (on_error or Close's result),
  // never thrown; BulkItemError::index is the 0-based number of this Write call. Throws
  // InvalidArgument after Close.
  void Write(Json record);
  // Waits until every record accepted so far is written or has failed.
  void Flush();
  // Waits for everything, stops the threads and returns the totals. Later calls return the
  // same totals.
  WriterResult Close();

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3db
