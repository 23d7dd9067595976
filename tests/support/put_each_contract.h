// The PutEach contract (include/s3db/object_store.h), shared by the local stores' contract
// test and the S3 store's tests on a real server: every request answered exactly once under
// its index, with what Put answers for it (the written object's ETag, or the refusal: an
// existing key under If-None-Match: *, a stale If-Match, a bad key), the store holding what
// was written, at concurrency 1 and many, from a list and from a source that blocks; and two
// batches creating the same keys at once: exactly one wins each key.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3db/object_store.h"

namespace s3db::testing {

struct PutEachAnswer {
  std::optional<Result<ObjectInfo>> written;
  int answers = 0;
};

inline std::vector<PutEachAnswer> CollectPutEach(ObjectStore& store, std::vector<PutRequest> requests,
                                                 int concurrency) {
  std::vector<PutEachAnswer> seen(requests.size());
  std::mutex mu;
  PutEachOptions options;
  options.concurrency = concurrency;
  store.PutEach(std::move(requests), options, [&](size_t index, const Result<ObjectInfo>& written) {
    std::lock_guard lock(mu);
    if (index >= seen.size()) {
      ADD_FAILURE() << "index " << index << " out of range";
      return;
    }
    seen[index].written = written;
    ++seen[index].answers;
  });
  return seen;
}

// `prefix` is where the check may write (it leaves its objects there).
inline void CheckPutEachContract(ObjectStore& store, const std::string& prefix) {
  for (int concurrency : {1, 7, 64}) {
    SCOPED_TRACE("concurrency " + std::to_string(concurrency));
    const std::string base = prefix + "puteach-" + std::to_string(concurrency) + "/";
    // Objects the conditions below refer to.
    PutRequest existing;
    existing.key = base + "existing";
    existing.body = "old";
    Result<ObjectInfo> old = store.Put(existing);
    ASSERT_TRUE(old.ok()) << old.status().ToString();

    std::vector<PutRequest> requests;
    std::vector<ErrorCode> want;
    for (int i = 0; i < 30; ++i) {
      PutRequest put;
      put.key = base + "new/" + std::to_string(i);
      put.body = "body " + std::to_string(i) + std::string(static_cast<size_t>(i) * 50, 'y');
      put.metadata = {{"n", std::to_string(i)}};
      put.if_none_match_star = i % 2 == 0;  // half create-only, all absent: all written
      requests.push_back(put);
      want.push_back(ErrorCode::kOk);
    }
    PutRequest exists = existing;  // create-only over an existing key: refused
    exists.body = "must not land";
    exists.if_none_match_star = true;
    requests.push_back(exists);
    want.push_back(ErrorCode::kPreconditionFailed);
    PutRequest stale = existing;  // a stale If-Match: refused
    stale.body = "must not land either";
    stale.if_match = "\"0123456789abcdef0123456789abcdef\"";
    requests.push_back(stale);
    want.push_back(ErrorCode::kPreconditionFailed);
    PutRequest bad_key;  // refused before sending
    bad_key.key = "";
    requests.push_back(bad_key);
    want.push_back(ErrorCode::kInvalidArgument);
    PutRequest too_large;
    too_large.key = base + "too-large";
    too_large.metadata = {{"big", std::string(4000, 'm')}};
    requests.push_back(too_large);
    want.push_back(ErrorCode::kMetadataTooLarge);

    const std::vector<PutRequest> sent = requests;
    std::vector<PutEachAnswer> seen = CollectPutEach(store, std::move(requests), concurrency);
    for (size_t i = 0; i < sent.size(); ++i) {
      SCOPED_TRACE(sent[i].key);
      EXPECT_EQ(seen[i].answers, 1);
      ASSERT_TRUE(seen[i].written.has_value());
      const Result<ObjectInfo>& written = *seen[i].written;
      EXPECT_EQ(written.code(), want[i]) << (written.ok() ? std::string("ok") : written.status().ToString());
      if (want[i] != ErrorCode::kOk || !written.ok()) continue;
      Result<GetResult> got = store.Get(sent[i].key);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->body, sent[i].body);
      EXPECT_EQ(got->info.etag, written->etag);
      EXPECT_EQ(got->info.metadata.at("n"), sent[i].metadata.at("n"));
    }
    Result<GetResult> kept = store.Get(existing.key);
    ASSERT_TRUE(kept.ok());
    EXPECT_EQ(kept->body, "old");
    EXPECT_EQ(kept->info.etag, old->etag);
    EXPECT_EQ(store.Head(base + "too-large").code(), ErrorCode::kNotFound);
  }
  EXPECT_TRUE(CollectPutEach(store, {}, 8).empty());

  // From a source that blocks between requests: every one still comes, in the order given.
  const std::string base = prefix + "puteach-source/";
  size_t next = 0;
  std::atomic<int> answers{0};
  std::vector<std::string> etags(25);
  PutEachOptions options;
  options.concurrency = 4;
  store.PutEachFrom(
      [&]() -> std::optional<PutRequest> {
        if (next >= etags.size()) return std::nullopt;
        if (next % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        PutRequest put;
        put.key = base + std::to_string(next);
        put.body = "from the source " + std::to_string(next++);
        return put;
      },
      options,
      [&](size_t index, const Result<ObjectInfo>& written) {
        ++answers;
        if (index < etags.size() && written.ok()) etags[index] = written->etag;
      });
  EXPECT_EQ(answers.load(), static_cast<int>(etags.size()));
  for (size_t i = 0; i < etags.size(); ++i) {
    Result<GetResult> got = store.Get(base + std::to_string(i));
    ASSERT_TRUE(got.ok()) << i;
    EXPECT_EQ(got->body, "from the source " + std::to_string(i));
    EXPECT_EQ(got->info.etag, etags[i]);
  }

  // Two batches creating the same keys at once: each key has exactly one winner, the other
  // is refused, and the object is the winner's.
  const std::string race = prefix + "puteach-race/";
  constexpr int kKeys = 40;
  auto batch = [&](const std::string& who) {
    std::vector<PutRequest> puts;
    for (int i = 0; i < kKeys; ++i) {
      PutRequest put;
      put.key = race + std::to_string(i);
      put.body = who;
      put.if_none_match_star = true;
      puts.push_back(put);
    }
    return puts;
  };
  std::vector<PutEachAnswer> a, b;
  std::thread first([&] { a = CollectPutEach(store, batch("a"), 16); });
  b = CollectPutEach(store, batch("b"), 16);
  first.join();
  for (int i = 0; i < kKeys; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(a[i].written && b[i].written);
    const bool a_won = a[i].written->ok();
    const bool b_won = b[i].written->ok();
    EXPECT_NE(a_won, b_won);
    EXPECT_EQ((a_won ? *b[i].written : *a[i].written).code(), ErrorCode::kPreconditionFailed);
    Result<GetResult> got = store.Get(race + std::to_string(i));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->body, a_won ? "a" : "b");
  }
}

}  // namespace s3db::testing
