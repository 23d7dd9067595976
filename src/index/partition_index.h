// Partition references on the store: writing and removing them so that concurrent writers
// never leave a record without a reference it needs, and the background queue of
// asyncPartitions resources.
//
// The protocol (docs/API.md "Partitions" states the guarantee):
//  - References are written after the record and removed before it (a delete) or after the
//    new ones are written (an update that moves the record).
//  - A writer that removed references re-reads the record afterwards and writes back every
//    removed key the record's current data still needs. Without that, writer A moving a
//    record eu -> us could remove "eu" just after writer B, moving it us -> eu, wrote it, and
//    the record would end in eu with no reference. With it, a DELETE of a needed key is
//    always followed by a PUT of it: either by the remover (its re-read sees the version that
//    needs the key) or by the writer of a later version that brings the key back.
//  - So once every writer has finished, each record's references all exist. Interleaved
//    writers can leave extra (stale) references behind; reads skip them and repair removes
//    them.
//
// May call: format/, util/, and the store through ObjectStore.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "format/key_layout.h"
#include "s3db/object_store.h"
#include "s3db/resource.h"

namespace s3db::core {

// What one write of a record does to its references.
struct ReferenceChange {
  std::string id;
  std::vector<std::string> put;     // keys to write (empty objects)
  std::vector<std::string> remove;  // keys to delete, after the puts
  // Re-read the record after the deletes and write back removed keys it still needs. Off only
  // for a delete that removes the record itself right after.
  bool restore = true;
};

struct ReferenceOutcome {
  size_t written = 0;
  size_t removed = 0;
  size_t restored = 0;  // removed keys written back because the record needs them again
  std::vector<PartitionFailure> failures;
};

struct ReferenceIo {
  ObjectStore& store;
  const format::KeyLayout& layout;
  std::string resource;
  int concurrency = 8;
  // The reference keys the record needs now (under the current definition), read fresh;
  // nullopt when the record does not exist. Throws s3db::Error on failure.
  std::function<std::optional<std::set<std::string>>(const std::string& id)> current_keys;
};

// Applies a change: the puts in parallel, then the deletes in parallel, then (when something
// was deleted and change.restore) the re-read and write-back. Never throws; every request that
// failed is in the outcome.
ReferenceOutcome ApplyReferenceChange(const ReferenceIo& io, const ReferenceChange& change);

// The references of many new records (changes with puts only: inserts), all through one
// PutEach, so they share the store's requests in flight. The outcome of each change, in order;
// never throws.
std::vector<ReferenceOutcome> WriteNewReferences(const ReferenceIo& io, const std::vector<ReferenceChange>& changes);

// The background writer of an asyncPartitions resource. Changes of one record are applied in
// the order they were pushed, one at a time; changes of different records run on up to
// `workers` threads (started on the first push). Failures go to `on_failure` as they happen
// and are kept for the next Flush.
class ReferenceQueue {
 public:
  using Apply = std::function<ReferenceOutcome(const ReferenceChange&)>;
  using OnFailure = std::function<void(const PartitionFailure&)>;

  ReferenceQueue(Apply apply, OnFailure on_failure, int workers);
  // Applies everything still queued, then stops the threads.
  ~ReferenceQueue();
  ReferenceQueue(const ReferenceQueue&) = delete;
  ReferenceQueue& operator=(const ReferenceQueue&) = delete;

  void Push(ReferenceChange change);
  // Waits until the queue is empty and no change is being applied; returns what was done and
  // what failed since the previous Flush.
  PartitionFlushResult Flush();
  // Waits as Flush does, leaving the failures for the next Flush.
  void WaitIdle();

 private:
  void Work();
  // The first queued change whose record has no change in progress; queue_.end() if none.
  std::deque<ReferenceChange>::iterator NextRunnable();

  Apply apply_;
  OnFailure on_failure_;
  size_t workers_;
  std::mutex mu_;
  std::condition_variable wake_;  // a change was pushed, a record freed, or stopping
  std::condition_variable idle_;  // the queue may have drained
  std::deque<ReferenceChange> queue_;
  std::set<std::string> busy_;  // ids with a change in progress
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  PartitionFlushResult since_flush_;
};

}  // namespace s3db::core
