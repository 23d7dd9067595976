// The S3 store against a scripted loopback HTTP peer (loopback_http_server.h says why: a
// real S3 server cannot be made to fail on demand): request shape and signing, retries,
// timeouts and lost responses, the write tag, the conditional-write probe and its fallback,
// DeleteObjects and ListObjectsV2, and the request observer. Always run.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loopback_http_server.h"
#include "s3/s3_headers.h"
#include "s3/sigv4.h"
#include "s3_test_helpers.h"
#include "s3db/stores.h"
#include "util/crypto_hash.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;
using std::chrono::milliseconds;

constexpr const char* kLoopbackSecret = "loopSECRET/never+shown";

class ScriptedS3Test : public ::testing::Test {
 protected:
  // Opens an S3Store on `server` (no probe unless asked), with short timeouts and delays.
  std::unique_ptr<ObjectStore> Open(const LoopbackHttpServer& server, bool probe = false,
                                    milliseconds request_timeout = milliseconds(2000)) {
    S3StoreOptions options;
    std::string uri = "http://AKIDLOOP:" + std::string("loopSECRET%2Fnever%2Bshown") +
                      "@127.0.0.1:" + std::to_string(server.port()) + "/bucket";
    options.uri = *ParseStoreUri(uri);
    options.probe = probe;
    options.request_timeout = request_timeout;
    options.retry_base_delay = milliseconds(5);
    options.retry_max_delay = milliseconds(20);
    options.environment = std::map<std::string, std::string>{};
    Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static ScriptedReply Reply(int status, std::string body = "",
                             std::vector<std::pair<std::string, std::string>> headers = {}) {
    ScriptedReply reply;
    reply.status = status;
    reply.body = std::move(body);
    reply.headers = std::move(headers);
    return reply;
  }

  static std::string ErrorXml(const std::string& code) {
    return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted</Message></Error>";
  }
};

TEST_F(ScriptedS3Test, RequestsAreSignedAndShapedAsS3Expects) {
  LoopbackHttpServer server([](const ReceivedRequest& r) { return Reply(200, "", {{"ETag", Md5Etag(r.body)}}); });
  auto store = Open(server);
  ASSERT_NE(store, nullptr);
  PutRequest put;
  put.key = "dir/a key+1%";
  put.body = "{\"x\":1}";
  put.content_type = "application/json";
  put.metadata = {{"Name", "Ada"}, {"empty", ""}};
  put.if_match = "\"0123456789abcdef0123456789abcdef\"";
  Result<ObjectInfo> info = store->Put(put);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->etag, Md5Etag(put.body));
  EXPECT_EQ(info->metadata, (Metadata{{"name", "Ada"}, {"empty", ""}}));

  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  const ReceivedRequest& r = seen[0];
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/bucket/dir/a%20key%2B1%25");
  EXPECT_EQ(r.Header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(r.Header("if-match"), "0123456789abcdef0123456789abcdef") << "sent without quotes";
  EXPECT_EQ(r.Header("x-amz-meta-name"), "Ada");
  bool found = false;
  r.Header("x-amz-meta-empty", &found);
  EXPECT_TRUE(found);
  EXPECT_EQ(r.Header("x-amz-meta--uwt").size(), kWriteTagLength) << "conditional puts are tagged";
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-amz-content-sha256"), PayloadHash(put.body));
  const std::string authorization = r.Header("authorization");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDLOOP/", 0), 0u) << authorization;
  EXPECT_NE(authorization.find("/us-east-1/s3/aws4_request"), std::string::npos);
  for (const char* signed_header : {"content-type", "host", "if-match", "x-amz-content-sha256", "x-amz-date",
                                    "x-amz-meta--uwt", "x-amz-meta-name"}) {
    EXPECT_NE(authorization.find(signed_header), std::string::npos) << signed_header;
  }
  for (const ReceivedRequest& request : seen) {
    for (const auto& [name, value] : request.headers) {
      EXPECT_EQ(value.find(kLoopbackSecret), std::string::npos) << name;
    }
  }

  // An unconditional Put carries no tag.
  put.if_match.reset();
  ASSERT_TRUE(store->Put(put).ok());
  server.requests().back().Header("x-amz-meta--uwt", &found);
  EXPECT_FALSE(found);
}

TEST_F(ScriptedS3Test, SlowDownWithRetryAfterIsRetriedAfterTheGivenTime) {
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    if (++calls == 1) return Reply(503, ErrorXml("SlowDown"), {{"Retry-After", "1"}});
    return Reply(200, "payload", {{"ETag", Md5Etag("payload")}});
  });
  auto store = Open(server);
  auto start = std::chrono::steady_clock::now();
  Result<GetResult> got = store->Get("k");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "payload");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_GE(elapsed, milliseconds(1000)) << "Retry-After: 1 was honoured";
}

