#include "s3/http_engine.h"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "s3/http_easy.h"
#include "util/parallel.h"

namespace s3db::s3 {

struct HttpEngine::Loop {
  Loop(const HttpOptions& http_options, const std::atomic<int>& max_places)
      : options(http_options), max_in_flight(max_places) {}

  // A submission waiting for a place: higher priority first, then first come.
  struct Queued {
    Submission submission;
    uint64_t sequence = 0;
  };
  struct RunsLater {
    bool operator()(const Queued& a, const Queued& b) const {
      if (a.submission.priority != b.submission.priority) return a.submission.priority < b.submission.priority;
      return a.sequence > b.sequence;
    }
  };

  // A transfer in flight; CURLOPT_PRIVATE points at it.
  struct Running {
    Submission submission;
    CURL* curl = nullptr;
    EasyTransfer transfer;
  };

  struct EasyDeleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  };

  const HttpOptions options;
  const std::atomic<int>& max_in_flight;
  CURLM* multi = nullptr;
  std::thread thread;

  std::mutex mutex;
  std::priority_queue<Queued, std::vector<Queued>, RunsLater> queue;  // guarded by mutex
  uint64_t next_sequence = 0;                                         // guarded by mutex
  bool stopping = false;                                              // guarded by mutex
  HttpEngineStats stats;                                              // guarded by mutex

  // The loop thread's own.
  std::vector<std::unique_ptr<Running>> running;  // unordered; found by CURLOPT_PRIVATE
  std::vector<std::unique_ptr<CURL, EasyDeleter>> idle_handles;

  void Run();
  void StartQueued();
  // True when a transfer finished (a place came free).
  bool CollectFinished();
  void Complete(Completion& done, Result<HttpResponse> result);
};

Result<std::unique_ptr<HttpEngine>> HttpEngine::Create(const HttpOptions& options, int max_in_flight) {
  if (Status status = options.Validate(); !status.ok()) return status;
  if (max_in_flight < 1 || max_in_flight > kMaxInFlightLimit) {
    return Status(ErrorCode::kInvalidArgument, "HTTP engine: max_in_flight must be 1 to " +
                                                   std::to_string(kMaxInFlightLimit) + ", got " +
                                                   std::to_string(max_in_flight));
  }
  if (CurlGlobalInit() != CURLE_OK) return Status(ErrorCode::kInternal, "curl_global_init failed");
  std::unique_ptr<HttpEngine> engine(new HttpEngine(options, max_in_flight));
  if (engine->loop_->multi == nullptr) return Status(ErrorCode::kInternal, "curl_multi_init failed");
  engine->loop_->thread = std::thread([loop = engine->loop_.get()] { loop->Run(); });
  return engine;
}

HttpEngine::HttpEngine(const HttpOptions& options, int max_in_flight)
    : max_in_flight_(max_in_flight), loop_(std::make_unique<Loop>(options, max_in_flight_)) {
  loop_->multi = curl_multi_init();
  if (loop_->multi != nullptr) {
    // Keep as many connections as places may run, so every place can reuse one.
    curl_multi_setopt(loop_->multi, CURLMOPT_MAXCONNECTS, static_cast<long>(kMaxInFlightLimit));
  }
}

HttpEngine::~HttpEngine() {
  if (loop_->thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(loop_->mutex);
      loop_->stopping = true;
    }
    curl_multi_wakeup(loop_->multi);
    loop_->thread.join();
  }
  loop_->running.clear();
  loop_->idle_handles.clear();  // easy handles go before the multi handle that holds their connections
  if (loop_->multi != nullptr) curl_multi_cleanup(loop_->multi);
}

void HttpEngine::Submit(Submission submission) {
  {
    std::lock_guard<std::mutex> lock(loop_->mutex);
    loop_->queue.push(Loop::Queued{std::move(submission), loop_->next_sequence++});
    ++loop_->stats.submitted;
  }
  curl_multi_wakeup(loop_->multi);
}

Result<HttpResponse> HttpEngine::Send(HttpRequest request) {
  std::promise<Result<HttpResponse>> answer;
  std::future<Result<HttpResponse>> answered = answer.get_future();
  const util::RequestContext& context = util::ThreadRequestContext();
  Submit(Submission{std::move(request), context.priority, context.deadline,
                    [&answer](Result<HttpResponse> result) { answer.set_value(std::move(result)); }});
  return answered.get();
}

void HttpEngine::SetMaxInFlight(int max_in_flight) {
  max_in_flight_.store(std::clamp(max_in_flight, 1, kMaxInFlightLimit));
  curl_multi_wakeup(loop_->multi);  // a higher number starts queued requests now
}

