// S3Store::PutEachFrom against a scripted loopback HTTP peer (loopback_http_server.h says why:
// a real S3 server cannot be made to lose an answer on demand): hundreds of PUTs in flight on
// a handful of threads, a conditional PUT whose answer was lost settled by its write tag as
// Put settles it, a refusal that is not ours kept, and the executor's slots bounding the
// requests in flight. The contract itself (same answers as Put) runs on a real server in
// s3_store_real_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exec/executing_store.h"
#include "loopback_http_server.h"
#include "s3/s3_headers.h"
#include "s3db/stores.h"
#include "scripted_batch_peer.h"
#include "support/process_threads.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;
using std::chrono::milliseconds;

struct PutEachAnswers {
  std::mutex mu;
  std::map<size_t, Result<ObjectInfo>> written;
  int answers = 0;
  PutEachVisitor Visitor() {
    return [this](size_t index, const Result<ObjectInfo>& w) {
      std::lock_guard lock(mu);
      written.insert_or_assign(index, w);
      ++answers;
    };
  }
};

std::vector<PutRequest> PutEachRequests(int n, bool create_only) {
  std::vector<PutRequest> out;
  for (int i = 0; i < n; ++i) {
    PutRequest put;
    put.key = "k" + std::to_string(i);
    put.body = "body of k" + std::to_string(i);
    put.if_none_match_star = create_only;
    out.push_back(put);
  }
  return out;
}

TEST(S3PutEachTest, HundredsInFlightOnAFewThreads) {
  constexpr int kKeys = 128;
  BatchPeerGauge gauge;
  std::mutex mu;
  std::map<std::string, std::string> bodies;
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    gauge.Enter();
    for (int i = 0; i < 2000 && gauge.most.load() < kKeys; ++i) std::this_thread::sleep_for(milliseconds(5));
    std::this_thread::sleep_for(milliseconds(100));  // for the thread count below
    {
      std::lock_guard lock(mu);
      bodies[BatchPeerKeyOf(request)] = request.body;
    }
    gauge.Leave();
    return BatchPeerReply(200, "", {{"ETag", "\"e-" + BatchPeerKeyOf(request) + "\""}});
  });
  auto store = OpenBatchPeerStore(server, nullptr, kKeys);
  ASSERT_NE(store, nullptr);
  const int threads_before = s3db::testing::ThreadsOfThisProcess();
  PutEachAnswers seen;
  std::thread caller([&] {
    PutEachOptions options;
    options.concurrency = kKeys;
    store->PutEach(PutEachRequests(kKeys, false), options, seen.Visitor());
  });
  for (int i = 0; i < 2000 && gauge.now.load() < kKeys; ++i) std::this_thread::sleep_for(milliseconds(5));
  const int threads_during = s3db::testing::ThreadsOfThisProcess();
  const int server_threads = server.open_connections();
  caller.join();
  EXPECT_EQ(gauge.most.load(), kKeys) << "every request was in flight at once";
  EXPECT_LE(threads_during - threads_before - server_threads, 5)
      << "before " << threads_before << ", during " << threads_during << ", server connections " << server_threads;
  ASSERT_EQ(seen.answers, kKeys);
  for (int i = 0; i < kKeys; ++i) {
    const Result<ObjectInfo>& w = seen.written.at(static_cast<size_t>(i));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(w->etag, "\"e-k" + std::to_string(i) + "\"");
    EXPECT_EQ(bodies["k" + std::to_string(i)], "body of k" + std::to_string(i));
  }
}

// k1's first attempt lands but its answer is a 500 (lost); the retry meets our own object
// (412) and the HEAD shows our write tag: written, as Put would say. k2 is refused (412) and
// the object there carries another writer's tag: the refusal stands. The others are written.
TEST(S3PutEachTest, AConditionalPutWhoseAnswerWasLostIsSettledByItsWriteTag) {
  const std::string tag_header = "x-amz-meta-" + EncodeMetadataKey(kWriteTagKey);
  std::mutex mu;
  std::map<std::string, std::string> tags;  // key -> write tag stored
  std::map<std::string, int> puts;
  int heads = 0;
  LoopbackHttpServer server([&](const ReceivedRequest& request) {
    const std::string key = BatchPeerKeyOf(request);
    std::lock_guard lock(mu);
    if (request.method == "HEAD") {
      ++heads;
      auto it = tags.find(key);
      if (it == tags.end()) return BatchPeerReply(404);
      return BatchPeerReply(200, "", {{"ETag", "\"stored\""}, {tag_header, it->second}});
    }
    const int attempt = ++puts[key];
    if (key == "k1") {
      if (attempt == 1) {
        tags[key] = request.Header(tag_header);  // applied, then the answer is lost
        return BatchPeerReply(500, BatchPeerErrorXml("InternalError"));
      }
      return BatchPeerReply(412, BatchPeerErrorXml("PreconditionFailed"));
    }
    if (key == "k2") {
      tags[key] = "someone-else";
      return BatchPeerReply(412, BatchPeerErrorXml("PreconditionFailed"));
    }
    tags[key] = request.Header(tag_header);
    return BatchPeerReply(200, "", {{"ETag", "\"fresh\""}});
  });
  auto store = OpenBatchPeerStore(server);
  ASSERT_NE(store, nullptr);
  PutEachAnswers seen;
  PutEachOptions options;
  options.concurrency = 8;
  store->PutEach(PutEachRequests(10, /*create_only=*/true), options, seen.Visitor());
  ASSERT_EQ(seen.answers, 10);
  for (size_t i = 0; i < 10; ++i) {
    const Result<ObjectInfo>& w = seen.written.at(i);
    if (i == 2) {
      EXPECT_EQ(w.code(), ErrorCode::kPreconditionFailed);
      continue;
    }
    ASSERT_TRUE(w.ok()) << "k" << i << ": " << w.status().ToString();
  }
  EXPECT_EQ(seen.written.at(1)->etag, "\"stored\"") << "the settled write is the object the HEAD saw";
  EXPECT_EQ(puts["k1"], 2);
  EXPECT_EQ(heads, 2) << "one HEAD for k1's settling, one for k2's";
}

// Under the executor, its slots gate each PUT: no more than its concurrency in flight, however
// many the call asks for; and every request counts in its stats.
TEST(S3PutEachTest, TheExecutorsSlotsBoundTheRequestsInFlight) {
  BatchPeerGauge gauge;
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    gauge.Enter();
    std::this_thread::sleep_for(milliseconds(20));
    gauge.Leave();
    return BatchPeerReply(200, "", {{"ETag", "\"e\""}});
  });
  auto inner = OpenBatchPeerStore(server, nullptr, 64);
  ASSERT_NE(inner, nullptr);
  ExecutorOptions executor;
  executor.concurrency = 4;
  exec::ExecutingStore store(std::move(inner), executor);
  PutEachAnswers seen;
  PutEachOptions options;
  options.concurrency = 64;
  store.PutEach(PutEachRequests(40, false), options, seen.Visitor());
  ASSERT_EQ(seen.answers, 40);
  for (const auto& [index, w] : seen.written) EXPECT_TRUE(w.ok()) << index << ": " << w.status().ToString();
  EXPECT_LE(gauge.most.load(), 4);
  EXPECT_GE(gauge.most.load(), 2) << "the slots were used, not one at a time";
  EXPECT_EQ(store.stats().requests, 40u);
}

}  // namespace
}  // namespace s3db::s3
