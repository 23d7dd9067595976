// The ObjectStore contract of the S3 store on a real S3 server, when S3DB_TEST_S3_URI names
// one (for example Ceph RGW from scripts/rgw.sh: eval "$(scripts/rgw.sh start)"). Otherwise
// these tests are skipped with a message saying so. Every test uses a fresh random key
// prefix, so runs (and concurrent runs) never collide, and removes its keys afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "s3/http_client.h"
#include "s3/s3_addressing.h"
#include "s3/s3_headers.h"
#include "s3/sigv4.h"
#include "s3_test_helpers.h"
#include "s3db/stores.h"
#include "support/get_each_contract.h"
#include "support/put_each_contract.h"
#include "support/raw_objects.h"
#include "util/crypto_hash.h"
#include "util/parallel.h"

namespace s3db::s3 {
namespace {

using std::chrono::milliseconds;

const char* RealServerUri() {
  const char* uri = std::getenv("S3DB_TEST_S3_URI");
  return uri != nullptr && *uri != '\0' ? uri : nullptr;
}

#define SKIP_WITHOUT_S3()                                                               \
  do {                                                                                  \
    if (RealServerUri() == nullptr) {                                                   \
      GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no real S3 server to test against " \
                      "(start one with: eval \"$(scripts/rgw.sh start)\")";             \
    }                                                                                   \
  } while (0)

class RealS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RealServerUri() == nullptr) return;
    Result<StoreUri> uri = ParseStoreUri(RealServerUri());
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
    options_.uri = uri_;
    options_.probe = false;
    Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    prefix_ = (uri_.prefix.empty() ? "" : uri_.prefix + "/") + "s3-store-test-" + util::RandomAlnum(10) + "/";
  }

  void TearDown() override {
    if (store_ == nullptr) return;
    std::vector<std::string> keys = ListAll(prefix_);
    for (size_t i = 0; i < keys.size(); i += 1000) {
      std::vector<std::string> batch(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                     keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
      Result<DeleteManyResult> deleted = store_->DeleteMany(batch);
      EXPECT_TRUE(deleted.ok()) << deleted.status().ToString();
    }
  }

  std::string K(const std::string& name) const { return prefix_ + name; }

  ObjectInfo MustPut(const std::string& key, const std::string& body = "body", const Metadata& metadata = {}) {
    return testing::MustPut(*store_, key, body, metadata);
  }

  std::vector<std::string> ListAll(const std::string& prefix, std::string start_after = "",
                                   std::vector<size_t>* page_sizes = nullptr) {
    ListRequest request;
    request.prefix = prefix;
    request.start_after = std::move(start_after);
    std::vector<std::string> keys;
    for (int pages = 0; pages < 1000; ++pages) {
      Result<ListPage> page = store_->List(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      if (page_sizes != nullptr) page_sizes->push_back(page->objects.size());
      for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
      if (!page->truncated) break;
      request.continuation_token = page->next_continuation_token;
    }
    return keys;
  }

  StoreUri uri_;
  S3StoreOptions options_;
  std::unique_ptr<ObjectStore> store_;
  std::string prefix_;
};

TEST_F(RealS3Test, ProbeFindsConditionalWrites) {
  SKIP_WITHOUT_S3();
  S3StoreOptions options = options_;
  options.probe = true;
  Result<std::unique_ptr<ObjectStore>> probed = NewS3Store(options);
  ASSERT_TRUE(probed.ok()) << probed.status().ToString();
  EXPECT_TRUE((*probed)->capabilities().conditional_writes)
      << "this server ignores If-None-Match / If-Match (s3rver does; RGW and AWS do not)";
  // RGW without SSE-KMS gives body-MD5 ETags, and the probe says so; checked by hand too.
  EXPECT_TRUE((*probed)->capabilities().etag_is_body_md5);
  PutRequest put;
  put.key = K("etag-truth");
  put.body = "a body whose MD5 the ETag should be";
  Result<ObjectInfo> written = (*probed)->Put(put);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->etag, "\"" + util::HexEncode(util::Md5(put.body)) + "\"");
  // The probe cleans up after itself.
  if (!uri_.prefix.empty()) {
    for (const std::string& key : ListAll(uri_.prefix + "/.s3db-probe-")) {
      ADD_FAILURE() << "probe object left behind: " << key;
    }
  }
}

TEST_F(RealS3Test, PutGetHeadDeleteRoundTrip) {
  SKIP_WITHOUT_S3();
  PutRequest request;
  request.key = K("users/u1");
  request.body = "hello";
  request.content_type = "text/plain";
  request.metadata = {{"Name", "Ada"}, {"_v", "1"},           {"empty", ""},  {"sp", "in  side"},
                      {"a-b", "dash"}, {"a_b", "underscore"}, {"-_-", "both"}};
  Result<ObjectInfo> put = store_->Put(request);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "\"5d41402abc4b2a76b9719d911017c592\"");

