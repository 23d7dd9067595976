// S3Store::GetEachFrom against a scripted loopback HTTP peer (loopback_http_server.h says why:
// a real S3 server cannot be made to fail or stall on demand): hundreds of GETs in flight on a
// handful of threads, retries and the request observer as Get has them, the request hooks,
// and the executor's slots bounding the requests in flight. The contract itself (same answers
// as Get) runs on a real server in s3_store_real_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exec/executing_store.h"
#include "loopback_http_server.h"
#include "s3_test_helpers.h"
#include "s3db/stores.h"
#include "scripted_batch_peer.h"
#include "support/process_threads.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;
using std::chrono::milliseconds;

// A server that holds each GET 20 ms and counts how many it holds at once.
struct GetEachSlowServer {
  BatchPeerGauge gauge;
  LoopbackHttpServer server{[this](const ReceivedRequest&) {
    gauge.Enter();
    std::this_thread::sleep_for(milliseconds(20));
    gauge.Leave();
    return BatchPeerReply(200, "ok", {{"ETag", "\"e\""}});
  }};
};

struct GetEachSeen {
  std::mutex mu;
  std::map<size_t, Status> status;
  std::map<size_t, std::string> body;
  int visits = 0;

  GetEachVisitor Visitor() {
    return [this](size_t index, const Status& s, const ObjectInfo&, const std::string& b) {
      std::lock_guard lock(mu);
      status[index] = s;
      body[index] = b;
      ++visits;
    };
  }
};

TEST(S3GetEachTest, HundredsInFlightOnAFewThreads) {
  constexpr int kKeys = 128;
  BatchPeerGauge gauge;
  // Each answer waits until all requests are at the server (at most 10 s): only a store that
  // keeps all of them in flight at once lets the gauge reach kKeys.
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    gauge.Enter();
    for (int i = 0; i < 2000 && gauge.most.load() < kKeys; ++i) std::this_thread::sleep_for(milliseconds(5));
    std::this_thread::sleep_for(milliseconds(100));  // for the thread count below
    gauge.Leave();
    return BatchPeerReply(200, BatchPeerKeyOf(request), {{"ETag", "\"e\""}});
  });
  auto store = OpenBatchPeerStore(server, nullptr, kKeys);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("k" + std::to_string(i));
  const int threads_before = s3db::testing::ThreadsOfThisProcess();
  GetEachSeen seen;
  std::thread caller([&] {
    GetEachOptions options;
    options.concurrency = kKeys;
    store->GetEach(keys, options, seen.Visitor());
  });
  for (int i = 0; i < 2000 && gauge.now.load() < kKeys; ++i) std::this_thread::sleep_for(milliseconds(5));
  const int threads_during = s3db::testing::ThreadsOfThisProcess();
  const int server_threads = server.open_connections();
  caller.join();
  EXPECT_EQ(gauge.most.load(), kKeys) << "every request was in flight at once";
  // The caller, the event loop and three drainers, whatever the concurrency.
  EXPECT_LE(threads_during - threads_before - server_threads, 5)
      << "before " << threads_before << ", during " << threads_during << ", server connections " << server_threads;
  ASSERT_EQ(seen.visits, kKeys);
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_TRUE(seen.status[static_cast<size_t>(i)].ok());
    EXPECT_EQ(seen.body[static_cast<size_t>(i)], keys[static_cast<size_t>(i)]);
  }
}

// Every 7th key is throttled once (retried, as Get retries it); every 10th from 5 is absent
// (404, not retried); every attempt reaches the observer.
TEST(S3GetEachTest, RetriesAndReportsAsGetDoes) {
  std::mutex mu;
  std::set<std::string> throttled;
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    const std::string key = BatchPeerKeyOf(request);
    const int n = std::stoi(key.substr(1));
    if (n % 10 == 5) return BatchPeerReply(404, BatchPeerErrorXml("NoSuchKey"));
    if (n % 7 == 0) {
      std::lock_guard lock(mu);
      if (throttled.insert(key).second) return BatchPeerReply(503, BatchPeerErrorXml("SlowDown"));
    }
    return BatchPeerReply(200, "body of " + key, {{"ETag", "\"e\""}});
  });
  std::atomic<int> reported{0};
  auto store = OpenBatchPeerStore(server, [&](const SentRequest& sent) {
    EXPECT_EQ(sent.method, "GET");
    ++reported;
  });
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("k" + std::to_string(i));
  GetEachSeen seen;
  GetEachOptions options;
  options.concurrency = 16;
  store->GetEach(keys, options, seen.Visitor());
  ASSERT_EQ(seen.visits, 50);
  int absent = 0, retried = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i % 10 == 5) {
      ++absent;
      EXPECT_EQ(seen.status[i].code(), ErrorCode::kNotFound) << keys[i];
      EXPECT_NE(seen.status[i].message().find(keys[i]), std::string::npos) << seen.status[i].message();
      continue;
    }
    if (i % 7 == 0) ++retried;
    EXPECT_TRUE(seen.status[i].ok()) << keys[i] << ": " << seen.status[i].ToString();
    EXPECT_EQ(seen.body[i], "body of " + keys[i]);
  }
  EXPECT_EQ(static_cast<int>(throttled.size()), retried);
  EXPECT_EQ(reported.load(), 50 + retried) << "the throttled attempts and their retries";
  EXPECT_GT(absent, 0);
}