TEST_F(ScriptedS3Test, RetriesAreBoundedAndNameTheAttempts) {
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    ++calls;
    return Reply(500, ErrorXml("InternalError"));
  });
  auto store = Open(server);
  Result<GetResult> got = store->Get("k");
  EXPECT_EQ(got.code(), ErrorCode::kIOError);
  EXPECT_TRUE(got.status().retryable());
  EXPECT_EQ(calls.load(), 4) << "max_attempts defaults to 4";
  EXPECT_NE(got.status().message().find("after 4 attempts"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("InternalError"), std::string::npos);
}

TEST_F(ScriptedS3Test, NonRetryableStatusesAreReturnedAtOnce) {
  struct Case {
    int status;
    std::string code;
    ErrorCode expected;
  };
  const Case cases[] = {{400, "InvalidArgument", ErrorCode::kInvalidArgument},
                        {403, "SignatureDoesNotMatch", ErrorCode::kAccessDenied},
                        {404, "NoSuchKey", ErrorCode::kNotFound},
                        {409, "ConditionalRequestConflict", ErrorCode::kConflict},
                        {412, "PreconditionFailed", ErrorCode::kPreconditionFailed}};
  for (const Case& c : cases) {
    std::atomic<int> puts{0}, heads{0};
    LoopbackHttpServer server([&](const ReceivedRequest& r) {
      if (r.method == "HEAD") {
        ++heads;
        return Reply(200, "", {{"ETag", Md5Etag("theirs")}, {"x-amz-meta--uwt", "someone-elses-tag"}});
      }
      ++puts;
      return Reply(c.status, ErrorXml(c.code));
    });
    auto store = Open(server);
    PutRequest put;
    put.key = "k";
    put.if_none_match_star = true;
    Result<ObjectInfo> result = store->Put(put);
    EXPECT_EQ(result.code(), c.expected) << c.code << ": " << result.status().ToString();
    EXPECT_EQ(puts.load(), 1) << c.code << " must not be retried";
    // A refusal may be about our own write resent unseen: the tag is checked once.
    const bool refusal = c.status == 409 || c.status == 412;
    EXPECT_EQ(heads.load(), refusal ? 1 : 0) << c.code;
    EXPECT_EQ(result.status().message().find(kLoopbackSecret), std::string::npos);
  }
}

TEST_F(ScriptedS3Test, IfMatchOnAnAbsentKeyIsAPreconditionFailureEvenAsAws404) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply(404, ErrorXml("NoSuchKey")); });
  auto store = Open(server);
  PutRequest put;
  put.key = "absent";
  put.if_match = "\"abc\"";
  EXPECT_EQ(store->Put(put).code(), ErrorCode::kPreconditionFailed);
  put.if_match.reset();
  EXPECT_EQ(store->Get("absent").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Head("absent").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store->Delete("absent").ok()) << "NoSuchKey on delete is success";
}

TEST_F(ScriptedS3Test, HeadMapsStatusesWithoutABody) {
  for (auto [status, expected] : {std::pair{404, ErrorCode::kNotFound}, std::pair{403, ErrorCode::kAccessDenied},
                                  std::pair{412, ErrorCode::kPreconditionFailed}}) {
    LoopbackHttpServer server([status = status](const ReceivedRequest&) { return Reply(status); });
    auto store = Open(server);
    EXPECT_EQ(store->Head("k").code(), expected) << status;
  }
}

