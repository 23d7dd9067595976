// HttpEngine: HTTP requests driven by one event loop (libcurl's multi interface) on one
// thread, however many are in flight. The asynchronous transport of issue 21: a caller hands
// in a request with a completion and goes on; the loop starts it when one of `max_in_flight`
// places is free (higher priority first, then in order of submission), moves the bytes of
// every transfer at once, and calls the completion with the response or the transport failure.
//
//  - Transfers are set up exactly as HttpClient's (s3/http_easy.h): the same headers, timeouts,
//    TLS and keep-alive rules, the same failure codes and messages.
//  - Connections are the multi handle's: kept open between transfers and reused (keep_alive),
//    up to max_in_flight of them.
//  - A request whose deadline has passed when its turn comes fails as kTimeout unsent; one
//    that starts has its connect and request timeouts cut to the time left.
//  - SetMaxInFlight changes the number of places while requests run (the executor's autotune);
//    a lower number takes effect as transfers finish.
//  - Completions run on the loop thread: they must be short and must not block (a blocking
//    Send from a completion would wait for itself); they may Submit.
//  - The destructor lets every submitted request finish (or fail) and its completion run.
//
// Thread-safety: Submit, Send, SetMaxInFlight and stats may be called from any thread.
//
// May call: util/, libcurl.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "s3/http_client.h"

namespace s3db::s3 {

struct HttpEngineStats {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  int in_flight = 0;
  int peak_in_flight = 0;  // the most transfers running at once since the engine started
};

class HttpEngine {
 public:
  using Completion = std::function<void(Result<HttpResponse>)>;
  struct Submission {
    HttpRequest request;
    int priority = 0;  // higher first
    std::optional<std::chrono::steady_clock::time_point> deadline;
    Completion done;
  };

  static constexpr int kMaxInFlightLimit = 1024;

  // kInvalidArgument for bad options or max_in_flight outside 1..kMaxInFlightLimit.
  static Result<std::unique_ptr<HttpEngine>> Create(const HttpOptions& options, int max_in_flight);
  ~HttpEngine();
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  void Submit(Submission submission);
  // Blocking: submits at the thread's priority and deadline (util/parallel.h) and waits.
  Result<HttpResponse> Send(HttpRequest request);

  // Clamped to 1..kMaxInFlightLimit.
  void SetMaxInFlight(int max_in_flight);
  int max_in_flight() const { return max_in_flight_.load(); }
  HttpEngineStats stats() const;

 private:
  struct Loop;
  HttpEngine(const HttpOptions& options, int max_in_flight);

  std::atomic<int> max_in_flight_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace s3db::s3