HttpEngineStats HttpEngine::stats() const {
  std::lock_guard<std::mutex> lock(loop_->mutex);
  return loop_->stats;
}

void HttpEngine::Loop::Run() {
  for (;;) {
    StartQueued();
    int still_running = 0;
    curl_multi_perform(multi, &still_running);
    const bool freed_places = CollectFinished();
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping && queue.empty() && running.empty()) return;
      if (freed_places && !queue.empty()) continue;  // start the waiting ones before sleeping
    }
    // Sleeps until a socket is ready, curl's next timeout, or a wakeup (Submit, SetMaxInFlight,
    // the destructor); the 1 s bound is only a safety net.
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
}

void HttpEngine::Loop::StartQueued() {
  std::vector<Queued> starting;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const size_t places = static_cast<size_t>(max_in_flight.load());
    while (!queue.empty() && running.size() + starting.size() < places) {
      starting.push_back(std::move(const_cast<Queued&>(queue.top())));
      queue.pop();
    }
  }
  for (Queued& queued : starting) {
    Submission& submission = queued.submission;
    std::optional<std::chrono::milliseconds> time_left;
    if (submission.deadline) {
      time_left = std::chrono::ceil<std::chrono::milliseconds>(*submission.deadline - std::chrono::steady_clock::now());
      if (time_left->count() <= 0) {
        Complete(submission.done, Status(ErrorCode::kTimeout,
                                         "HTTP " + submission.request.method + " " + UrlOrigin(submission.request.url) +
                                             " not sent: the request's timeout passed while it waited for a place"));
        continue;
      }
    }
    std::unique_ptr<CURL, EasyDeleter> handle;
    if (!idle_handles.empty()) {
      handle = std::move(idle_handles.back());
      idle_handles.pop_back();
    } else {
      handle.reset(curl_easy_init());
      if (!handle) {
        Complete(submission.done, Status(ErrorCode::kInternal, "curl_easy_init failed"));
        continue;
      }
    }
    auto transfer = std::make_unique<Running>();
    transfer->submission = std::move(submission);
    transfer->curl = handle.get();
    if (Status prepared =
            PrepareEasyTransfer(transfer->curl, transfer->submission.request, options, time_left, transfer->transfer);
        !prepared.ok()) {
      idle_handles.push_back(std::move(handle));
      Complete(transfer->submission.done, prepared);
      continue;
    }
    curl_easy_setopt(transfer->curl, CURLOPT_PRIVATE, transfer.get());
    if (curl_multi_add_handle(multi, transfer->curl) != CURLM_OK) {
      idle_handles.push_back(std::move(handle));
      Complete(transfer->submission.done, Status(ErrorCode::kInternal, "curl_multi_add_handle failed"));
      continue;
    }
    (void)handle.release();  // owned by `running` until it finishes
    running.push_back(std::move(transfer));
    std::lock_guard<std::mutex> lock(mutex);
    stats.in_flight = static_cast<int>(running.size());
    stats.peak_in_flight = std::max(stats.peak_in_flight, stats.in_flight);
  }
}

bool HttpEngine::Loop::CollectFinished() {
  bool finished_any = false;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* curl = message->easy_handle;
    const CURLcode code = message->data.result;
    curl_multi_remove_handle(multi, curl);
    Running* finished = nullptr;
    curl_easy_getinfo(curl, CURLINFO_PRIVATE, &finished);
    auto at = std::find_if(running.begin(), running.end(), [&](const auto& r) { return r.get() == finished; });
    if (at == running.end()) continue;  // not ours: cannot happen, every handle is added here
    std::unique_ptr<Running> transfer = std::move(*at);
    *at = std::move(running.back());
    running.pop_back();
    Result<HttpResponse> result = FinishEasyTransfer(curl, code, transfer->submission.request, transfer->transfer);
    std::unique_ptr<CURL, EasyDeleter> handle(curl);
    if (idle_handles.size() < static_cast<size_t>(max_in_flight.load())) idle_handles.push_back(std::move(handle));
    {
      std::lock_guard<std::mutex> lock(mutex);
      stats.in_flight = static_cast<int>(running.size());
    }
    Complete(transfer->submission.done, std::move(result));
    finished_any = true;
  }
  return finished_any;
}

void HttpEngine::Loop::Complete(Completion& done, Result<HttpResponse> result) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.completed;
  }
  if (done) done(std::move(result));
}

}  // namespace s3db::s3
