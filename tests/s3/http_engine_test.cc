// The curl-multi transport (s3/http_engine.h) against a real HTTP peer on loopback
// (loopback_http_server.h says why that peer exists): requests sent as HttpClient sends them,
// many in flight on one loop thread, the bound on places and its change, priorities, deadlines,
// transport failures as values, and a destructor that lets every request finish.
#include "s3/http_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loopback_http_server.h"
#include "support/process_threads.h"
#include "util/parallel.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;

std::unique_ptr<HttpEngine> MakeEngine(int max_in_flight, HttpOptions options = {}) {
  Result<std::unique_ptr<HttpEngine>> engine = HttpEngine::Create(options, max_in_flight);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return engine.ok() ? std::move(engine).value() : nullptr;
}

HttpRequest EngineGetOf(const LoopbackHttpServer& server, const std::string& path) {
  HttpRequest request;
  request.url = server.endpoint() + path;
  return request;
}

// Counts completions and lets a test wait for n of them.
class CompletionCounter {
 public:
  HttpEngine::Completion Callback() {
    return [this](Result<HttpResponse> result) {
      std::lock_guard<std::mutex> lock(mutex_);
      ++done_;
      if (!result.ok() || result->status != 200) ++failed_;
      changed_.notify_all();
    };
  }
  bool WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30), [&] { return done_ >= n; });
  }
  int done() {
    std::lock_guard<std::mutex> lock(mutex_);
    return done_;
  }
  int failed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return failed_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int done_ = 0;
  int failed_ = 0;
};

// The most requests the server was answering at once.
class ConcurrencyGauge {
 public:
  void Enter() {
    int now = ++current_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
  }
  void Leave() { --current_; }
  int current() const { return current_.load(); }
  int most() const { return most_.load(); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> most_{0};
};

TEST(HttpEngineTest, SendsAsHttpClientDoesAndCapturesTheResponse) {
  LoopbackHttpServer server([](const ReceivedRequest& request) {
    ScriptedReply reply;
    reply.status = 201;
    reply.headers = {{"ETag", "\"abc\""}, {"x-amz-meta-seen", request.Header("x-amz-meta-name")}};
    reply.body = request.method + " " + request.target + " " + request.body;
    return reply;
  });
  auto engine = MakeEngine(4);
  HttpRequest request;
  request.method = "PUT";
  request.url = server.endpoint() + "/b/a%20key?x=1";
  request.headers = {{"x-amz-meta-name", "Ana"}, {"x-amz-meta-empty", ""}};
  request.body = "the body";
  Result<HttpResponse> response = engine->Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "PUT /b/a%20key?x=1 the body");
  ASSERT_NE(response->Header("etag"), nullptr);
  EXPECT_EQ(*response->Header("etag"), "\"abc\"");
  ASSERT_NE(response->Header("x-amz-meta-seen"), nullptr);
  EXPECT_EQ(*response->Header("x-amz-meta-seen"), "Ana");
}

TEST(HttpEngineTest, HundredsInFlightOnOneLoopThread) {
  ConcurrencyGauge gauge;
  // Each answer waits until all 128 requests are at the server (at most 10 s): only an
  // engine that keeps all of them in flight at once lets the gauge reach 128.
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    gauge.Enter();
    for (int i = 0; i < 2000 && gauge.most() < 128; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // for the thread count below
    gauge.Leave();
    return ScriptedReply{};
  });
  const int threads_before = s3db::testing::ThreadsOfThisProcess();
  auto engine = MakeEngine(128);
  CompletionCounter counter;
  for (int i = 0; i < 128; ++i)
    engine->Submit({EngineGetOf(server, "/b/k" + std::to_string(i)), 0, {}, counter.Callback()});
  // While all of them are at the server: the process holds the server's threads (one per
  // open connection, LoopbackHttpServer's design) and the engine's one loop thread.
  for (int i = 0; i < 2000 && gauge.current() < 128; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int threads_during = s3db::testing::ThreadsOfThisProcess();
  const int server_threads = server.open_connections();
  ASSERT_TRUE(counter.WaitFor(128));
  EXPECT_EQ(counter.failed(), 0);
  EXPECT_EQ(gauge.most(), 128) << "every request was in flight at once";
  EXPECT_LE(threads_during - threads_before - server_threads, 1)
      << "the engine runs 128 transfers on one thread (before " << threads_before << ", during " << threads_during
      << ", server connections " << server_threads << ")";
  EXPECT_EQ(engine->stats().peak_in_flight, 128);
  EXPECT_LE(server.connections(), 128) << "one connection per place at most";
}