TEST_F(ScriptedS3Test, TimeoutsAndResetsAreRetried) {
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    int n = ++calls;
    ScriptedReply reply = Reply(200, "ok", {{"ETag", Md5Etag("ok")}});
    if (n == 1) reply.delay = milliseconds(2000);  // past the 300 ms timeout
    if (n == 2) reply.drop = true;                 // connection reset
    return reply;
  });
  auto store = Open(server, false, milliseconds(300));
  Result<GetResult> got = store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "ok");
  EXPECT_EQ(calls.load(), 3);
}

// The slatedb #766 scenario: the first conditional PUT is committed by the server but its
// response never arrives; the retry is refused because the object now exists. The store
// must see its own write tag on the object and report success, not PreconditionFailed.
TEST_F(ScriptedS3Test, ARetriedConditionalPutThatHadSucceededIsASuccess) {
  for (bool ours : {true, false}) {
    std::mutex mutex;
    std::string committed_tag;
    std::string committed_body;
    std::atomic<int> puts{0};
    LoopbackHttpServer server([&](const ReceivedRequest& r) {
      std::lock_guard<std::mutex> lock(mutex);
      if (r.method == "PUT") {
        if (++puts == 1) {
          committed_tag = ours ? r.Header("x-amz-meta--uwt") : "someoneelse12345";
          committed_body = r.body;
          ScriptedReply lost = Reply(200);
          lost.delay = milliseconds(1500);  // the response is "lost": the client times out
          return lost;
        }
        return Reply(412, ErrorXml("PreconditionFailed"));
      }
      if (r.method == "HEAD") {
        return Reply(200, "",
                     {{"ETag", Md5Etag(committed_body)},
                      {"x-amz-meta--uwt", committed_tag},
                      {"x-amz-meta-name", "Ada"},
                      {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"},
                      {"Content-Length", std::to_string(committed_body.size())}});
      }
      return Reply(500);
    });
    auto store = Open(server, false, milliseconds(300));
    PutRequest put;
    put.key = "insert-once";
    put.body = "the record";
    put.metadata = {{"name", "Ada"}};
    put.if_none_match_star = true;
    Result<ObjectInfo> result = store->Put(put);
    if (ours) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_EQ(result->etag, Md5Etag("the record"));
      EXPECT_EQ(result->metadata, (Metadata{{"name", "Ada"}})) << "the tag is not shown";
      EXPECT_EQ(result->last_modified_ms, 784111777000);
    } else {
      EXPECT_EQ(result.code(), ErrorCode::kPreconditionFailed) << result.status().ToString();
    }
    std::vector<ReceivedRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].Header("x-amz-meta--uwt"), seen[1].Header("x-amz-meta--uwt")) << "the retry carries the same tag";
    EXPECT_EQ(seen[2].method, "HEAD");
  }
}

// libcurl resends a request by itself when a reused connection dies before the answer, so a
// refusal at the first counted attempt can be our own write meeting itself: checked too.
TEST_F(ScriptedS3Test, AFirstAttemptRefusalIsCheckedAgainstTheWriteTag) {
  for (const bool ours : {true, false}) {
    SCOPED_TRACE(ours ? "the object carries our tag" : "the object is another writer's");
    std::mutex mutex;
    std::string sent_tag;
    LoopbackHttpServer server([&](const ReceivedRequest& r) {
      std::lock_guard<std::mutex> lock(mutex);
      if (r.method == "PUT") {
        sent_tag = r.Header("x-amz-meta--uwt");
        return Reply(412, ErrorXml("PreconditionFailed"));
      }
      return Reply(200, "", {{"ETag", Md5Etag("b")}, {"x-amz-meta--uwt", ours ? sent_tag : "another-tag"}});
    });
    auto store = Open(server);
    PutRequest put;
    put.key = "k";
    put.if_none_match_star = true;
    Result<ObjectInfo> result = store->Put(put);
    if (ours) {
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_EQ(result->etag, Md5Etag("b"));
    } else {
      EXPECT_EQ(result.code(), ErrorCode::kPreconditionFailed);
    }
    std::vector<ReceivedRequest> seen = server.requests();
    ASSERT_EQ(seen.size(), 2u) << "one PUT, one HEAD";
    EXPECT_EQ(seen[1].method, "HEAD");
  }
}

