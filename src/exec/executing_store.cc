#include "exec/executing_store.h"

#include <algorithm>
#include <optional>
#include <string>
#include <thread>

#include "util/parallel.h"

namespace s3db {

PriorityScope::PriorityScope(int priority) : previous_(util::ThreadPriority()) { util::ThreadPriority() = priority; }
PriorityScope::~PriorityScope() { util::ThreadPriority() = previous_; }
int PriorityScope::Current() { return util::ThreadPriority(); }

Status CallOptions::Validate() const {
  if (timeout && timeout->count() <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "CallOptions::timeout must be positive, got " + std::to_string(timeout->count()) + " ms");
  }
  return Status::Ok();
}

CallScope::CallScope(const CallOptions& options)
    : previous_priority_(util::ThreadRequestContext().priority),
      previous_deadline_(util::ThreadRequestContext().deadline) {
  ThrowIfError(options.Validate());
  util::RequestContext& context = util::ThreadRequestContext();
  if (options.priority) context.priority = *options.priority;
  if (options.timeout) {
    const auto deadline = std::chrono::steady_clock::now() + *options.timeout;
    if (!context.deadline || deadline < *context.deadline) context.deadline = deadline;
  }
}

CallScope::~CallScope() {
  util::RequestContext& context = util::ThreadRequestContext();
  context.priority = previous_priority_;
  context.deadline = previous_deadline_;
}

Status ExecutorOptions::Validate() const {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kInvalidArgument, "executor: " + what); };
  if (concurrency < 1 || concurrency > 1024)
    return bad("concurrency must be 1..1024, got " + std::to_string(concurrency));
  if (retries < 0 || retries > 100) return bad("retries must be 0..100, got " + std::to_string(retries));
  if (retry_delay.count() < 0 || max_retry_delay < retry_delay) return bad("need 0 <= retry_delay <= max_retry_delay");
  if (timeout.count() <= 0) return bad("timeout must be positive");
  if (autotune.enabled) {
    if (autotune.min_concurrency < 1 || autotune.max_concurrency < autotune.min_concurrency ||
        autotune.max_concurrency > 1024) {
      return bad("autotune needs 1 <= min_concurrency <= max_concurrency <= 1024");
    }
    if (autotune.window < 1) return bad("autotune window must be at least 1");
    if (autotune.target_latency.count() <= 0) return bad("autotune target_latency must be positive");
  }
  return Status::Ok();
}

namespace exec {

ExecutingStore::ExecutingStore(std::unique_ptr<ObjectStore> inner, ExecutorOptions options, SleepFn sleep)
    : inner_(std::move(inner)),
      options_(options),
      retry_(RetryOptionsFor(options)),
      sleep_(sleep ? std::move(sleep) : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }),
      slots_(options.autotune.enabled
                 ? std::clamp(options.concurrency, options.autotune.min_concurrency, options.autotune.max_concurrency)
                 : options.concurrency) {}

void ExecutingStore::Observe(std::chrono::steady_clock::duration latency, ErrorCode code) {
  if (code == ErrorCode::kSlowDown) throttled_++;
  if (!options_.autotune.enabled) return;
  std::lock_guard lock(tune_mu_);
  window_latency_ms_ += std::chrono::duration<double, std::milli>(latency).count();
  window_throttled_ |= code == ErrorCode::kSlowDown;
  if (++window_count_ < options_.autotune.window) return;
  // As TCP does: slow start (double each window) until the first sign of congestion, then
  // AIMD: back off hard when throttled or slow, probe upward gently otherwise. Without the
  // slow start, growing from 16 to 256 at +1 per window of 32 requests took ~7,700 requests.
  const auto& tune = options_.autotune;
  int current = slots_.capacity();
  double mean = window_latency_ms_ / window_count_;
  const double target = static_cast<double>(tune.target_latency.count());
  int next = current;
  if (window_throttled_) {
    slow_start_ = false;
    next = current * 7 / 10;
  } else if (mean > 1.5 * target) {
    slow_start_ = false;
    next = current - 1;
  } else if (mean < target) {
    next = slow_start_ ? current * 2 : current + 1;
  } else {
    slow_start_ = false;  // between target and 1.5x: the right neighbourhood; hold
  }
  slots_.SetCapacity(std::clamp(next, tune.min_concurrency, tune.max_concurrency));
  window_count_ = 0;
  window_latency_ms_ = 0;
  window_throttled_ = false;
}

namespace {

// While it lives, the thread's deadline is the request's own: the S3 store below bounds its
// attempts and waits by it. The call's deadline comes back after.
class RequestDeadline {
 public:
  explicit RequestDeadline(std::chrono::steady_clock::time_point deadline)
      : previous_(util::ThreadRequestContext().deadline) {
    util::ThreadRequestContext().deadline = deadline;
  }
  ~RequestDeadline() { util::ThreadRequestContext().deadline = previous_; }

 private:
  std::optional<std::chrono::steady_clock::time_point> previous_;
};

}  // namespace