TEST(HttpEngineTest, MaxInFlightBoundsTheTransfersAndCanChangeWhileTheyRun) {
  ConcurrencyGauge gauge;
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    gauge.Enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    gauge.Leave();
    return ScriptedReply{};
  });
  auto engine = MakeEngine(3);
  CompletionCounter counter;
  for (int i = 0; i < 30; ++i) engine->Submit({EngineGetOf(server, "/b/k"), 0, {}, counter.Callback()});
  ASSERT_TRUE(counter.WaitFor(30));
  EXPECT_EQ(counter.failed(), 0);
  EXPECT_LE(gauge.most(), 3);
  EXPECT_EQ(engine->stats().peak_in_flight, 3);

  engine->SetMaxInFlight(12);
  EXPECT_EQ(engine->max_in_flight(), 12);
  for (int i = 0; i < 60; ++i) engine->Submit({EngineGetOf(server, "/b/k"), 0, {}, counter.Callback()});
  ASSERT_TRUE(counter.WaitFor(90));
  EXPECT_EQ(counter.failed(), 0);
  EXPECT_GT(gauge.most(), 3);
  EXPECT_LE(gauge.most(), 12);
  engine->SetMaxInFlight(0);
  EXPECT_EQ(engine->max_in_flight(), 1) << "clamped";
  engine->SetMaxInFlight(5000);
  EXPECT_EQ(engine->max_in_flight(), HttpEngine::kMaxInFlightLimit);
}

TEST(HttpEngineTest, QueuedRequestsStartByPriorityThenInOrder) {
  std::mutex mutex;
  std::vector<std::string> answered;  // in the order the server answered
  std::atomic<bool> first_arrived{false};
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    if (request.target == "/b/first") {
      first_arrived = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the others queue meanwhile
    }
    std::lock_guard<std::mutex> lock(mutex);
    answered.push_back(request.target);
    return ScriptedReply{};
  });
  auto engine = MakeEngine(1);
  CompletionCounter counter;
  engine->Submit({EngineGetOf(server, "/b/first"), 0, {}, counter.Callback()});
  for (int i = 0; i < 500 && !first_arrived; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(first_arrived);
  engine->Submit({EngineGetOf(server, "/b/low1"), 0, {}, counter.Callback()});
  engine->Submit({EngineGetOf(server, "/b/low2"), 0, {}, counter.Callback()});
  engine->Submit({EngineGetOf(server, "/b/high"), 5, {}, counter.Callback()});
  engine->Submit({EngineGetOf(server, "/b/below"), -1, {}, counter.Callback()});
  ASSERT_TRUE(counter.WaitFor(5));
  EXPECT_EQ(answered, (std::vector<std::string>{"/b/first", "/b/high", "/b/low1", "/b/low2", "/b/below"}));
}

