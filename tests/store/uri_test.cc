// Connection strings: a table of good URIs with what they parse to and print as, a table of
// bad ones with the words their error must contain, and secrets that must never leak.
#include "s3db/stores.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace s3db {
namespace {

struct GoodCase {
  std::string input;
  StoreScheme scheme;
  std::string bucket;
  std::string path;
  std::string prefix;
  std::string access_key;
  std::string secret_key;
  std::string endpoint;
  bool force_path_style;
  std::string printed;  // ToString()
  std::string region = {};
  std::string session_token = {};
  std::map<std::string, std::string> options = {};
};

// clang-format off: one case a row reads better than one field a line
const std::vector<GoodCase> kGood = {
    {"memory://bucket", StoreScheme::kMemory, "bucket", "", "", "", "", "", false, "memory://bucket"},
    {"memory://b/some/prefix/", StoreScheme::kMemory, "b", "", "some/prefix", "", "", "", false,
     "memory://b/some/prefix"},
    {"memory://b//x//", StoreScheme::kMemory, "b", "", "x", "", "", "", false, "memory://b/x"},
    {"memory://my%20bucket/p%2Fq", StoreScheme::kMemory, "my bucket", "", "p/q", "", "", "", false,
     "memory://my%20bucket/p/q"},
    {"memory://Test_Bucket", StoreScheme::kMemory, "Test_Bucket", "", "", "", "", "", false, "memory://Test_Bucket"},
    {"file:///abs/dir", StoreScheme::kFile, "", "/abs/dir", "", "", "", "", false, "file:///abs/dir"},
    {"file://./s3db-data", StoreScheme::kFile, "", "./s3db-data", "", "", "", "", false, "file://./s3db-data"},
    {"file://rel/dir", StoreScheme::kFile, "", "rel/dir", "", "", "", "", false, "file://rel/dir"},
    {"file:///tmp/x/?fsync=false",
     StoreScheme::kFile,
     "",
     "/tmp/x",
     "",
     "",
     "",
     "",
     false,
     "file:///tmp/x?fsync=false",
     "",
     "",
     {{"fsync", "false"}}},
    {"file:///", StoreScheme::kFile, "", "/", "", "", "", "", false, "file:///"},
    {"http://AK:SK@127.0.0.1:7480/bkt?probe=false&concurrency=4",
     StoreScheme::kHttp,
     "bkt",
     "",
     "",
     "AK",
     "SK",
     "http://127.0.0.1:7480",
     true,
     "http://AK:***@127.0.0.1:7480/bkt?concurrency=4&probe=false",
     "",
     "",
     {{"concurrency", "4"}, {"probe", "false"}}},
    {"file:///with%20space/x", StoreScheme::kFile, "", "/with space/x", "", "", "", "", false,
     "file:///with%20space/x"},
    {"s3://bucket", StoreScheme::kS3, "bucket", "", "", "", "", "", false, "s3://bucket"},
    {"S3://bucket/", StoreScheme::kS3, "bucket", "", "", "", "", "", false, "s3://bucket"},
    {"s3://AKIA:se%2Fcret@my-bucket/db/app?region=eu-west-1", StoreScheme::kS3, "my-bucket", "", "db/app", "AKIA",
     "se/cret", "", false, "s3://AKIA:***@my-bucket/db/app?region=eu-west-1", "eu-west-1"},
    // AWS secrets hold raw '/' and '+'; '+' stays '+'.
    {"s3://AKIA:wJalr/K7MDENG+bPxR@bucket.name/p", StoreScheme::kS3, "bucket.name", "", "p", "AKIA",
     "wJalr/K7MDENG+bPxR", "", false, "s3://AKIA:***@bucket.name/p"},
    {"s3://k:s@b12?endpoint=http://localhost:9000&forcePathStyle=true&sessionToken=tok%2Ben", StoreScheme::kS3, "b12",
     "", "", "k", "s", "http://localhost:9000", true,
     "s3://k:***@b12?endpoint=http://localhost:9000&forcePathStyle=true&sessionToken=***", "", "tok+en"},
    {"s3://b12?endpoint=https%3A%2F%2Fs3.example.com&forcePathStyle=false", StoreScheme::kS3, "b12", "", "", "", "",
     "https://s3.example.com", false, "s3://b12?endpoint=https://s3.example.com"},
    {"s3://p%40ss:w%40rd@bucket/a%40b", StoreScheme::kS3, "bucket", "", "a@b", "p@ss", "w@rd", "", false,
     "s3://p%40ss:***@bucket/a%40b"},
    {"http://minio:minio123@localhost:9000/bucket/prefix/x", StoreScheme::kHttp, "bucket", "", "prefix/x", "minio",
     "minio123", "http://localhost:9000", true, "http://minio:***@localhost:9000/bucket/prefix/x"},
    {"https://s3.example.com/bucket", StoreScheme::kHttps, "bucket", "", "", "", "", "https://s3.example.com", true,
     "https://s3.example.com/bucket"},
    {"http://[::1]:9000/bucket?region=us-east-1&sessionToken=T", StoreScheme::kHttp, "bucket", "", "", "", "",
     "http://[::1]:9000", true, "http://[::1]:9000/bucket?region=us-east-1&sessionToken=***", "us-east-1", "T"},
};
// clang-format on

TEST(StoreUri, ParsesGoodUris) {
  for (const GoodCase& c : kGood) {
    SCOPED_TRACE(c.input);
    Result<StoreUri> uri = ParseStoreUri(c.input);
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    EXPECT_EQ(uri->scheme, c.scheme);
    EXPECT_EQ(uri->bucket, c.bucket);
    EXPECT_EQ(uri->path, c.path);
    EXPECT_EQ(uri->prefix, c.prefix);
    EXPECT_EQ(uri->access_key, c.access_key);
    EXPECT_EQ(uri->secret_key, c.secret_key);
    EXPECT_EQ(uri->endpoint, c.endpoint);
    EXPECT_EQ(uri->force_path_style, c.force_path_style);
    EXPECT_EQ(uri->region, c.region);
    EXPECT_EQ(uri->session_token, c.session_token);
    EXPECT_EQ(uri->options, c.options);
    EXPECT_EQ(uri->ToString(), c.printed);
  }
}

TEST(StoreUri, PrintedFormParsesBackWhenThereIsNoSecret) {
  for (const GoodCase& c : kGood) {
    if (!c.secret_key.empty() || !c.session_token.empty()) continue;
    SCOPED_TRACE(c.input);
    Result<StoreUri> once = ParseStoreUri(c.input);
    ASSERT_TRUE(once.ok());
    Result<StoreUri> twice = ParseStoreUri(once->ToString());
    ASSERT_TRUE(twice.ok()) << twice.status().ToString();
    EXPECT_EQ(twice->ToString(), once->ToString());
    EXPECT_EQ(twice->bucket, once->bucket);
    EXPECT_EQ(twice->path, once->path);
    EXPECT_EQ(twice->prefix, once->prefix);
    EXPECT_EQ(twice->endpoint, once->endpoint);
  }
}

TEST(StoreUri, DefaultUriIsARelativeDirectory) {
  Result<StoreUri> uri = ParseStoreUri(kDefaultUri);
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->scheme, StoreScheme::kFile);
  EXPECT_EQ(uri->path, "./s3db-data");
}

