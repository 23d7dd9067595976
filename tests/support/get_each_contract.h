// The GetEach contract (include/s3db/object_store.h), shared by the local stores' contract
// test and the S3 store's tests on a real server: every key visited exactly once under its
// index, with what Get returns for it (object, kNotFound, kInvalidArgument), at concurrency 1
// and many, from a list and from a key source that blocks.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "s3db/object_store.h"

namespace s3db::testing {

struct GetEachVisit {
  Status status;
  std::string etag;
  std::string body;
  Metadata metadata;
  int visits = 0;
};

// Runs GetEach over `keys` and collects what it showed, by index.
inline std::vector<GetEachVisit> CollectGetEach(ObjectStore& store, const std::vector<std::string>& keys,
                                                int concurrency) {
  std::vector<GetEachVisit> seen(keys.size());
  std::mutex mu;
  GetEachOptions options;
  options.concurrency = concurrency;
  store.GetEach(keys, options,
                [&](size_t index, const Status& status, const ObjectInfo& info, const std::string& body) {
                  std::lock_guard lock(mu);
                  if (index >= seen.size()) {
                    ADD_FAILURE() << "index " << index << " out of range";
                    return;
                  }
                  GetEachVisit& v = seen[index];
                  v.status = status;
                  v.etag = info.etag;
                  v.body = body;
                  v.metadata = info.metadata;
                  ++v.visits;
                });
  return seen;
}

// `prefix` is where the check may write (it leaves its objects there).
inline void CheckGetEachContract(ObjectStore& store, const std::string& prefix) {
  std::vector<std::string> keys;
  std::map<std::string, Result<GetResult>> expected;
  for (int i = 0; i < 40; ++i) {
    const std::string key = prefix + "each/" + std::to_string(i);
    keys.push_back(key);
    if (i % 5 == 3) continue;  // absent
    PutRequest put;
    put.key = key;
    put.body = "body of " + std::to_string(i) + std::string(static_cast<size_t>(i) * 100, 'x');
    put.metadata = {{"n", std::to_string(i)}};
    ASSERT_TRUE(store.Put(put).ok());
  }
  keys.push_back("");       // invalid
  keys.push_back(keys[0]);  // the same key twice is read twice
  for (const std::string& key : keys) expected.emplace(key, store.Get(key));
  for (int concurrency : {1, 7, 64}) {
    SCOPED_TRACE("concurrency " + std::to_string(concurrency));
    std::vector<GetEachVisit> seen = CollectGetEach(store, keys, concurrency);
    for (size_t i = 0; i < keys.size(); ++i) {
      const Result<GetResult>& want = expected.at(keys[i]);
      EXPECT_EQ(seen[i].visits, 1) << keys[i];
      EXPECT_EQ(seen[i].status.code(), want.code()) << keys[i] << ": " << seen[i].status.ToString();
      if (!want.ok()) {
        EXPECT_TRUE(seen[i].body.empty());
        continue;
      }
      EXPECT_EQ(seen[i].body, want->body) << keys[i];
      EXPECT_EQ(seen[i].etag, want->info.etag) << keys[i];
      EXPECT_EQ(seen[i].metadata, want->info.metadata) << keys[i];
    }
  }
  EXPECT_TRUE(CollectGetEach(store, {}, 8).empty());

  // From a source that blocks between keys: every key still comes, in the order given.
  size_t next = 0;
  std::vector<std::string> bodies(keys.size());
  std::atomic<int> visits{0};
  GetEachOptions options;
  options.concurrency = 4;
  store.GetEachFrom(
      [&]() -> std::optional<std::string> {
        if (next >= keys.size()) return std::nullopt;
        if (next % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return keys[next++];
      },
      options,
      [&](size_t index, const Status& status, const ObjectInfo&, const std::string& body) {
        ++visits;
        if (index < bodies.size() && status.ok()) bodies[index] = body;
      });
  EXPECT_EQ(visits.load(), static_cast<int>(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) {
    const Result<GetResult>& want = expected.at(keys[i]);
    EXPECT_EQ(bodies[i], want.ok() ? want->body : "") << keys[i];
  }
}

}  // namespace s3db::testing