  Result<GetResult> got = store_->Get(K("users/u1"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.size, 5u);
  EXPECT_EQ(got->info.content_type, "text/plain");
  EXPECT_EQ(got->info.metadata, (Metadata{{"name", "Ada"},
                                          {"_v", "1"},
                                          {"empty", ""},
                                          {"sp", "in  side"},
                                          {"a-b", "dash"},
                                          {"a_b", "underscore"},
                                          {"-_-", "both"}}))
      << "keys lower-cased, '-' and '_' kept apart (RGW alone would turn '_' into '-')";
  int64_t now = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(got->info.last_modified_ms), static_cast<double>(now), 60000.0);

  Result<ObjectInfo> head = store_->Head(K("users/u1"));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(head->metadata, got->info.metadata);
  EXPECT_EQ(head->last_modified_ms, got->info.last_modified_ms);

  std::string binary;
  for (int i = 0; i < 512; ++i) binary.push_back(static_cast<char>(i % 256));
  ObjectInfo bin = MustPut(K("bin"), binary);
  EXPECT_EQ(bin.etag, Md5Etag(binary));
  Result<GetResult> got_bin = store_->Get(K("bin"));
  ASSERT_TRUE(got_bin.ok());
  EXPECT_EQ(got_bin->body, binary);
  EXPECT_EQ(got_bin->info.content_type, "application/octet-stream");

  EXPECT_TRUE(store_->Delete(K("users/u1")).ok());
  EXPECT_EQ(store_->Get(K("users/u1")).code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Head(K("users/u1")).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete(K("users/u1")).ok()) << "deleting an absent key succeeds";
}

// On the event loop (capabilities().asynchronous_reads), with the same answers as Get.
TEST_F(RealS3Test, GetEachShowsWhatGetReturnsForEveryKeyOnce) {
  SKIP_WITHOUT_S3();
  EXPECT_TRUE(store_->capabilities().asynchronous_reads);
  testing::CheckGetEachContract(*store_, prefix_);
}

TEST_F(RealS3Test, PutEachAnswersWhatPutAnswersForEveryRequestOnce) {
  SKIP_WITHOUT_S3();
  EXPECT_TRUE(store_->capabilities().asynchronous_writes);
  testing::CheckPutEachContract(*store_, prefix_);
}

TEST_F(RealS3Test, IfNoneMatchTwiceIsPreconditionFailed) {
  SKIP_WITHOUT_S3();
  PutRequest create;
  create.key = K("once");
  create.body = "first";
  create.if_none_match_star = true;
  ASSERT_TRUE(store_->Put(create).ok());
  create.body = "second";
  Result<ObjectInfo> again = store_->Put(create);
  EXPECT_EQ(again.code(), ErrorCode::kPreconditionFailed) << again.status().ToString();
  EXPECT_EQ(store_->Get(K("once"))->body, "first");
  EXPECT_EQ(store_->Get(K("once"))->info.metadata, Metadata{}) << "the write tag is hidden";
  ASSERT_TRUE(store_->Delete(K("once")).ok());
  EXPECT_TRUE(store_->Put(create).ok()) << "after a delete the key can be created again";
}