struct BadCase {
  std::string input;
  std::string message_part;
};

const std::vector<BadCase> kBad = {
    {"", "scheme://"},
    {"bucket/prefix", "scheme://"},
    {"ftp://host/x", "unknown scheme 'ftp'"},
    {"memory://", "missing bucket"},
    {"memory:///prefix", "missing bucket"},
    {"memory://b%2Fc", "cannot contain '/'"},
    {"memory://b%zz", "percent-escape in the bucket"},
    {"memory://b/p%2", "percent-escape in the prefix"},
    {"memory://b?x=1", "unknown query parameter 'x'"},
    {"memory://key:secret@b", "no credentials"},
    {"file://", "needs a directory"},
    {"file://?fsync=true", "needs a directory"},
    {"file:///x?fsync=maybe", "true or false"},
    {"file:///x?fsync=true&fsync=false", "twice"},
    {"file:///x?fsync", "name=value"},
    {"file:///x?fsync=true&", "name=value"},
    {"file:///x?fsync=", "empty value"},
    {"file:///x?sync=true", "unknown query parameter 'sync'"},
    {"file:///tmp/a%00b", "file:// path holds a control character, 0x00, at byte 6 (a NUL would cut it short)"},
    {"file:///tmp/a%0Ab", "control character, 0x0A, at byte 6"},
    {"file://./rel%1B[31m", "control character, 0x1B, at byte 5"},
    {"file:///x%7F", "control character, 0x7F, at byte 2"},
    {std::string("file:///tmp/a\0b", 16), "control character, 0x00, at byte 6"},
    {"file:///tmp/a\tb", "control character, 0x09"},
    // The prefixes and the memory bucket name refuse them too: keys are made of them.
    {"s3://bucket/pre%0Afix", "the prefix holds a control character, 0x0A, at byte 3"},
    {"s3://bucket/a%00b", "the prefix holds a control character, 0x00, at byte 1 (a NUL would cut it short)"},
    {"http://127.0.0.1:7480/bucket/x%1B[2J", "the prefix holds a control character, 0x1B, at byte 1"},
    {"memory://b/p%7F", "the prefix holds a control character, 0x7F, at byte 1"},
    {"memory://b%09x", "the memory bucket name holds a control character, 0x09, at byte 1"},
    {"s3://", "missing bucket"},
    {"s3://AK:SECRET@", "missing bucket"},
    {"s3://AK:SECRET@/prefix", "missing bucket"},
    {"s3://AK@bucket", "KEY:SECRET"},
    {"s3://AK:@bucket", "without a secret"},
    {"s3://:SECRET@bucket", "empty access key"},
    {"s3://AK:SE%zzCRET@bucket", "percent-escape in the secret key"},
    {"s3://A%K:SECRET@bucket", "percent-escape in the access key"},
    {"s3://Bad_Bucket", "lower-case letters"},
    {"s3://ab", "3 to 63"},
    {"s3://" + std::string(64, 'b'), "3 to 63"},
    {"s3://-bucket", "begin and end"},
    {"s3://a..b", "adjacent periods"},
    {"s3://192.168.1.1", "IP address"},
    {"s3://bucket?regoin=x", "unknown query parameter 'regoin'"},
    {"s3://bucket?forcePathStyle=yes", "true or false"},
    {"s3://bucket?endpoint=localhost:9000", "endpoint"},
    {"s3://bucket?endpoint=http://", "endpoint"},
    {"s3://bucket?region=%zz", "percent-escape in the value of 'region'"},
    {"s3://AK:p@ss@bucket", "more than one '@'"},
    {"s3://bucket/user@example", "KEY:SECRET"},
    {"http://localhost:9000", "missing bucket"},
    {"http://localhost:9000/", "missing bucket"},
    {"http://localhost:abc/bucket", "bad port"},
    {"http://localhost:70000/bucket", "bad port"},
    {"http://localhost:0/bucket", "bad port"},
    {"http://localhost:/bucket", "bad port"},
    {"http://:9000/bucket", "missing host"},
    {"http://ho_st/bucket", "host"},
    {"http://[::1/bucket", "unclosed"},
    {"https://AK:SECRET@host/bucket?forcePathStyle=true", "unknown query parameter"},
    {"https://host/bucket?endpoint=http://x", "unknown query parameter 'endpoint'"},
};