// When even the check cannot read the object, the answer is "unknown", never a refusal that
// may be about our own write.
TEST_F(ScriptedS3Test, ARefusalThatCannotBeCheckedIsAnUnknownOutcomeNotARefusal) {
  LoopbackHttpServer server([&](const ReceivedRequest& r) {
    if (r.method == "PUT") return Reply(412, ErrorXml("PreconditionFailed"));
    return Reply(503, ErrorXml("SlowDown"));
  });
  auto store = Open(server);
  PutRequest put;
  put.key = "k";
  put.if_none_match_star = true;
  Result<ObjectInfo> result = store->Put(put);
  EXPECT_EQ(result.code(), ErrorCode::kSlowDown) << result.status().ToString();
  EXPECT_TRUE(result.status().retryable());
  EXPECT_NE(result.status().message().find("unknown"), std::string::npos) << result.status().message();
}

TEST_F(ScriptedS3Test, TheWriteTagKeyIsReservedAndStripped) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    return Reply(200, "b", {{"ETag", Md5Etag("b")}, {"x-amz-meta--uwt", "abc"}, {"x-amz-meta-a", "1"}});
  });
  auto store = Open(server);
  PutRequest put;
  put.key = "k";
  put.metadata = {{"_WT", "mine"}};
  EXPECT_EQ(store->Put(put).code(), ErrorCode::kInvalidArgument);
  Result<GetResult> got = store->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->info.metadata, (Metadata{{"a", "1"}}));
  EXPECT_EQ(store->Head("k")->metadata, (Metadata{{"a", "1"}}));
  EXPECT_EQ(store->capabilities().metadata_limit, 2048u - 4 - 16);
  put.metadata = {{"k", std::string(2048 - 20 - 1, 'v')}};
  EXPECT_TRUE(store->Put(put).ok());
  put.metadata = {{"k", std::string(2048 - 20 - 1, 'v') + "v"}};
  EXPECT_EQ(store->Put(put).code(), ErrorCode::kMetadataTooLarge);
  EXPECT_EQ(server.requests().size(), 3u) << "refused puts send nothing";
}

TEST_F(ScriptedS3Test, ProbeFindsConditionalWritesHonoured) {
  std::mutex mutex;
  int puts = 0;
  std::string first_tag;
  LoopbackHttpServer server([&](const ReceivedRequest& r) {
    std::lock_guard<std::mutex> lock(mutex);
    if (r.method == "DELETE") return Reply(204);
    if (r.method == "PUT") {
      if (++puts > 1) return Reply(412, ErrorXml("PreconditionFailed"));
      first_tag = r.Header("x-amz-meta--uwt");
      return Reply(200, "", {{"ETag", Md5Etag(r.body)}});
    }
    if (r.method == "HEAD") return Reply(200, "", {{"ETag", Md5Etag("")}, {"x-amz-meta--uwt", first_tag}});
    return Reply(500);
  });
  auto store = Open(server, /*probe=*/true);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->capabilities().conditional_writes);
  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 6u) << "3 PUTs, each refusal checked by a HEAD, 1 DELETE";
  EXPECT_EQ(seen[0].Header("if-none-match"), "*");
  EXPECT_EQ(seen[1].Header("if-none-match"), "*");
  EXPECT_EQ(seen[2].method, "HEAD");
  EXPECT_EQ(seen[3].Header("if-match"), "00000000000000000000000000000000");
  EXPECT_EQ(seen[4].method, "HEAD");
  EXPECT_EQ(seen[5].method, "DELETE");
  EXPECT_EQ(seen[5].target, seen[0].target) << "the probe object is removed";
}