TEST_F(RealS3Test, IfMatchRightWrongAndMissing) {
  SKIP_WITHOUT_S3();
  PutRequest update;
  update.key = K("doc");
  update.body = "v2";
  update.if_match = Md5Etag("v1");
  Result<ObjectInfo> absent = store_->Put(update);
  EXPECT_EQ(absent.code(), ErrorCode::kPreconditionFailed) << absent.status().ToString();
  EXPECT_EQ(store_->Head(K("doc")).code(), ErrorCode::kNotFound);

  ObjectInfo v1 = MustPut(K("doc"), "v1");
  update.if_match = Md5Etag("wrong");
  EXPECT_EQ(store_->Put(update).code(), ErrorCode::kPreconditionFailed);

  update.if_match = v1.etag;  // quoted
  Result<ObjectInfo> v2 = store_->Put(update);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(v2->etag, Md5Etag("v2"));
  EXPECT_EQ(store_->Put(update).code(), ErrorCode::kPreconditionFailed) << "stale etag";

  update.if_match = v2->etag.substr(1, v2->etag.size() - 2);  // unquoted
  update.body = "v3";
  EXPECT_TRUE(store_->Put(update).ok());
  EXPECT_EQ(store_->Get(K("doc"))->body, "v3");
}

TEST_F(RealS3Test, OddKeysRoundTripThroughEveryCall) {
  SKIP_WITHOUT_S3();
  const std::vector<std::string> names = {"a b",      "plus+sign",  "per%cent", "per%2Fcent", "ünïcødé/😀", "a//b",
                                          "a/./b",    "a/../b",     "q?x=1&y",  "hash#tag",   "tilde~",    "semi;colon",
                                          "quote'\"", "<xml>&amp;", " lead",    "trail "};
  std::vector<std::string> keys;
  for (const std::string& name : names) {
    keys.push_back(K("odd/" + name));
    MustPut(keys.back(), name);
  }
  for (const std::string& key : keys) {
    Result<GetResult> got = store_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(K("odd/" + got->body), key);
    EXPECT_TRUE(store_->Head(key).ok()) << key;
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListAll(K("odd/")), sorted) << "listed in binary order, decoded exactly";
  EXPECT_EQ(ListAll(K("odd/a b")), std::vector<std::string>{K("odd/a b")}) << "prefix with a space";
  Result<DeleteManyResult> deleted = store_->DeleteMany(keys);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_TRUE(deleted->errors.empty());
  EXPECT_EQ(ListAll(K("odd/")), std::vector<std::string>{});
}