TEST(StoreUri, RejectsBadUrisWithAClearMessage) {
  for (const BadCase& c : kBad) {
    SCOPED_TRACE(c.input);
    Result<StoreUri> uri = ParseStoreUri(c.input);
    ASSERT_FALSE(uri.ok());
    EXPECT_EQ(uri.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(uri.status().message().find(c.message_part), std::string::npos) << uri.status().message();
  }
}

TEST(StoreUri, ErrorMessagesNeverContainTheSecret) {
  // The secret is "Sup3r" + "S3cretValue", sometimes with a separator written raw.
  const std::vector<std::string> bad = {
      "s3://AKIA:Sup3rS3cretValue@Bad_Bucket",
      "s3://AKIA:Sup3rS3cretValue@bucket?bogus=1",
      "s3://AKIA:Sup3rS3cretValue@bucket?forcePathStyle=Sup3rS3cretValue",
      "s3://AKIA:Sup3rS3cretValue@bucket?sessionToken=",
      "s3://AKIA:Sup3rS3cretValue@",
      "s3://AKIA:Sup3rS3cretValue@bucket%zz",
      "s3://AKIA:Sup3r%zzS3cretValue@bucket",
      "s3://AKIA:Sup3r@S3cretValue@bucket",
      "s3://AKIA:Sup3r@S3cretValue",
      "s3://AKIA:Sup3r/S3cretValue@bad_bucket",
      "s3://AKIA:Sup3r?S3cretValue@bucket",
      "s3://AKIA:Sup3r#S3cretValue@bucket!",
      "http://AKIA:Sup3rS3cretValue@host:99999/bucket",
      "http://AKIA:Sup3r@S3cretValue@host:9000/bucket",
      "http://AKIA:Sup3r:S3cretValue@host:x/bucket",
      "http://AKIA:Sup3rS3cretValue@/bucket",
      "https://AKIA:Sup3rS3cretValue@host",
      "ftp://AKIA:Sup3rS3cretValue@x",
      "AKIA:Sup3rS3cretValue@bucket",
      "s3:/AKIA:Sup3rS3cretValue@b://x",
      "memory://AKIA:Sup3rS3cretValue@b",
      "s3://bucket?sessionToken=Sup3rS3cretValue&bogus=1",
      "s3://bucket?sessionToken=Sup3rS3cretValue&sessionToken=Sup3rS3cretValue",
      "s3://bucket?Sup3rS3cretValue",
  };
  for (const std::string& input : bad) {
    SCOPED_TRACE(input);
    Result<StoreUri> uri = ParseStoreUri(input);
    ASSERT_FALSE(uri.ok());
    const std::string& message = uri.status().message();
    EXPECT_EQ(message.find("S3cretValue"), std::string::npos) << message;
    EXPECT_EQ(message.find("Sup3r"), std::string::npos) << message;
  }
}

TEST(StoreUri, ToStringMasksSecrets) {
  Result<StoreUri> uri = ParseStoreUri("s3://AKIA:Sup3rS3cret@bucket/p?sessionToken=T0kenS3cret&region=r");
  ASSERT_TRUE(uri.ok());
  std::string printed = uri->ToString();
  EXPECT_EQ(printed, "s3://AKIA:***@bucket/p?region=r&sessionToken=***");
  EXPECT_EQ(printed.find("S3cret"), std::string::npos);
}

TEST(StoreUri, MaskSecretsMasksEveryFormOfEverySecret) {
  Result<StoreUri> uri = ParseStoreUri("s3://AK:se%2Fcret@bucket?sessionToken=T0k%2B3n");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(MaskSecrets("GET s3://AK:se%2Fcret@bucket failed: bad se/cret, token T0k+3n "
                        "(T0k%2B3n)",
                        *uri),
            "GET s3://AK:***@bucket failed: bad ***, token *** (***)");
  EXPECT_EQ(MaskSecrets("nothing secret here", *uri), "nothing secret here");
  StoreUri no_secrets;
  EXPECT_EQ(MaskSecrets("text", no_secrets), "text");
}

// A password holds '@' only written %40: the parser cuts the credentials at the first '@' and
// rejects a second before the query. A raw one is still masked whole, up to the last '@'
// (cutting at the first would show "ss@word" and mask every 'p' of the message instead).
TEST(StoreUri, SecretsContainingAtAreMaskedWhole) {
  Result<StoreUri> encoded = ParseStoreUri("s3://AKIA:p%40ss%40word@bucket");
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  EXPECT_EQ(encoded->secret_key, "p@ss@word");
  EXPECT_EQ(encoded->ToString(), "s3://AKIA:***@bucket");
  EXPECT_EQ(MaskSecrets("denied for p@ss@word (p%40ss%40word)", *encoded), "denied for *** (***)");
  EXPECT_EQ(MaskedUri("s3://AKIA:p%40ss%40word@bucket?region=r"), "s3://AKIA:***@bucket?region=r");

  const std::string raw = "s3://AKIA:p@ss@word@bucket/prefix";
  Result<StoreUri> rejected = ParseStoreUri(raw);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().message(),
            "invalid connection string: more than one '@'; write '@' in the secret or the prefix as %40");
  EXPECT_EQ(MaskedUri(raw), "s3://AKIA:***@bucket/prefix");
  SecretMasker masker;
  masker.AddUri(raw);
  masker.AddSecret("envSECRET");
  EXPECT_EQ(masker.Mask("tried p@ss@word, p%40ss%40word and envSECRET"), "tried ***, *** and ***");

  // A raw '?' in the secret (the parser wants %3F) does not hide it either.
  EXPECT_EQ(MaskedUri("s3://AKIA:se?cr@t@bucket"), "s3://AKIA:***@bucket");
}

