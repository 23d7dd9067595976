// What an S3 store is built from, as pure functions (always run): addressing and URL
// building, the metadata and date headers, and the store's options. The store against a
// scripted peer is in s3_store_scripted_test.cc, against a real server in
// s3_store_real_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "s3/s3_addressing.h"
#include "s3/s3_headers.h"
#include "s3db/stores.h"

namespace s3db::s3 {
namespace {

using std::chrono::milliseconds;

TEST(S3AddressingTest, VirtualHostByDefaultOnAws) {
  Result<Addressing> a = MakeAddressing("https://s3.eu-west-1.amazonaws.com", "my-bucket", false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->path_style);
  RequestTarget t = BuildTarget(*a, "users/u 1+%é", {});
  EXPECT_EQ(t.host, "my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(t.path, "/users/u 1+%é");
  EXPECT_EQ(t.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/users/u%201%2B%25%C3%A9");
  RequestTarget list = BuildTarget(*a, "", {{"prefix", "a b"}, {"list-type", "2"}});
  EXPECT_EQ(list.path, "/");
  EXPECT_EQ(list.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=a%20b");
}

TEST(S3AddressingTest, PathStyleWhenAskedOrWhenVirtualHostsCannotWork) {
  Result<Addressing> forced = MakeAddressing("https://minio.example:9000/", "b1", true);
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(forced->path_style);
  RequestTarget t = BuildTarget(*forced, "a//b/../c", {{"delete", ""}});
  EXPECT_EQ(t.host, "minio.example:9000");
  EXPECT_EQ(t.path, "/b1/a//b/../c") << "never normalised";
  EXPECT_EQ(t.url, "https://minio.example:9000/b1/a//b/../c?delete=");
  EXPECT_EQ(BuildTarget(*forced, "", {}).path, "/b1");

  EXPECT_TRUE(MakeAddressing("http://127.0.0.1:7480", "bucket", false)->path_style);
  EXPECT_TRUE(MakeAddressing("http://localhost:9000", "bucket", false)->path_style);
  EXPECT_TRUE(MakeAddressing("http://[::1]:9000", "bucket", false)->path_style);
  EXPECT_TRUE(MakeAddressing("https://s3.amazonaws.com", "dotted.bucket", false)->path_style);
}

TEST(S3AddressingTest, DefaultPortsAreLeftOutOfTheHost) {
  EXPECT_EQ(MakeAddressing("https://h.example:443", "b", false)->host, "h.example");
  EXPECT_EQ(MakeAddressing("http://h.example:80", "b", false)->host, "h.example");
  EXPECT_EQ(MakeAddressing("http://h.example:443", "b", false)->host, "h.example:443");
  EXPECT_EQ(MakeAddressing("https://[::1]:443", "b", false)->host, "[::1]");
  EXPECT_EQ(MakeAddressing("ftp://h", "b", false).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(MakeAddressing("http://h/path", "b", false).code(), ErrorCode::kInvalidArgument);
}

TEST(S3ParsingTest, MetadataKeysAreEscapedSoRgwCannotMangleThem) {
  EXPECT_EQ(EncodeMetadataKey("_v"), "-uv");
  EXPECT_EQ(EncodeMetadataKey("a-b_c"), "a--b-uc");
  EXPECT_EQ(EncodeMetadataKey("10z"), "10z") << "base36 keys are unchanged";
  for (std::string key : {"_v", "a-b", "a_b", "-", "_", "--__", "u", "-u", "_u", "plain"}) {
    std::string wire = EncodeMetadataKey(key);
    EXPECT_EQ(wire.find('_'), std::string::npos) << key;
    EXPECT_EQ(DecodeMetadataKey(wire), key) << wire;
  }
  EXPECT_EQ(DecodeMetadataKey("content-type"), std::nullopt);
  EXPECT_EQ(DecodeMetadataKey("trailing-"), std::nullopt);
  // Found by tests/fuzz/s3_response_fuzz.cc: a raw '_' is no escape of ours either, so a name
  // such as "x_y-u" is kept as written instead of becoming "x_y_" (which encodes as "x-uy-u").
  EXPECT_EQ(DecodeMetadataKey("x_y-u"), std::nullopt);
  EXPECT_EQ(DecodeMetadataKey("a_b"), std::nullopt);
  EXPECT_EQ(MetadataFromHeaders({{"x-amz-meta-x_y-u", "1"}}), (Metadata{{"x_y-u", "1"}}));
  EXPECT_EQ(WireMetadataSize({{"_v", "1"}, {"ab", "xy"}}), 3u + 1 + 2 + 2);
}

TEST(S3ParsingTest, MetadataFromHeaders) {
  HttpHeaders headers = {{"x-amz-meta-name", "Ada"},  {"X-Amz-Meta-Upper", "v"}, {"x-amz-meta--uwt", "tag"},
                         {"x-amz-meta--uv", "1"},     {"x-amz-meta-a--b", "2"},  {"x-amz-meta-foreign-key", "3"},
                         {"x-amz-meta-", "nameless"}, {"etag", "\"x\""}};
  EXPECT_EQ(MetadataFromHeaders(headers),
            (Metadata{{"name", "Ada"}, {"upper", "v"}, {"_v", "1"}, {"a-b", "2"}, {"foreign-key", "3"}}));
  EXPECT_EQ(MetadataFromHeaders(headers, true).at("_wt"), "tag");
}

TEST(S3ParsingTest, HttpDates) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(ParseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(ParseHttpDate(""), std::nullopt);
}

TEST(S3StoreOptionsTest, FromUriAndValidation) {
  StoreUri uri = *ParseStoreUri("s3://bucket");
  uri.options = {{"probe", "false"}, {"concurrency", "16"}, {"requestTimeoutMs", "1500"}};
  Result<S3StoreOptions> options = S3StoreOptionsFromUri(uri);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_FALSE(options->probe);
  EXPECT_EQ(options->concurrency, 16);
  EXPECT_EQ(options->request_timeout, milliseconds(1500));
  EXPECT_TRUE(options->verify_tls);
  uri.options = {{"concurrency", "0"}};
  EXPECT_EQ(S3StoreOptionsFromUri(uri).code(), ErrorCode::kInvalidArgument);
  uri.options = {{"bogus", "1"}};
  EXPECT_EQ(S3StoreOptionsFromUri(uri).code(), ErrorCode::kInvalidArgument);

  S3StoreOptions bad;
  bad.uri = *ParseStoreUri("memory://b");
  EXPECT_EQ(NewS3Store(bad).code(), ErrorCode::kInvalidArgument);
  bad.uri = *ParseStoreUri("s3://bucket");
  bad.max_attempts = 0;
  EXPECT_EQ(NewS3Store(bad).code(), ErrorCode::kInvalidArgument);
}

TEST(S3StoreOptionsTest, MissingCredentialsFailBeforeAnyRequest) {
  S3StoreOptions options;
  options.uri = *ParseStoreUri("s3://bucket");
  options.environment =
      std::map<std::string, std::string>{{"HOME", "/nonexistent-home"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
  EXPECT_EQ(store.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(store.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

}  // namespace
}  // namespace s3db::s3