TEST_F(RealS3Test, ListPaginatesStartsAfterAndDeleteManyInTwoBatches) {
  SKIP_WITHOUT_S3();
  constexpr int kKeys = 1100;
  std::vector<std::string> keys(kKeys);
  for (int i = 0; i < kKeys; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "page/%05d", i);
    keys[static_cast<size_t>(i)] = K(name);
  }
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  util::ParallelFor(keys.size(), 8, [&](size_t i) {
    PutRequest put;
    put.key = keys[i];
    put.body = std::to_string(i);
    if (!store_->Put(put).ok()) ++failures;
  });
  double put_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(failures.load(), 0);
  std::cout << "[ measure  ] " << kKeys << " PUTs with 8 threads: " << kKeys / put_seconds << " PUT/s\n";

  std::vector<size_t> page_sizes;
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(ListAll(K("page/"), "", &page_sizes), keys);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{1000, 100}));
  std::vector<std::string> tail(keys.begin() + 1050, keys.end());
  EXPECT_EQ(ListAll(K("page/"), K("page/01049")), tail);
  EXPECT_EQ(ListAll(K("page/"), K("page/01049x")), std::vector<std::string>(keys.begin() + 1050, keys.end()));
  ListRequest small;
  small.prefix = K("page/");
  small.max_keys = 7;
  Result<ListPage> page = store_->List(small);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 7u);
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->objects[0].etag, Md5Etag("0"));
  EXPECT_EQ(page->objects[0].size, 1u);

  start = std::chrono::steady_clock::now();
  std::atomic<int> gets{0};
  util::ParallelFor(keys.size(), 8, [&](size_t i) {
    if (store_->Get(keys[i]).ok()) ++gets;
  });
  double get_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(gets.load(), kKeys);
  std::cout << "[ measure  ] " << kKeys << " GETs with 8 threads: " << kKeys / get_seconds << " GET/s\n";

  start = std::chrono::steady_clock::now();
  std::vector<std::string> first(keys.begin(), keys.begin() + 1000);
  std::vector<std::string> second(keys.begin() + 1000, keys.end());
  second.push_back(K("page/never-existed"));
  Result<DeleteManyResult> one = store_->DeleteMany(first);
  Result<DeleteManyResult> two = store_->DeleteMany(second);
  double delete_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(one->deleted.size(), 1000u);
  EXPECT_EQ(two->deleted.size(), 101u) << "an absent key counts as deleted";
  EXPECT_TRUE(one->errors.empty());
  EXPECT_TRUE(two->errors.empty());
  std::cout << "[ measure  ] DeleteObjects of " << kKeys << " keys in 2 batches: " << delete_seconds << " s\n";
  EXPECT_EQ(ListAll(K("page/")), std::vector<std::string>{});
}

TEST_F(RealS3Test, MetadataLimitIsCheckedBeforeAnyRequest) {
  SKIP_WITHOUT_S3();
  size_t limit = store_->capabilities().metadata_limit;
  PutRequest put;
  put.key = K("meta");
  put.metadata = {{"k", std::string(limit - 1, 'v')}};
  ASSERT_TRUE(store_->Put(put).ok()) << "exactly at the limit";
  put.if_none_match_star = true;
  put.key = K("meta-conditional");
  ASSERT_TRUE(store_->Put(put).ok()) << "at the limit plus the write tag still fits 2048";
  put.if_none_match_star = false;
  put.metadata = {{"k", std::string(2048, 'v')}};
  Result<ObjectInfo> over = store_->Put(put);
  EXPECT_EQ(over.code(), ErrorCode::kMetadataTooLarge) << over.status().ToString();
}

// What the server itself does with metadata over 2 KB when the client check is bypassed
// (a raw signed PUT). AWS answers 400 MetadataTooLarge; this records the server's answer.
TEST_F(RealS3Test, ServerSideMetadataLimitWhenTheClientCheckIsBypassed) {
  SKIP_WITHOUT_S3();
  Result<Addressing> addressing = MakeAddressing(uri_.endpoint, uri_.bucket, true);
  ASSERT_TRUE(addressing.ok());
  RequestTarget target = BuildTarget(*addressing, K("raw-meta"), {});
  SigningRequest signing;
  signing.method = "PUT";
  signing.host = target.host;
  signing.path = target.path;
  signing.headers = {{"x-amz-meta-k", std::string(2100, 'v')}};
  SigningContext context;
  context.credentials = {uri_.access_key, uri_.secret_key, uri_.session_token};
  context.region = uri_.region.empty() ? "us-east-1" : uri_.region;
  context.time = std::chrono::system_clock::now();
  Result<SignedRequest> signed_request = SignV4(signing, context);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  HttpRequest http;
  http.method = "PUT";
  http.url = target.url;
  http.headers = {{"Host", target.host}, {"x-amz-meta-k", std::string(2100, 'v')}};
  for (const auto& header : signed_request->headers_to_add) http.headers.push_back(header);
  Result<std::unique_ptr<HttpClient>> client = HttpClient::Create({});
  ASSERT_TRUE(client.ok());
  Result<HttpResponse> response = (*client)->Send(http);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  std::cout << "[ observe  ] server answer to 2101 bytes of metadata: HTTP " << response->status
            << (response->status == 200 ? " (accepted: the server does not enforce 2 KB)" : "") << "\n";
  EXPECT_TRUE(response->status == 200 || response->status == 400) << response->status;
}

