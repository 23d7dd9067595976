// The ObjectStore contract (include/s3db/object_store.h), run on every local store.
// A new backend joins by adding one line to kStores at the bottom.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "s3db/object_store.h"
#include "s3db/stores.h"
#include "support/get_each_contract.h"
#include "support/put_each_contract.h"
#include "support/raw_objects.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace {

struct StoreCase {
  std::string name;
  // Opens a fresh, empty store; `scratch` is a new directory it may use.
  std::function<std::unique_ptr<ObjectStore>(const std::filesystem::path& scratch)> open;
};

std::ostream& operator<<(std::ostream& out, const StoreCase& c) { return out << c.name; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MemoryBucketFor(const std::filesystem::path& scratch) {
  // The scratch directory's random name makes the bucket unique to the test.
  return "contract-" + scratch.filename().string();
}

class StoreContractTest : public ::testing::TestWithParam<StoreCase> {
 protected:
  void SetUp() override {
    scratch_ = std::filesystem::temp_directory_path() / ("s3db-contract-" + util::RandomAlnum(12));
    std::filesystem::create_directories(scratch_);
    store_ = GetParam().open(scratch_);
    ASSERT_NE(store_, nullptr);
  }

  void TearDown() override {
    store_.reset();
    ClearMemoryBucket(MemoryBucketFor(scratch_));  // a no-op for the other stores
    std::error_code ignored;
    std::filesystem::remove_all(scratch_, ignored);
  }

  ObjectInfo MustPut(const std::string& key, const std::string& body = "body", const Metadata& metadata = {}) {
    return testing::MustPut(*store_, key, body, metadata);
  }

  Status PutWithMetadata(const Metadata& metadata) {
    PutRequest request;
    request.key = "meta";
    request.metadata = metadata;
    return store_->Put(request).status();
  }

  // Every key the store lists for `request`, following continuation tokens to the end.
  std::vector<std::string> ListAll(ListRequest request) {
    std::vector<std::string> keys;
    for (int pages = 0; pages < 10000; ++pages) {
      Result<ListPage> page = store_->List(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->objects.size(), static_cast<size_t>(std::clamp(request.max_keys, 1, 1000)));
      for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
      EXPECT_EQ(page->truncated, !page->next_continuation_token.empty());
      if (!page->truncated) break;
      request.continuation_token = page->next_continuation_token;
    }
    return keys;
  }

  std::filesystem::path scratch_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(StoreContractTest, PutGetHeadDelete) {
  int64_t before = NowMs();
  PutRequest request;
  request.key = "users/u1";
  request.body = "hello";
  request.content_type = "text/plain";
  request.metadata = {{"Name", "Ada"}, {"_v", "1"}};
  Result<ObjectInfo> put = store_->Put(request);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  int64_t after = NowMs();
  EXPECT_EQ(put->key, "users/u1");
  EXPECT_EQ(put->etag, "\"5d41402abc4b2a76b9719d911017c592\"");
  EXPECT_EQ(put->size, 5u);

  Result<GetResult> got = store_->Get("users/u1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->info.key, "users/u1");
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.size, 5u);
  EXPECT_EQ(got->info.content_type, "text/plain");
  EXPECT_EQ(got->info.metadata, (Metadata{{"name", "Ada"}, {"_v", "1"}}));
  EXPECT_GE(got->info.last_modified_ms, before);
  EXPECT_LE(got->info.last_modified_ms, after);

  Result<ObjectInfo> head = store_->Head("users/u1");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->metadata, got->info.metadata);
  EXPECT_EQ(head->last_modified_ms, got->info.last_modified_ms);

  EXPECT_TRUE(store_->Delete("users/u1").ok());
  EXPECT_EQ(store_->Get("users/u1").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Head("users/u1").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete("users/u1").ok()) << "deleting an absent key succeeds";
}

// Read shows what Get returns, once, and nothing for an absent or invalid key.
TEST_P(StoreContractTest, ReadShowsWhatGetReturns) {
  PutRequest request;
  request.key = "users/r1";
  request.body = "{\"w\":\"x\"}";
  request.metadata = {{"a", "1"}, {"_v", "2"}};
  ASSERT_TRUE(store_->Put(request).ok());
  Result<GetResult> got = store_->Get("users/r1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  int visits = 0;
  Status read = store_->Read("users/r1", [&](const ObjectInfo& info, const std::string& body) {
    ++visits;
    EXPECT_EQ(body, got->body);
    EXPECT_EQ(info.key, got->info.key);
    EXPECT_EQ(info.etag, got->info.etag);
    EXPECT_EQ(info.size, got->info.size);
    EXPECT_EQ(info.content_type, got->info.content_type);
    EXPECT_EQ(info.metadata, got->info.metadata);
    EXPECT_EQ(info.last_modified_ms, got->info.last_modified_ms);
  });
  EXPECT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(visits, 1);
  auto never = [&](const ObjectInfo&, const std::string&) { ++visits; };
  EXPECT_EQ(store_->Read("users/none", never).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Read("", never).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(visits, 1);
}

TEST_P(StoreContractTest, GetEachShowsWhatGetReturnsForEveryKeyOnce) { testing::CheckGetEachContract(*store_, ""); }

TEST_P(StoreContractTest, PutEachAnswersWhatPutAnswersForEveryRequestOnce) {
  testing::CheckPutEachContract(*store_, "");
}

TEST_P(StoreContractTest, GetOfAbsentKeyIsNotFound) {
  EXPECT_EQ(store_->Get("nope").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Head("no/pe").code(), ErrorCode::kNotFound);
  MustPut("dir/file");
  EXPECT_EQ(store_->Get("dir").code(), ErrorCode::kNotFound) << "a 'directory' is no object";
  EXPECT_EQ(store_->Get("dir/file/deeper").code(), ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, DefaultContentTypeAndEmptyBody) {
  ObjectInfo put = MustPut("empty", "");
  EXPECT_EQ(put.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
  Result<GetResult> got = store_->Get("empty");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "");
  EXPECT_EQ(got->info.size, 0u);
  EXPECT_EQ(got->info.content_type, "application/octet-stream");
}

TEST_P(StoreContractTest, BinaryBodyRoundTrips) {
  std::string body;
  for (int i = 0; i < 3 * 256; ++i) body.push_back(static_cast<char>(i % 256));
  body += "\n{\"v\":1}\n";
  ObjectInfo put = MustPut("bin", body);
  Result<GetResult> got = store_->Get("bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(got->info.size, body.size());
  EXPECT_EQ(put.etag, "\"" + util::HexEncode(util::Md5(body)) + "\"");

  std::string large(3 * 1024 * 1024 + 7, 'L');
  MustPut("large", large);
  got = store_->Get("large");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, large);
}

TEST_P(StoreContractTest, OverwriteReplacesBodyAndMetadata) {
  MustPut("k", "one", {{"a", "1"}, {"b", "2"}});
  ObjectInfo second = MustPut("k", "two", {{"c", "3"}});
  Result<GetResult> got = store_->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "two");
  EXPECT_EQ(got->info.metadata, (Metadata{{"c", "3"}}));
  EXPECT_EQ(got->info.etag, second.etag);
}

TEST_P(StoreContractTest, EtagIsQuotedMd5OfBodyOnly) {
  ObjectInfo a = MustPut("a", "same body", {{"x", "1"}});
  ObjectInfo b = MustPut("b", "same body", {{"y", "2"}});
  EXPECT_EQ(a.etag, "\"" + util::HexEncode(util::Md5("same body")) + "\"");
  EXPECT_EQ(a.etag, b.etag);
}

TEST_P(StoreContractTest, MetadataKeysAreLowerCased) {
  MustPut("k", "", {{"MixedCase", "v"}, {"UPPER_x-1", "w"}});
  Result<ObjectInfo> head = store_->Head("k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata, (Metadata{{"mixedcase", "v"}, {"upper_x-1", "w"}}));
}

TEST_P(StoreContractTest, MetadataLimitIsExactlyAtTheBoundary) {
  EXPECT_EQ(store_->capabilities().metadata_limit, 2048u);
  // One key of 1 byte + a value of 2047: 2048 bytes, accepted.
  EXPECT_TRUE(PutWithMetadata({{"k", std::string(2047, 'v')}}).ok());
  // Split over many keys, still counted as the sum of keys and values.
  Metadata many;
  for (int i = 0; i < 16; ++i) many["k" + std::to_string(100 + i)] = std::string(124, 'v');
  ASSERT_EQ(16 * (4 + 124), 2048);
  EXPECT_TRUE(PutWithMetadata(many).ok());

  Status over = PutWithMetadata({{"k", std::string(2048, 'v')}});
  EXPECT_EQ(over.code(), ErrorCode::kMetadataTooLarge);
  EXPECT_NE(over.message().find("2049"), std::string::npos) << over.message();
  EXPECT_NE(over.message().find("2048"), std::string::npos) << over.message();
  many["z"] = "";  // one more key byte
  EXPECT_EQ(PutWithMetadata(many).code(), ErrorCode::kMetadataTooLarge);
  // A rejected Put leaves the previous object in place.
  Result<ObjectInfo> head = store_->Head("meta");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->metadata.size(), 16u);
}

TEST_P(StoreContractTest, InvalidMetadataIsRejected) {
  for (std::string key : {"", "has space", "dot.ted", "colon:", "ünï"}) {
    EXPECT_EQ(PutWithMetadata({{key, "v"}}).code(), ErrorCode::kInvalidArgument) << key;
  }
  for (std::string value : {"new\nline", "tab\there", "\x01", "\x7f", "caf\xc3\xa9", " leading", "trailing "}) {
    EXPECT_EQ(PutWithMetadata({{"k", value}}).code(), ErrorCode::kInvalidArgument) << value;
  }
  EXPECT_EQ(PutWithMetadata({{"Dup", "1"}, {"dup", "2"}}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Head("meta").code(), ErrorCode::kNotFound) << "nothing was written";
  EXPECT_TRUE(PutWithMetadata({{"k", ""}, {"k2", "in side"}}).ok());
}

TEST_P(StoreContractTest, InvalidKeysAreRejectedEverywhere) {
  for (const std::string& key : {std::string(), std::string(1025, 'k'), std::string("a\xff")}) {
    PutRequest request;
    request.key = key;
    EXPECT_EQ(store_->Put(request).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Get(key).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Head(key).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(key).code(), ErrorCode::kInvalidArgument);
  }
  std::string longest(1024, 'k');
  MustPut(longest, "max");
  Result<GetResult> got = store_->Get(longest);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "max");
}

TEST_P(StoreContractTest, IfNoneMatchStarCreatesOnlyOnce) {
  PutRequest create;
  create.key = "once";
  create.body = "first";
  create.if_none_match_star = true;
  ASSERT_TRUE(store_->Put(create).ok());
  create.body = "second";
  EXPECT_EQ(store_->Put(create).code(), ErrorCode::kPreconditionFailed);
  Result<GetResult> got = store_->Get("once");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "first");
  // After a delete the key can be created again.
  ASSERT_TRUE(store_->Delete("once").ok());
  EXPECT_TRUE(store_->Put(create).ok());
}

TEST_P(StoreContractTest, IfMatch) {
  PutRequest update;
  update.key = "doc";
  update.body = "v2";
  update.if_match = "\"5d41402abc4b2a76b9719d911017c592\"";
  EXPECT_EQ(store_->Put(update).code(), ErrorCode::kPreconditionFailed) << "absent key";
  EXPECT_EQ(store_->Head("doc").code(), ErrorCode::kNotFound);

  ObjectInfo v1 = MustPut("doc", "v1");
  update.if_match = "\"00000000000000000000000000000000\"";
  EXPECT_EQ(store_->Put(update).code(), ErrorCode::kPreconditionFailed) << "wrong etag";

  update.if_match = v1.etag;  // quoted
  Result<ObjectInfo> v2 = store_->Put(update);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_NE(v2->etag, v1.etag);
  EXPECT_EQ(v2->etag, "\"" + util::HexEncode(util::Md5("v2")) + "\"");
  EXPECT_EQ(store_->Put(update).code(), ErrorCode::kPreconditionFailed) << "stale etag";

  update.if_match = v2->etag.substr(1, v2->etag.size() - 2);  // unquoted
  update.body = "v3";
  EXPECT_TRUE(store_->Put(update).ok());
  Result<GetResult> got = store_->Get("doc");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, "v3");
}

TEST_P(StoreContractTest, BothConditionsAtOnceIsInvalid) {
  PutRequest request;
  request.key = "k";
  request.if_match = "\"x\"";
  request.if_none_match_star = true;
  EXPECT_EQ(store_->Put(request).code(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreContractTest, ListIsInBinaryKeyOrder) {
  std::vector<std::string> keys = {"b",   "a", "A",   "a/b",  "a-b", "ab",   "a/", "é", "~",    "a.b",
                                   "a/c", "Z", "a b", "a//x", "😀",   "\x7f", "0",  "_", "a%2F", "a^o"};
  for (const std::string& key : keys) MustPut(key);
  std::sort(keys.begin(), keys.end());  // std::string orders bytes as unsigned: S3's order
  ListRequest request;
  EXPECT_EQ(ListAll(request), keys);
  request.max_keys = 3;
  EXPECT_EQ(ListAll(request), keys);
}

TEST_P(StoreContractTest, ListFiltersByPrefix) {
  for (std::string key : {"users/1", "users/2", "users/2/x", "users-x", "usersx", "user", "orders/1", "u"}) {
    MustPut(key);
  }
  auto keys_with = [&](const std::string& prefix) {
    ListRequest request;
    request.prefix = prefix;
    return ListAll(request);
  };
  using Keys = std::vector<std::string>;
  EXPECT_EQ(keys_with("users/"), (Keys{"users/1", "users/2", "users/2/x"}));
  EXPECT_EQ(keys_with("users"), (Keys{"users-x", "users/1", "users/2", "users/2/x", "usersx"}));
  EXPECT_EQ(keys_with("users/2"), (Keys{"users/2", "users/2/x"}));
  EXPECT_EQ(keys_with("u"), (Keys{"u", "user", "users-x", "users/1", "users/2", "users/2/x", "usersx"}));
  EXPECT_EQ(keys_with("orders/1"), (Keys{"orders/1"}));
  EXPECT_EQ(keys_with("nothing/here"), Keys{});
  EXPECT_EQ(keys_with("users/2/x/"), Keys{});

  ListRequest request;
  request.prefix = "zzz";
  Result<ListPage> page = store_->List(request);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->next_continuation_token.empty());
}

TEST_P(StoreContractTest, ListStartsAfter) {
  for (std::string key : {"a", "b", "b/1", "c", "d"}) MustPut(key);
  ListRequest request;
  request.start_after = "b";
  EXPECT_EQ(ListAll(request), (std::vector<std::string>{"b/1", "c", "d"}));
  request.start_after = "bb";  // need not exist
  EXPECT_EQ(ListAll(request), (std::vector<std::string>{"c", "d"}));
  request.start_after = "a";
  request.prefix = "b";
  EXPECT_EQ(ListAll(request), (std::vector<std::string>{"b", "b/1"}));
  request.start_after = "z";
  request.prefix.clear();
  EXPECT_EQ(ListAll(request), std::vector<std::string>{});
}

TEST_P(StoreContractTest, ListReportsSizeAndEtagButNoMetadata) {
  ObjectInfo put = MustPut("k", "12345", {{"m", "v"}});
  Result<ListPage> page = store_->List(ListRequest{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  const ObjectInfo& listed = page->objects[0];
  EXPECT_EQ(listed.key, "k");
  EXPECT_EQ(listed.etag, put.etag);
  EXPECT_EQ(listed.size, 5u);
  EXPECT_EQ(listed.last_modified_ms, put.last_modified_ms);
  EXPECT_TRUE(listed.metadata.empty());
}

TEST_P(StoreContractTest, PaginatesOver2500Keys) {
  std::vector<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "items/%04d", i);
    expected.push_back(key);
    MustPut(key, std::to_string(i));
  }
  MustPut("other/1");

  ListRequest request;
  request.prefix = "items/";
  std::vector<size_t> page_sizes;
  std::vector<std::string> listed;
  while (true) {
    Result<ListPage> page = store_->List(request);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    page_sizes.push_back(page->objects.size());
    for (const ObjectInfo& info : page->objects) listed.push_back(info.key);
    if (!page->truncated) break;
    request.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(page_sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(listed, expected);

  for (int max_keys : {50, 333, 2500, 0}) {
    ListRequest small;
    small.prefix = "items/";
    small.max_keys = max_keys;
    if (max_keys == 0) small.start_after = "items/2490";  // clamped to pages of 1
    std::vector<std::string> tail(expected.begin() + (max_keys == 0 ? 2491 : 0), expected.end());
    EXPECT_EQ(ListAll(small), tail) << "max_keys " << max_keys;
  }
  ListRequest everything;
  EXPECT_EQ(ListAll(everything).size(), 2501u);
}

TEST_P(StoreContractTest, MalformedContinuationTokenIsInvalid) {
  MustPut("k");
  for (std::string token : {"garbage", "1.%%%", "1."}) {
    ListRequest request;
    request.continuation_token = token;
    EXPECT_EQ(store_->List(request).code(), ErrorCode::kInvalidArgument) << token;
  }
}

TEST_P(StoreContractTest, DeleteMany) {
  for (std::string key : {"a", "b", "c"}) MustPut(key);
  Result<DeleteManyResult> result = store_->DeleteMany({"a", "c", "absent"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> deleted = result->deleted;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"a", "absent", "c"}));
  EXPECT_TRUE(result->errors.empty());
  EXPECT_EQ(ListAll(ListRequest{}), std::vector<std::string>{"b"});

  std::vector<std::string> thousand(1000);
  for (size_t i = 0; i < thousand.size(); ++i) thousand[i] = "k" + std::to_string(i);
  EXPECT_TRUE(store_->DeleteMany(thousand).ok());
  thousand.push_back("b");
  EXPECT_EQ(store_->DeleteMany(thousand).code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(store_->Head("b").ok()) << "a rejected DeleteMany deletes nothing";

  result = store_->DeleteMany({"b", ""});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->deleted, std::vector<std::string>{"b"});
  ASSERT_EQ(result->errors.size(), 1u);
  EXPECT_EQ(result->errors[0].second.code(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreContractTest, ConcurrentCreatesHaveExactlyOneWinner) {
  for (int round = 0; round < 5; ++round) {
    constexpr int kThreads = 8;
    std::latch start(kThreads);
    std::atomic<int> successes{0};
    std::atomic<int> preconditions{0};
    std::vector<std::string> bodies(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        PutRequest request;
        request.key = "race/" + std::to_string(round);
        request.body = "writer " + std::to_string(t);
        request.if_none_match_star = true;
        start.arrive_and_wait();
        Result<ObjectInfo> result = store_->Put(request);
        if (result.ok()) {
          ++successes;
          bodies[static_cast<size_t>(t)] = request.body;
        } else if (result.code() == ErrorCode::kPreconditionFailed) {
          ++preconditions;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(successes.load(), 1);
    EXPECT_EQ(preconditions.load(), kThreads - 1);
    Result<GetResult> got = store_->Get("race/" + std::to_string(round));
    ASSERT_TRUE(got.ok());
    EXPECT_NE(std::find(bodies.begin(), bodies.end(), got->body), bodies.end());
  }
}

TEST_P(StoreContractTest, ConcurrentIfMatchUpdatesLoseNothing) {
  MustPut("counter", "0");
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrements;) {
        Result<GetResult> current = store_->Get("counter");
        if (!current.ok()) return;
        PutRequest request;
        request.key = "counter";
        request.body = std::to_string(std::stoi(current->body) + 1);
        request.if_match = current->info.etag;
        Result<ObjectInfo> put = store_->Put(request);
        if (put.ok()) {
          ++done;
        } else if (put.code() != ErrorCode::kPreconditionFailed) {
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  Result<GetResult> final_value = store_->Get("counter");
  ASSERT_TRUE(final_value.ok());
  EXPECT_EQ(final_value->body, std::to_string(kThreads * kIncrements));
}

TEST_P(StoreContractTest, ConcurrentReadersSeeWholeObjects) {
  const std::string a(64 * 1024, 'a');
  const std::string b(32 * 1024, 'b');
  MustPut("flip", a, {{"which", "a"}});
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      MustPut("flip", i % 2 ? a : b, {{"which", i % 2 ? "a" : "b"}});
    }
    stop = true;
  });
  std::thread reader([&] {
    while (!stop) {
      Result<GetResult> got = store_->Get("flip");
      if (!got.ok()) {
        ++torn;
        continue;
      }
      const std::string& expected = got->info.metadata["which"] == "a" ? a : b;
      if (got->body != expected || got->info.etag != "\"" + util::HexEncode(util::Md5(expected)) + "\"") {
        ++torn;
      }
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST_P(StoreContractTest, DescribesItselfAndItsCapabilities) {
  std::string description = store_->Describe();
  EXPECT_TRUE(description.rfind("memory://", 0) == 0 || description.rfind("file://", 0) == 0) << description;
  EXPECT_TRUE(store_->capabilities().conditional_writes);
  // Scan snapshots trust this flag: it must say what Put really answers.
  EXPECT_TRUE(store_->capabilities().etag_is_body_md5);
  PutRequest put;
  put.key = "etag-truth";
  put.body = "the body whose MD5 the ETag is";
  Result<ObjectInfo> written = store_->Put(put);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->etag, "\"" + util::HexEncode(util::Md5(put.body)) + "\"");
}

TEST_P(StoreContractTest, DeleteIfMatchDeletesOnlyAtItsEtag) {
  EXPECT_TRUE(store_->capabilities().conditional_deletes);
  ObjectInfo first = MustPut("k", "one");
  ObjectInfo second = MustPut("k", "two");
  Status stale = store_->DeleteIfMatch("k", first.etag);
  EXPECT_EQ(stale.code(), ErrorCode::kPreconditionFailed) << stale.ToString();
  EXPECT_NE(stale.message().find("'k'"), std::string::npos) << stale.message();
  ASSERT_TRUE(store_->Head("k").ok());

  // Quoted or bare, as for Put's if_match.
  std::string bare = second.etag.substr(1, second.etag.size() - 2);
  ASSERT_TRUE(store_->DeleteIfMatch("k", bare).ok());
  EXPECT_EQ(store_->Head("k").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteIfMatch("k", second.etag).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteIfMatch("", second.etag).code(), ErrorCode::kInvalidArgument);
}

// Per ETag, a conditional Put and a conditional delete race; the check and the change are
// atomic, so exactly one of them wins each round.
TEST_P(StoreContractTest, DeleteIfMatchRacingAnIfMatchPutHasOneWinner) {
  constexpr int kRounds = 200;
  for (int round = 0; round < kRounds; ++round) {
    ObjectInfo base = MustPut("race", "round " + std::to_string(round));
    std::latch start(2);
    Status put_status, delete_status;
    std::thread writer([&] {
      PutRequest put;
      put.key = "race";
      put.body = "written in round " + std::to_string(round);
      put.if_match = base.etag;
      start.arrive_and_wait();
      put_status = store_->Put(put).status();
    });
    std::thread deleter([&] {
      start.arrive_and_wait();
      delete_status = store_->DeleteIfMatch("race", base.etag);
    });
    writer.join();
    deleter.join();
    ASSERT_NE(put_status.ok(), delete_status.ok())
        << "round " << round << ": put " << put_status.ToString() << ", delete " << delete_status.ToString();
    // The loser saw the winner's work: the Put an absent key, the delete a new ETag.
    const Status& loser = put_status.ok() ? delete_status : put_status;
    EXPECT_EQ(loser.code(), ErrorCode::kPreconditionFailed) << loser.ToString();
    EXPECT_EQ(store_->Head("race").ok(), put_status.ok()) << "round " << round;
  }
}

const StoreCase kStores[] = {
    {"Memory", [](const std::filesystem::path& scratch) { return NewMemoryStore(MemoryBucketFor(scratch)); }},
    {"File",
     [](const std::filesystem::path& scratch) -> std::unique_ptr<ObjectStore> {
       // fsync off: the contract is the same, and 2500 fsyncs would dominate the run time.
       Result<std::unique_ptr<ObjectStore>> store = NewFileStore({(scratch / "root").string(), /*fsync=*/false});
       if (!store.ok()) return nullptr;
       return std::move(store).value();
     }},
};

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContractTest, ::testing::ValuesIn(kStores),
                         [](const ::testing::TestParamInfo<StoreCase>& info) { return info.param.name; });

}  // namespace
}  // namespace s3db
