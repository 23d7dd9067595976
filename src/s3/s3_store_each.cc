// S3Store::GetEachFrom and PutEachFrom: many requests in flight from the client's event loop
// (s3/http_engine.h).
//
// The calling thread pulls the requests and submits them, up to `concurrency` unanswered at
// once (each gated by the options' before_request hook: the executor's slots). Answers come
// back on the loop thread, which only queues them; a few drain threads take them from the
// queue, finish each as Get or Put would (S3Client::Execute with the answer as the first
// attempt: a 2xx or a final error is returned as it is, a retryable one is retried there, a
// conditional PUT's refusal settled by its write tag, blocking that thread) and hand the
// outcome to `visit`. So the threads are the caller, the loop and the drainers, whatever the
// concurrency; at least one drainer always runs, so an answer never waits on a caller
// blocked in its source (a scan's key source waits for its consumer, who waits for the
// answers).
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
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

// The code the first attempt's answer means, for the executor's autotune and counters.
ErrorCode CodeOf(const Result<HttpResponse>& response) {
  if (!response.ok()) return response.code();
  if (response->status < 300) return ErrorCode::kOk;
  return StatusFromS3Response(response->status, response->body).code();
}

// One request of a batch: refused before sending (`refused` not ok), or its call and
// whatever its answer needs (Work).
template <class Work>
struct Pulled {
  Status refused;
  std::shared_ptr<Work> work;  // shared: the engine's callback must be copyable
};

// The loop described at the top. `next` gives the requests (nullopt: no more); `call_of`
// the call a request sends; `finish` turns its reply into the visit (on a drainer);
// `fail` visits a request refused before sending (on the caller's thread).
template <class Work>
void SendEach(S3Client& client, const GetEachOptions& options, const std::function<std::optional<Pulled<Work>>()>& next,
              const std::function<const S3Call&(const Work&)>& call_of,
              const std::function<void(size_t, const Work&, Result<Reply>)>& finish,
              const std::function<void(size_t, const Status&)>& fail) {
  struct Answer {
    size_t index = 0;
    std::shared_ptr<Work> work;
    std::optional<std::chrono::steady_clock::time_point> deadline;
    SentAttempt attempt;
  };
  const size_t limit = static_cast<size_t>(std::clamp(options.concurrency, 1, 1024));
  const util::RequestContext context = util::ThreadRequestContext();

  std::mutex mu;
  std::condition_variable changed;
  std::deque<Answer> answers;  // guarded by mu
  size_t unanswered = 0;       // submitted, answer not queued yet; guarded by mu
  size_t unvisited = 0;        // pulled, not visited yet; guarded by mu
  bool exhausted = false;      // next said nullopt; guarded by mu

  auto visited = [&] {
    std::lock_guard lock(mu);
    --unvisited;
    changed.notify_all();
  };
  auto complete = [&](Answer answer) {
    // The attempts after the first run under the request's own deadline, as Get's and Put's do.
    util::ThreadRequestContext().deadline = answer.deadline;
    const S3Call& call = call_of(*answer.work);
    finish(answer.index, *answer.work, client.Execute(call, std::move(answer.attempt)));
    visited();
  };
  // Drains until every pulled request was visited.
  auto drain = [&] {
    util::ThreadRequestContext() = context;
    std::unique_lock lock(mu);
    while (true) {
      changed.wait(lock, [&] { return !answers.empty() || (exhausted && unvisited == 0); });
      if (answers.empty()) return;
      Answer answer = std::move(answers.front());
      answers.pop_front();
      lock.unlock();
      complete(std::move(answer));
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
    std::optional<Pulled<Work>> pulled = next();
    if (!pulled) break;
    const size_t index = next_index++;
    {
      std::lock_guard lock(mu);
      ++unvisited;
    }
    if (!pulled->refused.ok()) {
      fail(index, pulled->refused);
      visited();
      continue;
    }
    if (options.before_request) {
      if (Status allowed = options.before_request(); !allowed.ok()) {
        fail(index, allowed);
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
    const auto sent = std::chrono::steady_clock::now();
    std::shared_ptr<Work> work = std::move(pulled->work);
    const S3Call& call = call_of(*work);
    client.Submit(call, context.priority, deadline, [&, index, work, deadline, sent](SentAttempt attempt) {
      if (options.after_request) {
        options.after_request(std::chrono::steady_clock::now() - sent, CodeOf(attempt.response));
      }
      std::lock_guard lock(mu);
      --unanswered;
      answers.push_back(Answer{index, work, deadline, std::move(attempt)});
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

}  // namespace

void S3Store::GetEachFrom(const KeySource& next_key, const GetEachOptions& options, const GetEachVisitor& visit) {
  static const ObjectInfo kNoInfo;
  static const std::string kNoBody;
  SendEach<S3Call>(
      client_, options,
      [&]() -> std::optional<Pulled<S3Call>> {
        std::optional<std::string> key = next_key();
        if (!key) return std::nullopt;
        if (Status valid = store::ValidateObjectKey(*key); !valid.ok()) return Pulled<S3Call>{valid, nullptr};
        return Pulled<S3Call>{Status::Ok(), std::make_shared<S3Call>(GetCall(*key))};
      },
      [](const S3Call& call) -> const S3Call& { return call; },
      [&](size_t index, const S3Call& call, Result<Reply> reply) {
        Result<GetResult> got = GetResultOf(call, std::move(reply));
        if (got.ok()) {
          visit(index, Status::Ok(), got->info, got->body);
        } else {
          visit(index, got.status(), kNoInfo, kNoBody);
        }
      },
      [&](size_t index, const Status& status) { visit(index, status, kNoInfo, kNoBody); });
}

void S3Store::PutEachFrom(const PutSource& next, const PutEachOptions& options, const PutEachVisitor& visit) {
  SendEach<PreparedPut>(
      client_, options,
      [&]() -> std::optional<Pulled<PreparedPut>> {
        std::optional<PutRequest> request = next();
        if (!request) return std::nullopt;
        Result<PreparedPut> prepared = PreparePut(std::move(*request));
        if (!prepared.ok()) return Pulled<PreparedPut>{prepared.status(), nullptr};
        return Pulled<PreparedPut>{Status::Ok(), std::make_shared<PreparedPut>(std::move(prepared).value())};
      },
      [](const PreparedPut& prepared) -> const S3Call& { return prepared.call; },
      [&](size_t index, const PreparedPut& prepared, Result<Reply> reply) {
        visit(index, PutOutcome(prepared, std::move(reply)));
      },
      [&](size_t index, const Status& status) { visit(index, Result<ObjectInfo>(status)); });
}

}  // namespace s3db::s3