TEST_F(RealS3Test, ConcurrentCreatesHaveExactlyOneWinner) {
  SKIP_WITHOUT_S3();
  for (int round = 0; round < 3; ++round) {
    constexpr int kThreads = 8;
    std::latch start(kThreads);
    std::atomic<int> successes{0};
    std::atomic<int> preconditions{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        PutRequest request;
        request.key = K("race/" + std::to_string(round));
        request.body = "writer " + std::to_string(t);
        request.if_none_match_star = true;
        start.arrive_and_wait();
        Result<ObjectInfo> result = store_->Put(request);
        if (result.ok()) {
          ++successes;
        } else if (result.code() == ErrorCode::kPreconditionFailed || result.code() == ErrorCode::kConflict) {
          ++preconditions;
        } else {
          ADD_FAILURE() << result.status().ToString();
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(successes.load(), 1) << "round " << round;
    EXPECT_EQ(preconditions.load(), kThreads - 1);
  }
}

TEST_F(RealS3Test, ConcurrentIfMatchUpdatesLoseNothing) {
  SKIP_WITHOUT_S3();
  MustPut(K("counter"), "0");
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kIncrements;) {
        Result<GetResult> current = store_->Get(K("counter"));
        if (!current.ok()) return;
        PutRequest request;
        request.key = K("counter");
        request.body = std::to_string(std::stoi(current->body) + 1);
        request.if_match = current->info.etag;
        Result<ObjectInfo> put = store_->Put(request);
        if (put.ok()) {
          ++done;
        } else if (put.code() != ErrorCode::kPreconditionFailed && put.code() != ErrorCode::kConflict) {
          ADD_FAILURE() << put.status().ToString();
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(store_->Get(K("counter"))->body, std::to_string(kThreads * kIncrements));
}

TEST_F(RealS3Test, WrongSecretIsAccessDeniedWithoutTheSecret) {
  SKIP_WITHOUT_S3();
  const std::string wrong = "wrongSECRET-7f3a9c";
  S3StoreOptions options = options_;
  options.uri.secret_key = wrong;
  options.probe = true;
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  ASSERT_EQ(store.code(), ErrorCode::kAccessDenied) << store.status().ToString();
  EXPECT_EQ(store.status().message().find(wrong), std::string::npos) << store.status().message();
  EXPECT_EQ(store.status().message().find(uri_.secret_key), std::string::npos);
  EXPECT_FALSE(store.status().retryable());

  options.probe = false;
  Result<std::unique_ptr<ObjectStore>> unprobed = NewS3Store(options);
  ASSERT_TRUE(unprobed.ok());
  Result<GetResult> got = (*unprobed)->Get(K("anything"));
  EXPECT_EQ(got.code(), ErrorCode::kAccessDenied) << got.status().ToString();
  EXPECT_EQ(got.status().message().find(wrong), std::string::npos);
  EXPECT_EQ((*unprobed)->Describe().find(wrong), std::string::npos);
}

TEST_F(RealS3Test, MissingBucketIsNotFound) {
  SKIP_WITHOUT_S3();
  S3StoreOptions options = options_;
  options.uri.bucket = "s3db-no-such-bucket-" + util::HexEncode(util::RandomBytes(4));
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get("k").code(), ErrorCode::kNotFound);
  EXPECT_EQ((*store)->List(ListRequest{}).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace s3db::s3