TEST_F(ScriptedS3Test, ProbeFindsConditionalWritesIgnoredWarnsOnceAndFallsBack) {
  std::mutex mutex;
  bool exists = false;
  LoopbackHttpServer server([&](const ReceivedRequest& r) {
    std::lock_guard<std::mutex> lock(mutex);
    if (r.method == "PUT") {
      exists = true;
      return Reply(200, "", {{"ETag", Md5Etag(r.body)}});  // conditions ignored, like s3rver
    }
    if (r.method == "HEAD") return exists ? Reply(200, "", {{"ETag", Md5Etag("x")}}) : Reply(404);
    if (r.method == "DELETE") {
      exists = false;
      return Reply(204);
    }
    return Reply(500);
  });
  ::testing::internal::CaptureStderr();
  auto first = Open(server, /*probe=*/true);
  auto second = Open(server, /*probe=*/true);
  std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(first->capabilities().conditional_writes);
  EXPECT_FALSE(second->capabilities().conditional_writes);
  EXPECT_NE(warnings.find("does not honour conditional writes"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("honour", warnings.find("honour") + 1), std::string::npos)
      << "warned once per process: " << warnings;
  EXPECT_EQ(warnings.find(kLoopbackSecret), std::string::npos);
  EXPECT_EQ(warnings.find("loopSECRET"), std::string::npos) << warnings;

  // Fallback: HEAD, then an unconditional PUT; an existing key is refused client-side.
  size_t before = server.requests().size();
  PutRequest put;
  put.key = "fresh";
  put.if_none_match_star = true;
  ASSERT_TRUE(first->Put(put).ok());
  EXPECT_EQ(first->Put(put).code(), ErrorCode::kPreconditionFailed);
  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), before + 3);
  EXPECT_EQ(seen[before].method, "HEAD");
  EXPECT_EQ(seen[before + 1].method, "PUT");
  bool found = true;
  seen[before + 1].Header("if-none-match", &found);
  EXPECT_FALSE(found);
  EXPECT_EQ(seen[before + 2].method, "HEAD");
}

TEST_F(ScriptedS3Test, DescribeMasksTheSecret) {
  LoopbackHttpServer server([](const ReceivedRequest&) { return Reply(200); });
  auto store = Open(server);
  std::string described = store->Describe();
  EXPECT_EQ(described.find("loopSECRET"), std::string::npos) << described;
  EXPECT_NE(described.find("AKIDLOOP:***@127.0.0.1"), std::string::npos) << described;
}

TEST_F(ScriptedS3Test, DeleteManyPostsQuietXmlWithContentMd5AndSurfacesPerKeyErrors) {
  LoopbackHttpServer server([](const ReceivedRequest& r) {
    if (r.method == "DELETE") return Reply(204);
    return Reply(200,
                 "<?xml version=\"1.0\"?><DeleteResult><Error><Key>b</Key><Code>AccessDenied</Code>"
                 "<Message>no</Message></Error></DeleteResult>");
  });
  auto store = Open(server);
  Result<DeleteManyResult> result = store->DeleteMany({"a", "b", "", "ctl\x01key"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> deleted = result->deleted;
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"a", "ctl\x01key"}));
  ASSERT_EQ(result->errors.size(), 2u);
  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "DELETE") << "a key XML cannot carry is deleted on its own";
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].target, "/bucket?delete=");
  EXPECT_EQ(seen[1].Header("content-md5"), util::Base64Encode(util::Md5(seen[1].body)));
  EXPECT_NE(seen[1].body.find("<Quiet>true</Quiet>"), std::string::npos);
  std::vector<std::string> too_many(1001, "k");
  EXPECT_EQ(store->DeleteMany(too_many).code(), ErrorCode::kInvalidArgument);
}

TEST_F(ScriptedS3Test, ListSendsV2ParametersAndParsesPages) {
  LoopbackHttpServer server([](const ReceivedRequest&) {
    return Reply(200,
                 "<?xml version=\"1.0\"?><ListBucketResult><EncodingType>url</EncodingType>"
                 "<IsTruncated>true</IsTruncated><NextContinuationToken>tok/+=</NextContinuationToken>"
                 "<Contents><Key>a+b%2B</Key><ETag>\"e\"</ETag><Size>3</Size>"
                 "<LastModified>2009-10-12T17:50:30.000Z</LastModified></Contents></ListBucketResult>");
  });
  auto store = Open(server);
  ListRequest request;
  request.prefix = "p/";
  request.start_after = "p/a b";
  request.continuation_token = "prev/+=";
  request.max_keys = 5000;
  Result<ListPage> page = store->List(request);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a b+");
  EXPECT_EQ(page->next_continuation_token, "tok/+=");
  EXPECT_EQ(server.requests()[0].target,
            "/bucket?continuation-token=prev%2F%2B%3D&encoding-type=url&list-type=2&max-keys=1000"
            "&prefix=p%2F&start-after=p%2Fa%20b");
}

