#include "index/partition_index.h"

#include <algorithm>
#include <exception>

#include "util/parallel.h"

namespace s3db::core {
namespace {

PartitionFailure Failure(const ReferenceIo& io, const std::string& id, const std::string& key, const char* operation,
                         ErrorCode code, const std::string& message) {
  PartitionFailure f;
  f.id = id;
  f.key = key;
  if (auto parts = io.layout.ParsePartitionKey(io.resource, key)) f.partition = parts->partition;
  f.operation = operation;
  f.code = code;
  f.message = message;
  return f;
}

// Runs `request` on every key in parallel; returns the keys that succeeded, in input order,
// and adds a failure for each of the others.
std::vector<std::string> ForEachKey(const ReferenceIo& io, const std::string& id, const std::vector<std::string>& keys,
                                    const char* operation, const std::function<Status(const std::string&)>& request,
                                    std::vector<PartitionFailure>* failures) {
  std::vector<Status> statuses(keys.size());
  util::ParallelFor(keys.size(), io.concurrency, [&](size_t i) { statuses[i] = request(keys[i]); });
  std::vector<std::string> done;
  done.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].ok()) {
      done.push_back(keys[i]);
    } else {
      failures->push_back(Failure(io, id, keys[i], operation, statuses[i].code(), statuses[i].message()));
    }
  }
  return done;
}

Status PutReference(ObjectStore& store, const std::string& key) {
  PutRequest put;
  put.key = key;  // an empty object: the key is the whole message
  return store.Put(put).status();
}

}  // namespace

std::vector<ReferenceOutcome> WriteNewReferences(const ReferenceIo& io, const std::vector<ReferenceChange>& changes) {
  std::vector<ReferenceOutcome> out(changes.size());
  std::vector<std::pair<size_t, const std::string*>> sent;  // (change, key) of each PUT, by its index
  std::vector<PutRequest> puts;
  for (size_t c = 0; c < changes.size(); ++c) {
    for (const std::string& key : changes[c].put) {
      sent.emplace_back(c, &key);
      PutRequest put;
      put.key = key;  // an empty object: the key is the whole message
      puts.push_back(std::move(put));
    }
  }
  std::vector<std::optional<Status>> failed(sent.size());
  PutEachOptions options;
  options.concurrency = io.concurrency;
  io.store.PutEach(std::move(puts), options, [&](size_t index, const Result<ObjectInfo>& written) {
    if (!written.ok()) failed[index] = written.status();
  });
  for (size_t i = 0; i < sent.size(); ++i) {
    const auto& [c, key] = sent[i];
    if (failed[i]) {
      out[c].failures.push_back(Failure(io, changes[c].id, *key, "put", failed[i]->code(), failed[i]->message()));
    } else {
      ++out[c].written;
    }
  }
  return out;
}

ReferenceOutcome ApplyReferenceChange(const ReferenceIo& io, const ReferenceChange& change) {
  ReferenceOutcome out;
  auto put = [&](const std::string& key) { return PutReference(io.store, key); };
  auto remove = [&](const std::string& key) { return io.store.Delete(key); };
  out.written = ForEachKey(io, change.id, change.put, "put", put, &out.failures).size();
  const std::vector<std::string> removed = ForEachKey(io, change.id, change.remove, "delete", remove, &out.failures);
  out.removed = removed.size();
  if (removed.empty() || !change.restore) return out;

  std::optional<std::set<std::string>> needed;
  try {
    needed = io.current_keys(change.id);
  } catch (const std::exception& e) {
    const ErrorCode code = dynamic_cast<const Error*>(&e) ? dynamic_cast<const Error&>(e).code() : ErrorCode::kInternal;
    for (const auto& key : removed) {
      out.failures.push_back(Failure(io, change.id, key, "restore", code,
                                     std::string("re-reading the record after removing the reference failed "
                                                 "(it may still need it): ") +
                                         e.what()));
    }
    return out;
  }
  if (!needed) return out;  // the record is gone: nothing needs the removed keys
  std::vector<std::string> back;
  for (const auto& key : removed) {
    if (needed->count(key)) back.push_back(key);
  }
  out.restored = ForEachKey(io, change.id, back, "restore", put, &out.failures).size();
  return out;
}

ReferenceQueue::ReferenceQueue(Apply apply, OnFailure on_failure, int workers)
    : apply_(std::move(apply)),
      on_failure_(std::move(on_failure)),
      workers_(static_cast<size_t>(std::max(1, workers))) {}

ReferenceQueue::~ReferenceQueue() {
  {
    std::unique_lock lock(mu_);
    // Nothing queued is dropped (the references of writes that returned must still land):
    // the workers empty the queue before they stop.
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ReferenceQueue::Push(ReferenceChange change) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(change));
    if (threads_.empty()) {
      for (size_t i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
    }
  }
  wake_.notify_one();
}

void ReferenceQueue::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && busy_.empty(); });
}

PartitionFlushResult ReferenceQueue::Flush() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && busy_.empty(); });
  PartitionFlushResult out = std::move(since_flush_);
  since_flush_ = {};
  return out;
}

std::deque<ReferenceChange>::iterator ReferenceQueue::NextRunnable() {
  return std::find_if(queue_.begin(), queue_.end(), [this](const ReferenceChange& c) { return !busy_.count(c.id); });
}

void ReferenceQueue::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    auto next = NextRunnable();
    if (next == queue_.end()) {
      if (stopping_ && queue_.empty()) return;
      wake_.wait(lock);
      continue;
    }
    ReferenceChange change = std::move(*next);
    queue_.erase(next);
    busy_.insert(change.id);
    lock.unlock();
    ReferenceOutcome outcome;
    try {
      outcome = apply_(change);
    } catch (const std::exception& e) {  // apply_ reports failures as values; this is a bug
      outcome.failures.push_back({change.id, "", "", "put", ErrorCode::kInternal, e.what()});
    }
    for (const auto& f : outcome.failures) {
      try {
        on_failure_(f);
      } catch (...) {  // a listener's failure stays with the listener
      }
    }
    lock.lock();
    busy_.erase(change.id);
    since_flush_.written += outcome.written + outcome.restored;
    since_flush_.removed += outcome.removed;
    for (auto& f : outcome.failures) since_flush_.failures.push_back(std::move(f));
    // Another change of this record may have waited for this one.
    wake_.notify_all();
    if (queue_.empty() && busy_.empty()) idle_.notify_all();
  }
}

}  // namespace s3db::core
