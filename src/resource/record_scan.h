// RecordScan::Impl: the bounded, ordered read-ahead behind Resource::Scan (record_stream.h).
//
// One lister thread walks the key pages of a ScanSource; up to `concurrency` reader threads
// read the listed candidates (or one, handing them all to the source's read_each). Every candidate gets a sequence
// number in listing order, and results are handed to the consumer in that order. A reader starts candidate `seq` only
// when seq < delivered + prefetch, so at most `prefetch` records are in flight or waiting, however large the resource;
// the lister keeps less than two pages of candidates not yet started.
//
// May call: index/, record/, schema/, format/, exec/, store/, util/; the database only
// through ResourceContext.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3db/record.h"
#include "s3db/record_stream.h"

namespace s3db {
namespace core {

// A listed key that may give a record: its id and the key it was listed under (the record's
// key, or a partition reference).
struct ScanCandidate {
  std::string id;
  std::string key;
  std::string etag;  // as listed
};

// What a scan reads. Both functions throw s3db::Error on failure.
struct ScanSource {
  // The next page of candidates in key order (may be empty); nullopt after the last page.
  // Called by one thread, one call at a time.
  std::function<std::optional<std::vector<ScanCandidate>>()> next_page;
  // The record of a candidate, or nullopt to skip it (deleted meanwhile, no longer in the
  // partition). Called by many threads at once.
  std::function<std::optional<Record>(const ScanCandidate&)> read;
  // When set, used instead of `read` by one reader thread: pulls (sequence, candidate) from
  // `next` until it gives nullopt (it blocks while the read-ahead window is full) and calls
  // `done` once per candidate pulled, from any thread (the store's GetEach sends the reads).
  using Next = std::function<std::optional<std::pair<size_t, ScanCandidate>>()>;
  using Done = std::function<void(size_t sequence, const std::string& id, std::optional<Record>, std::exception_ptr)>;
  std::function<void(const Next& next, const Done& done)> read_each;
  // The lister lists the next page once fewer candidates than this wait to be read.
  size_t page_size = 1000;
};

}  // namespace core

// Hidden: as a member of the exported RecordScan it would otherwise leave libs3db exported.
class [[gnu::visibility("hidden")]] RecordScan::Impl {
 public:
  // Starts the threads, at the priority of the calling thread.
  Impl(core::ScanSource source, size_t prefetch, int concurrency, std::function<void(const BulkItemError&)> on_error);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::optional<Record> Next();
  // Lets the requests in flight finish, starts no other, joins the threads. Consumer only.
  void Stop();

 private:
  struct Outcome {
    std::string id;
    std::optional<Record> record;  // empty and no error: skipped
    std::exception_ptr error;
  };

  void ListPages();    // the lister thread
  void ReadRecords();  // a reader thread
  void ReadEach();     // the one reader thread, with source_.read_each
  // The next candidate a reader may start, with its sequence number; nullopt once there is
  // none and will be none (stopped, or listed and all started).
  std::optional<std::pair<size_t, core::ScanCandidate>> NextToStart();
  void Deliver(size_t sequence, Outcome outcome);

  core::ScanSource source_;
  const size_t prefetch_;
  std::function<void(const BulkItemError&)> on_error_;

  std::mutex mu_;
  std::condition_variable work_cv_;            // lister and readers: work, room or stop
  std::condition_variable ready_cv_;           // consumer: an outcome or the end
  std::deque<core::ScanCandidate> unstarted_;  // the first has sequence number started_
  size_t listed_ = 0;                          // candidates listed so far
  size_t started_ = 0;                         // candidates given to readers
  size_t delivered_ = 0;                       // outcomes taken by the consumer
  std::map<size_t, Outcome> done_;             // read, not yet taken (at most prefetch_)
  bool listing_done_ = false;
  std::exception_ptr listing_error_;
  std::exception_ptr reader_error_;  // read_each failed as a whole
  bool stop_ = false;
  bool finished_ = false;  // Next() returns nullopt from now on

  std::vector<std::thread> threads_;
};

}  // namespace s3db