// Cost accounting must see every request S3 bills, the retried ones included.
TEST_F(ScriptedS3Test, EveryAttemptIsReportedToTheRequestObserver) {
  std::atomic<int> calls{0};
  LoopbackHttpServer server([&](const ReceivedRequest&) {
    if (++calls == 1) return Reply(500, ErrorXml("InternalError"));
    return Reply(200, "payload", {{"ETag", Md5Etag("payload")}});
  });
  S3StoreOptions options;
  options.uri = *ParseStoreUri("http://AKIDLOOP:loopSECRET@127.0.0.1:" + std::to_string(server.port()) + "/bucket");
  options.probe = false;
  options.retry_base_delay = milliseconds(5);
  options.retry_max_delay = milliseconds(20);
  options.environment = std::map<std::string, std::string>{};
  std::mutex mu;
  std::vector<SentRequest> sent;
  options.on_request = [&](const SentRequest& r) {
    std::lock_guard lock(mu);
    sent.push_back(r);
  };
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Get("dir/k").ok());
  ASSERT_EQ(sent.size(), 2u);  // the failed attempt and its retry
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_FALSE(sent[0].list);
  EXPECT_EQ(sent[1].key, "dir/k");
  EXPECT_EQ(sent[1].bytes_in, 7u);
  ListRequest list;
  list.prefix = "dir/";
  (void)(*store)->List(list);  // the scripted reply is not a listing; the request still counts
  ASSERT_GE(sent.size(), 3u);
  EXPECT_TRUE(sent[2].list);
  EXPECT_EQ(sent[2].key, "dir/");
}

// Temporary credentials from a credential_process that the server declares expired: the
// store fetches new ones once and sends the request again, signed with them; a second
// ExpiredToken is the caller's failure (one refresh per call, no loop).
TEST_F(ScriptedS3Test, ExpiredTokenForcesOneRefreshAndOneRetry) {
  ScratchDir dir;
  // Each run prints the next key: AKIDP1, AKIDP2, ... (a counter file in the scratch dir).
  const std::string script = dir.Write(
      "process.sh", "n=$(cat " + dir.path() + "/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + dir.path() +
                        "/n\n"
                        "printf '{\"Version\":1,\"AccessKeyId\":\"AKIDP%s\",\"SecretAccessKey\":"
                        "\"procSECRET%s\",\"SessionToken\":\"procTOKEN%s\"}' $n $n $n\n");
  const std::string config = dir.Write("config", "[default]\ncredential_process = sh " + script + "\n");
  std::atomic<bool> expire_everything{false};
  LoopbackHttpServer server([&](const ReceivedRequest& r) {
    bool first_key = r.Header("authorization").find("Credential=AKIDP1/") != std::string::npos;
    if (first_key || expire_everything) return Reply(400, ErrorXml("ExpiredToken"));
    return Reply(200, "payload", {{"ETag", Md5Etag("payload")}});
  });
  S3StoreOptions options;
  options.uri = *ParseStoreUri("http://127.0.0.1:" + std::to_string(server.port()) + "/bucket");
  options.probe = false;
  options.retry_base_delay = milliseconds(5);
  options.environment = std::map<std::string, std::string>{{"AWS_CONFIG_FILE", config}};
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<GetResult> got = (*store)->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<ReceivedRequest> seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_NE(seen[0].Header("authorization").find("Credential=AKIDP1/"), std::string::npos);
  EXPECT_EQ(seen[0].Header("x-amz-security-token"), "procTOKEN1");
  EXPECT_NE(seen[1].Header("authorization").find("Credential=AKIDP2/"), std::string::npos);
  EXPECT_EQ(seen[1].Header("x-amz-security-token"), "procTOKEN2");

  expire_everything = true;
  Result<GetResult> refused = (*store)->Get("k");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("ExpiredToken"), std::string::npos);
  EXPECT_EQ(server.requests().size(), 4u) << "one refresh and one retry, then the failure";
  EXPECT_EQ(refused.status().message().find("procTOKEN"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("procSECRET"), std::string::npos);
}

}  // namespace
}  // namespace s3db::s3
