// S3Store::GetEachFrom: many GETs in flight from the client's event loop (s3/http_engine.h).
//
// The calling thread pulls keys and submits them, up to `concurrency` unanswered at once
// (each gated by the options' before_request hook: the executor's slots). Answers come back
// on the loop thread, which only queues them; a few drain threads take them from the queue,
// finish each as Get would (S3Client::Execute with the answer as the first attempt: a 2xx or
// a final error is returned as it is, a retryable one is retried there, blocking that thread)
// and hand the object to `visit`. So the threads are the caller, the loop and the drainers,
// whatever the concurrency; at least one drainer always runs, so an answer never waits on a
// caller blocked in next_key (a scan's key source waits for its consumer, who waits for the
// answers).
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "s3/s3_store.h"
#include "s3/s3_xml.h"
#include "util/parallel.h"

namespace s3db::s3 {
namespace {

constexpr int kMaxDrainers = 3;

struct Answer {
  size_t index = 0;
  S3Call call;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  SentAttempt attempt;
};

// The code the first attempt's answer means, for the executor's autotune and counters.
ErrorCode CodeOf(const Result<HttpResponse>& response) {
  if (!response.ok()) return response.code();
  if (response->status < 300) return ErrorCode::kOk;
  return StatusFromS3Response(response->status, response->body).code();
}

}  // namespace

void S3Store::GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) {
  static const ObjectInfo kNoInfo;
  static const std::string kNoBody;
  const size_t limit = static_cast<size_t>(std::clamp(options.concurrency, 1, 1024));
  const util::RequestContext context = util::ThreadRequestContext();

  std::mutex mu;
  std::condition_variable changed;
  std::deque<Answer> answers;  // guarded by mu
  size_t unanswered = 0;       // submitted, answer not queued yet; guarded by mu
  size_t unvisited = 0;        // pulled, not visited yet; guarded by mu
  bool exhausted = false;      // next_key said nullopt; guarded by mu

  auto visited = [&] {
    std::lock_guard lock(mu);
    --unvisited;
    changed.notify_all();
  };
  auto finish = [&](Answer answer) {
    // The attempts after the first run under the request's own deadline, as Get's do.
    util::ThreadRequestContext().deadline = answer.deadline;
    Result<GetResult> got = GetResultOf(answer.call, client_.Execute(answer.call, std::move(answer.attempt)));
    if (got.ok()) {
      visit(answer.index, Status::Ok(), got->info, got->body);
    } else {
      visit(answer.index, got.status(), kNoInfo, kNoBody);
    }
    visited();
  };
  // Drains until every pulled key was visited.
  auto drain = [&] {
    util::ThreadRequestContext() = context;
    std::unique_lock lock(mu);
    while (true) {
      changed.wait(lock, [&] { return !answers.empty() || (exhausted && unvisited == 0); });
      if (answers.empty()) return;
      Answer answer = std::move(answers.front());
      answers.pop_front();
      lock.unlock();
      finish(std::move(answer));
      lock.lock();
    }
  };

  std::vector<std::thread> drainers;
  const int drainer_count = static_cast<int>(std::clamp<size_t>(limit - 1, 1, kMaxDrainers));
  for (int i = 0; i < drainer_count; ++i) drainers.emplace_back(drain);

  size_t next_index = 0;
  while (true) {
    {
      std::unique_lock lock(mu);
      changed.wait(lock, [&] { return unanswered < limit; });
    }
    std::optional<std::string> key = next_key();
    if (!key) break;
    const size_t index = next_index++;
    {
      std::lock_guard lock(mu);
      ++unvisited;
    }
    if (Status valid = store::ValidateObjectKey(*key); !valid.ok()) {
      visit(index, valid, kNoInfo, kNoBody);
      visited();
      continue;
    }
    if (options.before_request) {
      if (Status allowed = options.before_request(); !allowed.ok()) {
        visit(index, allowed, kNoInfo, kNoBody);
        visited();
        continue;
      }
    }
    std::optional<std::chrono::steady_clock::time_point> deadline = context.deadline;
    if (options.request_timeout) {
      const auto own = std::chrono::steady_clock::now() + *options.request_timeout;
      if (!deadline || own < *deadline) deadline = own;
    }
    {
      std::lock_guard lock(mu);
      ++unanswered;
    }
    S3Call call = GetCall(*key);
    const auto sent = std::chrono::steady_clock::now();
    client_.Submit(call, context.priority, deadline, [&, index, call, deadline, sent](SentAttempt attempt) {
      if (options.after_request) {
        options.after_request(std::chrono::steady_clock::now() - sent, CodeOf(attempt.response));
      }
      std::lock_guard lock(mu);
      --unanswered;
      answers.push_back(Answer{index, std::move(call), deadline, std::move(attempt)});
      changed.notify_all();
    });
  }
  {
    std::lock_guard lock(mu);
    exhausted = true;
    changed.notify_all();
  }
  drain();  // the caller helps with the last answers
  for (std::thread& drainer : drainers) drainer.join();
  util::ThreadRequestContext() = context;
}

}  // namespace s3db::s3