// Connection strings that do not parse are still masked, whatever is wrong with them.
TEST(StoreUri, MalformedConnectionStringsNeverShowTheirSecret) {
  // No ':' between key and secret: all of the credentials are masked.
  EXPECT_EQ(MaskedUri("s3://AKIAsecretXYZ@bucket"), "s3://***@bucket");
  // Credentials inside a query value.
  EXPECT_EQ(MaskedUri("s3://bucket?endpoint=http://k:secretXYZ@127.0.0.1:1"),
            "s3://bucket?endpoint=http://k:***@127.0.0.1:1");
  EXPECT_EQ(MaskedUri("s3://K:outerSECRET@bucket?region=r&endpoint=https://k2:innerSECRET@h:9#x"),
            "s3://K:***@bucket?region=r&endpoint=https://k2:***@h:9#x");
  // ';' and '?' inside the secret.
  EXPECT_EQ(MaskedUri("s3://AKIA:se;cretXYZ@bucket?region=r"), "s3://AKIA:***@bucket?region=r");
  EXPECT_EQ(MaskedUri("s3://AKIA:se?cretXYZ@bucket"), "s3://AKIA:***@bucket");
}

// Found by tests/fuzz/uri_fuzz.cc (tests/fuzz/regressions/uri/): a session token given twice
// does not parse, and only the first one used to be masked, so `s3db config` showed the second.
TEST(StoreUri, EverySessionTokenOfAMalformedUriIsMasked) {
  const std::string uri = "s3://http://[::1]:9000/bucket?region=us-east-1&sessionToken=T&sessionToken=Fz9SecretMarker7";
  EXPECT_FALSE(ParseStoreUri(uri).ok());
  EXPECT_EQ(MaskedUri(uri), "s3://http://[::1]:9000/bucket?region=us-east-1&sessionToken=***&sessionToken=***");
  EXPECT_EQ(MaskedUri("s3://b?sessionToken=firstTOKEN1&sessionToken=secondTOKEN2#x"),
            "s3://b?sessionToken=***&sessionToken=***#x");
}

// Masking a short secret everywhere would show it by the holes: "e" would turn every 'e' of
// the message into "***". A short one is masked only where it stands alone.
TEST(StoreUri, AShortSecretIsNotRevealedByWhatMaskingReplaces) {
  SecretMasker masker;
  masker.AddUri("s3://AKIA:e@bucket");
  masker.AddSecret("pw");
  EXPECT_EQ(masker.Mask("cannot open s3://AKIA:e@bucket: the request was refused (pw)"),
            "cannot open s3://AKIA:***@bucket: the request was refused (***)");
  EXPECT_EQ(masker.Mask("a password, powerful"), "a password, powerful");
  // A long secret is masked wherever it appears, inside words too.
  masker.AddSecret("longsecret1");
  EXPECT_EQ(masker.Mask("xlongsecret1x"), "x***x");
}

}  // namespace
}  // namespace s3db
