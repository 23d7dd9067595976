// ExecutingStore: an ObjectStore that runs every request of the store it wraps through the
// executor (include/s3db/executor.h): request slots by priority, retries for retryable
// failures under the shared RetryPolicy (exec/retry_policy.h), an overall deadline, and AIMD
// autotuning.
//
// Conditional puts are never retried here: whether a failed attempt was applied is only
// knowable by the backend (the S3 store tags its writes and checks), so it retries them.
//
// May call: util/ and the public headers (ObjectStore, ExecutorOptions).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "exec/request_slots.h"
#include "exec/retry_policy.h"
#include "s3db/executor.h"
#include "s3db/object_store.h"
#include "util/parallel.h"

namespace s3db::exec {

class ExecutingStore : public ObjectStore {
 public:
  // `sleep` is injectable so tests need not wait for real backoff.
  using SleepFn = std::function<void(std::chrono::milliseconds)>;
  ExecutingStore(std::unique_ptr<ObjectStore> inner, ExecutorOptions options, SleepFn sleep = nullptr);

  Result<ObjectInfo> Put(const PutRequest& request) override;
  Result<GetResult> Get(const std::string& key) override;
  Status Read(const std::string& key, const ObjectVisitor& visit) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Result<DeleteManyResult> DeleteMany(const std::vector<std::string>& keys) override;
  Result<ListPage> List(const ListRequest& request) override;
  // Over a store that sends its reads from an event loop (Capabilities::asynchronous_reads),
  // the slots gate each request through GetEachOptions' hooks and autotune sees every latency;
  // retries are that store's own, as its single requests' are. Over any other store, the
  // default: Read on `concurrency` threads, each read run as Read is.
  void GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) override;
  // The same for writes (Capabilities::asynchronous_writes). Unconditional PUTs are retried by
  // that store as its single Puts are; conditional ones settled by their write tag.
  void PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) override;
  Capabilities capabilities() const override { return inner_->capabilities(); }
  std::string Describe() const override { return inner_->Describe(); }
  // Local file maintenance, not a request: no slot, no retry.
  Result<StaleTemporaryResult> RemoveStaleTemporaries(const StaleTemporaryOptions& options) override {
    return inner_->RemoveStaleTemporaries(options);
  }
  Status DeleteIfMatch(const std::string& key, const std::string& etag) override;

  ExecutorStats stats() const;
  ObjectStore& inner() { return *inner_; }

 private:
  template <typename Call>
  auto Run(bool retryable_call, Call&& call) -> decltype(call());
  void Observe(std::chrono::steady_clock::duration latency, ErrorCode code);
  // The timeout a request gets when no slot came free in time (counted as a failure).
  Status NoSlot(bool call_deadline);
  // `options` with the slots gating each request of a batch sent by the inner store.
  GetEachOptions Gated(const GetEachOptions& options, const util::RequestContext& context);

  std::unique_ptr<ObjectStore> inner_;
  ExecutorOptions options_;
  const RetryPolicy retry_;  // from options_ (RetryOptionsFor)
  SleepFn sleep_;
  RequestSlots slots_;

  std::atomic<uint64_t> requests_{0}, retries_{0}, throttled_{0}, failures_{0};

  std::mutex tune_mu_;  // guards the autotune window
  int window_count_ = 0;
  double window_latency_ms_ = 0;
  bool window_throttled_ = false;
  bool slow_start_ = true;  // doubling until the first throttle or slow window
};

}  // namespace s3db::exec