template <typename Call>
auto ExecutingStore::Run(bool retryable_call, Call&& call) -> decltype(call()) {
  // The sooner of this request's own timeout and the deadline of the call it serves.
  const util::RequestContext& context = util::ThreadRequestContext();
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  const bool call_deadline = context.deadline && *context.deadline < deadline;
  if (call_deadline) deadline = *context.deadline;
  const int priority = context.priority;
  for (int attempt = 1;; ++attempt) {
    if (!slots_.Acquire(priority, deadline)) return NoSlot(call_deadline);
    auto start = std::chrono::steady_clock::now();
    auto result = [&] {
      RequestDeadline bounded(deadline);
      return call();
    }();
    auto latency = std::chrono::steady_clock::now() - start;
    slots_.Release();
    requests_++;
    const ErrorCode code = result.code();
    Observe(latency, code);
    if (code == ErrorCode::kOk || !IsRetryableCode(code)) return result;
    if (!retryable_call || !retry_.ShouldRetry(code, attempt)) {
      failures_++;
      return result;
    }
    auto delay = retry_.Delay(attempt, std::nullopt);
    if (std::chrono::steady_clock::now() + delay >= deadline) {
      failures_++;
      return result;  // out of time: the last failure says why
    }
    retries_++;
    sleep_(delay);
  }
}

Result<ObjectInfo> ExecutingStore::Put(const PutRequest& request) {
  bool conditional = request.if_none_match_star || request.if_match.has_value();
  return Run(!conditional, [&] { return inner_->Put(request); });
}
Result<GetResult> ExecutingStore::Get(const std::string& key) {
  return Run(true, [&] { return inner_->Get(key); });
}
// A failed attempt has not called `visit` (stores call it only for an object they have), so
// retrying cannot show the object twice.
Status ExecutingStore::Read(const std::string& key, const ObjectVisitor& visit) {
  return Run(true, [&] { return inner_->Read(key, visit); });
}
Result<ObjectInfo> ExecutingStore::Head(const std::string& key) {
  return Run(true, [&] { return inner_->Head(key); });
}
Status ExecutingStore::Delete(const std::string& key) {
  return Run(true, [&] { return inner_->Delete(key); });
}
Result<DeleteManyResult> ExecutingStore::DeleteMany(const std::vector<std::string>& keys) {
  return Run(true, [&] { return inner_->DeleteMany(keys); });
}
Result<ListPage> ExecutingStore::List(const ListRequest& request) {
  return Run(true, [&] { return inner_->List(request); });
}
// Not retried here, as conditional puts: an attempt whose answer was lost may have deleted
// the object, and a retry would then report kNotFound. The S3 store retries it itself.
Status ExecutingStore::DeleteIfMatch(const std::string& key, const std::string& etag) {
  return Run(false, [&] { return inner_->DeleteIfMatch(key, etag); });
}

Status ExecutingStore::NoSlot(bool call_deadline) {
  failures_++;
  return Status(ErrorCode::kTimeout, std::string("no request slot came free") +
                                         (call_deadline ? " before the call's timeout passed"
                                                        : " within the executor's timeout of " +
                                                              std::to_string(options_.timeout.count()) + " ms"));
}

GetEachOptions ExecutingStore::Gated(const GetEachOptions& options, const util::RequestContext& context) {
  GetEachOptions gated = options;
  gated.request_timeout =
      options.request_timeout ? std::min(*options.request_timeout, options_.timeout) : options_.timeout;
  gated.before_request = [this, context, outer = options.before_request]() -> Status {
    if (outer) {
      if (Status allowed = outer(); !allowed.ok()) return allowed;
    }
    auto deadline = std::chrono::steady_clock::now() + options_.timeout;
    const bool call_deadline = context.deadline && *context.deadline < deadline;
    if (call_deadline) deadline = *context.deadline;
    if (slots_.Acquire(context.priority, deadline)) return Status::Ok();
    return NoSlot(call_deadline);
  };
  gated.after_request = [this, outer = options.after_request](std::chrono::steady_clock::duration latency,
                                                              ErrorCode code) {
    slots_.Release();
    requests_++;
    Observe(latency, code);
    if (outer) outer(latency, code);
  };
  return gated;
}

void ExecutingStore::GetEachFrom(const KeySource& next_key, const GetEachOptions& options,
                                 const GetEachVisitor& visit) {
  if (!inner_->capabilities().asynchronous_reads) {
    ObjectStore::GetEachFrom(next_key, options, visit);  // Read, through Run, on threads
    return;
  }
  inner_->GetEachFrom(next_key, Gated(options, util::ThreadRequestContext()), visit);
}

void ExecutingStore::PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) {
  if (!inner_->capabilities().asynchronous_writes) {
    ObjectStore::PutEachFrom(next, options, visit);  // Put, through Run, on threads
    return;
  }
  inner_->PutEachFrom(next, Gated(options, util::ThreadRequestContext()), visit);
}

ExecutorStats ExecutingStore::stats() const {
  ExecutorStats s;
  s.requests = requests_;
  s.retries = retries_;
  s.throttled = throttled_;
  s.failures = failures_;
  s.concurrency = slots_.capacity();
  s.in_flight = slots_.in_flight();
  s.peak_in_flight = slots_.peak_in_flight();
  s.waiting = slots_.waiting();
  return s;
}

}  // namespace exec
}  // namespace s3db