// A retryable failure that outlasts the retries fails that key alone, named, after its attempts.
TEST(S3GetEachTest, AKeyThatKeepsFailingFailsAloneAfterItsAttempts) {
  std::atomic<int> bad_calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    if (BatchPeerKeyOf(request) == "k3") {
      ++bad_calls;
      return BatchPeerReply(500, BatchPeerErrorXml("InternalError"));
    }
    return BatchPeerReply(200, "ok", {{"ETag", "\"e\""}});
  });
  auto store = OpenBatchPeerStore(server);
  ASSERT_NE(store, nullptr);
  GetEachSeen seen;
  GetEachOptions options;
  options.concurrency = 4;
  store->GetEach({"k0", "k1", "k2", "k3", "k4"}, options, seen.Visitor());
  ASSERT_EQ(seen.visits, 5);
  EXPECT_EQ(seen.status[3].code(), ErrorCode::kIOError);
  EXPECT_NE(seen.status[3].message().find("after 4 attempts"), std::string::npos) << seen.status[3].message();
  EXPECT_NE(seen.status[3].message().find("k3"), std::string::npos);
  EXPECT_EQ(bad_calls.load(), 4) << "max_attempts defaults to 4, the first one included";
  for (size_t i : {0u, 1u, 2u, 4u}) EXPECT_TRUE(seen.status[i].ok());
}

// before_request may refuse a key (it fails unsent); after_request sees each sent one.
TEST(S3GetEachTest, TheRequestHooksGateAndObserveEachRequest) {
  std::atomic<int> served{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    ++served;
    return BatchPeerReply(200, "ok", {{"ETag", "\"e\""}});
  });
  auto store = OpenBatchPeerStore(server);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("k" + std::to_string(i));
  std::atomic<int> asked{0}, observed{0};
  GetEachOptions options;
  options.concurrency = 8;
  options.before_request = [&]() -> Status {
    if (++asked % 3 == 0) return Status(ErrorCode::kTimeout, "no slot (scripted)");
    return Status::Ok();
  };
  options.after_request = [&](std::chrono::steady_clock::duration latency, ErrorCode code) {
    EXPECT_EQ(code, ErrorCode::kOk);
    EXPECT_GT(latency.count(), 0);
    ++observed;
  };
  GetEachSeen seen;
  store->GetEach(keys, options, seen.Visitor());
  ASSERT_EQ(seen.visits, 30);
  int refused = 0;
  for (auto& [index, status] : seen.status) {
    if (status.code() == ErrorCode::kTimeout) ++refused;
  }
  EXPECT_EQ(refused, 10);
  EXPECT_EQ(served.load(), 20);
  EXPECT_EQ(observed.load(), 20);
}

// The store's own bound (its connections, maxSockets) holds whatever a call asks for.
TEST(S3GetEachTest, TheStoresConnectionsBoundTheRequestsInFlight) {
  GetEachSlowServer slow;
  LoopbackHttpServer& server = slow.server;
  auto store = OpenBatchPeerStore(server, nullptr, 3);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  for (int i = 0; i < 30; ++i) keys.push_back("k" + std::to_string(i));
  GetEachSeen seen;
  GetEachOptions options;
  options.concurrency = 64;
  store->GetEach(keys, options, seen.Visitor());
  ASSERT_EQ(seen.visits, 30);
  EXPECT_EQ(slow.gauge.most.load(), 3);
}

// Under the executor, its slots are the bound on requests in flight, and each request counts.
TEST(S3GetEachTest, TheExecutorsSlotsBoundTheRequestsInFlight) {
  GetEachSlowServer slow;
  LoopbackHttpServer& server = slow.server;
  auto inner = OpenBatchPeerStore(server);
  ASSERT_NE(inner, nullptr);
  ExecutorOptions executor;
  executor.concurrency = 4;
  exec::ExecutingStore store(std::move(inner), executor);
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back("k" + std::to_string(i));
  GetEachSeen seen;
  GetEachOptions options;
  options.concurrency = 64;  // the call asks for more than the executor allows
  store.GetEach(keys, options, seen.Visitor());
  ASSERT_EQ(seen.visits, 40);
  for (auto& [index, status] : seen.status) EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_LE(slow.gauge.most.load(), 4);
  EXPECT_EQ(store.stats().requests, 40u);
  EXPECT_LE(store.stats().peak_in_flight, 4);
  EXPECT_EQ(store.stats().in_flight, 0);
}

}  // namespace
}  // namespace s3db::s3