TEST(HttpEngineTest, DeadlinesAndTimeoutsFailAsTimeouts) {
  std::atomic<int> received{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    ++received;
    ScriptedReply reply;
    reply.delay = std::chrono::milliseconds(1500);
    return reply;
  });
  HttpOptions options;
  options.request_timeout = std::chrono::milliseconds(150);
  auto engine = MakeEngine(2, options);

  // Past its deadline before its turn: never sent.
  std::mutex mutex;
  std::optional<Status> expired;
  CompletionCounter counter;
  engine->Submit({EngineGetOf(server, "/b/late"), 0, std::chrono::steady_clock::now() - std::chrono::milliseconds(1),
                  [&](Result<HttpResponse> result) {
                    std::lock_guard<std::mutex> lock(mutex);
                    expired = result.status();
                  }});
  // The request timeout cuts a transfer the server is slow to answer.
  Result<HttpResponse> slow = engine->Send(EngineGetOf(server, "/b/slow"));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), ErrorCode::kTimeout) << slow.status().ToString();
  EXPECT_NE(slow.status().message().find("HTTP GET " + server.endpoint()), std::string::npos)
      << slow.status().ToString();
  {
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_TRUE(expired.has_value());
    EXPECT_EQ(expired->code(), ErrorCode::kTimeout);
    EXPECT_NE(expired->message().find("not sent"), std::string::npos) << expired->ToString();
  }
  // The thread's deadline (util/parallel.h) bounds a blocking Send the same way.
  util::ThreadRequestContext().deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  HttpOptions patient;
  auto engine_with_long_timeout = MakeEngine(2, patient);
  Result<HttpResponse> cut = engine_with_long_timeout->Send(EngineGetOf(server, "/b/cut"));
  util::ThreadRequestContext().deadline.reset();
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), ErrorCode::kTimeout) << cut.status().ToString();
  EXPECT_EQ(received.load(), 2) << "the expired request was never sent";
}

TEST(HttpEngineTest, RefusedAndResetAreNetworkErrors) {
  std::string closed_endpoint;
  {
    LoopbackHttpServer closed([](const ReceivedRequest&) { return ScriptedReply{}; });
    closed_endpoint = closed.endpoint();
  }
  auto engine = MakeEngine(2);
  HttpRequest refused;
  refused.url = closed_endpoint + "/b/k";
  Result<HttpResponse> answer = engine->Send(refused);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), ErrorCode::kNetwork);
  EXPECT_NE(answer.status().message().find(closed_endpoint), std::string::npos) << answer.status().ToString();

  LoopbackHttpServer dropping([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.drop = true;
    return reply;
  });
  Result<HttpResponse> dropped = engine->Send(EngineGetOf(dropping, "/b/k"));
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.status().code(), ErrorCode::kNetwork) << dropped.status().ToString();

  HttpRequest bodied_delete;
  bodied_delete.method = "DELETE";
  bodied_delete.url = dropping.endpoint() + "/b/k";
  bodied_delete.body = "x";
  EXPECT_EQ(engine->Send(bodied_delete).status().code(), ErrorCode::kInvalidArgument);
}

TEST(HttpEngineTest, ReusesConnections) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  auto engine = MakeEngine(2);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(engine->Send(EngineGetOf(server, "/b/k")).ok());
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpEngineTest, TheDestructorLetsEverySubmittedRequestFinish) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    ScriptedReply reply;
    reply.delay = std::chrono::milliseconds(20);
    return reply;
  });
  CompletionCounter counter;
  {
    auto engine = MakeEngine(4);
    for (int i = 0; i < 24; ++i) engine->Submit({EngineGetOf(server, "/b/k"), 0, {}, counter.Callback()});
  }
  EXPECT_EQ(counter.done(), 24);
  EXPECT_EQ(counter.failed(), 0);
}

TEST(HttpEngineTest, CompletionsMaySubmitAndBlockingSendsComeFromManyThreads) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return ScriptedReply{}; });
  auto engine = MakeEngine(8);
  // A chain: each completion submits the next request.
  CompletionCounter chain;
  std::function<void(int)> submit_link = [&](int left) {
    engine->Submit({EngineGetOf(server, "/b/chain"), 0, {}, [&, left](Result<HttpResponse> result) {
                      chain.Callback()(std::move(result));
                      if (left > 1) submit_link(left - 1);
                    }});
  };
  submit_link(10);
  ASSERT_TRUE(chain.WaitFor(10));
  EXPECT_EQ(chain.failed(), 0);

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!engine->Send(EngineGetOf(server, "/b/k")).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(engine->stats().completed, 90u);
  EXPECT_EQ(engine->stats().submitted, 90u);
}

TEST(HttpEngineTest, CreateValidatesItsOptions) {
  EXPECT_EQ(HttpEngine::Create({}, 0).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(HttpEngine::Create({}, HttpEngine::kMaxInFlightLimit + 1).status().code(), ErrorCode::kInvalidArgument);
  HttpOptions bad;
  bad.max_connections = 0;
  EXPECT_EQ(HttpEngine::Create(bad, 4).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace s3db::s3
