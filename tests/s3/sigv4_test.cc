// SigV4 signer tests: the published AWS vectors and our own S3 cases, driven by
// tests/data/sigv4_vectors.jsonl (its header says where each vector comes from), plus the
// rules a vector file cannot show well (refusals, every input being signed, secrets).
#include "s3/sigv4.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace s3db::s3 {
namespace {

using nlohmann::json;

std::chrono::system_clock::time_point FromEpoch(int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

// One line of the vector file; gtest prints only its name when a test fails.
struct Vector {
  json data;
};
void PrintTo(const Vector& v, std::ostream* os) { *os << v.data.at("name").get<std::string>(); }

std::vector<Vector> LoadVectors() {
  std::vector<Vector> vectors;
  std::ifstream in(std::string(S3DB_TEST_DATA_DIR) + "/sigv4_vectors.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    vectors.push_back({json::parse(line)});
  }
  return vectors;
}

const std::vector<Vector>& Vectors() {
  static const std::vector<Vector> vectors = LoadVectors();
  return vectors;
}

std::vector<std::pair<std::string, std::string>> Pairs(const json& array) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const json& pair : array) out.emplace_back(pair.at(0), pair.at(1));
  return out;
}

std::string FindHeader(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

class SigV4Vector : public ::testing::TestWithParam<Vector> {};

TEST_P(SigV4Vector, MatchesPublishedResult) {
  const json& v = GetParam().data;
  if (v.contains("skip")) GTEST_SKIP() << v.at("skip").get<std::string>();

  SigningRequest request;
  request.method = v.at("method");
  request.host = v.at("host");
  request.path = v.at("path");
  request.query = Pairs(v.at("query"));
  request.headers = Pairs(v.at("headers"));
  request.payload_hash = v.at("payload_hash");
  request.sign_content_sha256 = v.at("sign_content_sha256");
  if (request.payload_hash != kUnsignedPayload) {
    EXPECT_EQ(PayloadHash(v.at("payload").get<std::string>()), request.payload_hash);
  }
  SigningContext context;
  context.credentials = {v.at("access_key"), v.at("secret_key"), v.at("session_token")};
  context.region = v.at("region");
  context.service = v.at("service");
  context.time = FromEpoch(v.at("epoch_seconds"));

  const Result<SignedRequest> signed_request = SignV4(request, context);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  const SignedRequest& out = *signed_request;
  EXPECT_EQ(out.amz_date, v.at("amz_date"));
  EXPECT_EQ(out.canonical_request, v.at("canonical_request"));
  EXPECT_EQ(out.string_to_sign, v.at("string_to_sign"));
  EXPECT_EQ(out.signature, v.at("signature"));
  EXPECT_EQ(out.signed_headers, v.at("signed_headers"));
  const std::string scope = out.amz_date.substr(0, 8) + "/" + context.region + "/" + context.service + "/aws4_request";
  const std::string expected_authorization =
      v.value("authorization", "AWS4-HMAC-SHA256 Credential=" + context.credentials.access_key_id + "/" + scope +
                                   ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature);
  EXPECT_EQ(out.authorization, expected_authorization);

  // The headers to send carry exactly what was signed.
  EXPECT_EQ(FindHeader(out.headers_to_add, "Authorization"), out.authorization);
  EXPECT_EQ(FindHeader(out.headers_to_add, "x-amz-date"), out.amz_date);
  EXPECT_EQ(FindHeader(out.headers_to_add, "x-amz-content-sha256"),
            request.sign_content_sha256 ? request.payload_hash : "<absent>");
  EXPECT_EQ(FindHeader(out.headers_to_add, "x-amz-security-token"),
            context.credentials.session_token.empty() ? "<absent>" : context.credentials.session_token);
}

std::string VectorName(const ::testing::TestParamInfo<Vector>& info) {
  std::string name = info.param.data.at("name");
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(File, SigV4Vector, ::testing::ValuesIn(Vectors()), VectorName);

// Guards the data file itself: losing a line must not pass quietly.
TEST(SigV4VectorFile, HoldsTheVectorsWeRelyOn) {
  size_t s3_examples = 0, suite_run = 0, suite_skipped = 0, own = 0;
  for (const Vector& vector : Vectors()) {
    const std::string name = vector.data.at("name");
    const bool skipped = vector.data.contains("skip");
    if (name.rfind("s3-", 0) == 0 && !skipped) ++s3_examples;
    if (name.rfind("suite-", 0) == 0) ++(skipped ? suite_skipped : suite_run);
    if (name.rfind("own-", 0) == 0 && !skipped) ++own;
  }
  EXPECT_EQ(s3_examples, 4u);
  EXPECT_EQ(suite_run, 30u);
  EXPECT_EQ(suite_skipped, 8u);
  EXPECT_EQ(own, 6u);
}

SigningRequest BaseRequest() {
  SigningRequest request;
  request.method = "PUT";
  request.host = "127.0.0.1:9000";
  request.path = "/bucket/db/resource=users/data/id=abc";
  request.query = {{"x-id", "PutObject"}};
  request.headers = {{"Content-Type", "application/json"}, {"If-None-Match", "*"}};
  request.payload_hash = PayloadHash("{}");
  return request;
}

SigningContext BaseContext() {
  SigningContext context;
  context.credentials = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  context.region = "us-east-1";
  context.service = "s3";
  context.time = FromEpoch(1732527015);
  return context;
}

std::string SignatureOf(const SigningRequest& request, const SigningContext& context) {
  const Result<SignedRequest> out = SignV4(request, context);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? out->signature : "";
}

// A signer that forgot one input would still match vectors in which that input is fixed;
// here each input changes alone and the signature must change with it.
TEST(SigV4, EveryInputIsSigned) {
  const std::string base = SignatureOf(BaseRequest(), BaseContext());
  using RequestChange = std::function<void(SigningRequest&)>;
  const std::vector<std::pair<std::string, RequestChange>> request_changes = {
      {"method", [](SigningRequest& r) { r.method = "POST"; }},
      {"host port", [](SigningRequest& r) { r.host = "127.0.0.1:9001"; }},
      {"path", [](SigningRequest& r) { r.path += "d"; }},
      {"query value", [](SigningRequest& r) { r.query[0].second = "GetObject"; }},
      {"extra query", [](SigningRequest& r) { r.query.emplace_back("delete", ""); }},
      {"header value", [](SigningRequest& r) { r.headers[0].second = "text/plain"; }},
      {"extra header", [](SigningRequest& r) { r.headers.emplace_back("x-amz-meta-a", "1"); }},
      {"payload", [](SigningRequest& r) { r.payload_hash = PayloadHash("{ }"); }},
      {"unsigned payload", [](SigningRequest& r) { r.payload_hash = kUnsignedPayload; }},
  };
  for (const auto& [what, change] : request_changes) {
    SigningRequest request = BaseRequest();
    change(request);
    EXPECT_NE(SignatureOf(request, BaseContext()), base) << what;
  }
  using ContextChange = std::function<void(SigningContext&)>;
  const std::vector<std::pair<std::string, ContextChange>> context_changes = {
      {"secret", [](SigningContext& c) { c.credentials.secret_access_key += "x"; }},
      {"token", [](SigningContext& c) { c.credentials.session_token = "token"; }},
      {"region", [](SigningContext& c) { c.region = "eu-west-1"; }},
      {"service", [](SigningContext& c) { c.service = "s3-object-lambda"; }},
      {"one second later", [](SigningContext& c) { c.time += std::chrono::seconds(1); }},
  };
  for (const auto& [what, change] : context_changes) {
    SigningContext context = BaseContext();
    change(context);
    EXPECT_NE(SignatureOf(BaseRequest(), context), base) << what;
  }
  // The access key id is not part of the signature, only of the Credential= scope.
  SigningContext other_key = BaseContext();
  other_key.credentials.access_key_id = "AKIDOTHER";
  const Result<SignedRequest> out = SignV4(BaseRequest(), other_key);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->authorization.find("Credential=AKIDOTHER/20241125/us-east-1/s3/aws4_request"), std::string::npos);
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  SigningContext context = BaseContext();
  context.credentials.session_token = "IQoJb3JpZ2luX2VjEPT//////////wEa+token==";
  const Result<SignedRequest> out = SignV4(BaseRequest(), context);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(FindHeader(out->headers_to_add, "x-amz-security-token"), context.credentials.session_token);
  EXPECT_NE(out->signed_headers.find("x-amz-security-token"), std::string::npos);
  EXPECT_NE(out->canonical_request.find("\nx-amz-security-token:" + context.credentials.session_token + "\n"),
            std::string::npos);

  const Result<SignedRequest> without = SignV4(BaseRequest(), BaseContext());
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(FindHeader(without->headers_to_add, "x-amz-security-token"), "<absent>");
  EXPECT_EQ(without->signed_headers.find("x-amz-security-token"), std::string::npos);
}

TEST(SigV4, SecretNeverAppearsInAnyOutput) {
  SigningContext context = BaseContext();
  context.credentials.session_token = "session-token";
  const Result<SignedRequest> out = SignV4(BaseRequest(), context);
  ASSERT_TRUE(out.ok());
  const std::string& secret = context.credentials.secret_access_key;
  for (const std::string* text :
       {&out->authorization, &out->canonical_request, &out->string_to_sign, &out->signed_headers}) {
    EXPECT_EQ(text->find(secret), std::string::npos) << *text;
  }
  for (const auto& [name, value] : out->headers_to_add) {
    EXPECT_EQ(value.find(secret), std::string::npos) << name;
  }
}

TEST(SigV4, KeyBytesAreEncodedExactlyOnceAndNeverNormalised) {
  EXPECT_EQ(CanonicalPath("/bucket/a b+c=d%e.txt"), "/bucket/a%20b%2Bc%3Dd%25e.txt");
  EXPECT_EQ(CanonicalPath("/bucket/%20"), "/bucket/%2520");  // a literal "%20" in a key
  EXPECT_EQ(CanonicalPath("/b/\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80"), "/b/%C3%A9%E6%97%A5%F0%9F%98%80");
  EXPECT_EQ(CanonicalPath("/b/-._~AZaz09"), "/b/-._~AZaz09");
  EXPECT_EQ(CanonicalPath("/b/a//./../c/"), "/b/a//./../c/");
  EXPECT_EQ(CanonicalPath("/b/?#&:@!$'()*,;"), "/b/%3F%23%26%3A%40%21%24%27%28%29%2A%2C%3B");

  SigningRequest request = BaseRequest();
  request.path = "/bucket/id=a b+c%d";
  const Result<SignedRequest> out = SignV4(request, BaseContext());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->canonical_request.substr(0, out->canonical_request.find('\n', 4) + 1),
            "PUT\n/bucket/id%3Da%20b%2Bc%25d\n");
}

TEST(SigV4, QueryIsEncodedSortedAndValueLessParamsGetAnEqualsSign) {
  EXPECT_EQ(CanonicalQueryString({}), "");
  EXPECT_EQ(CanonicalQueryString({{"delete", ""}}), "delete=");
  EXPECT_EQ(CanonicalQueryString({{"prefix", ""}, {"list-type", "2"}}), "list-type=2&prefix=");
  // Sorted by encoded name, then by encoded value for repeated names.
  EXPECT_EQ(CanonicalQueryString({{"b", "2"}, {"a", "z"}, {"a", "y"}, {"A", "1"}}), "A=1&a=y&a=z&b=2");
  // %20 for a space (never '+'); '+', '/', '=' encoded; unreserved kept.
  EXPECT_EQ(CanonicalQueryString({{"start-after", "a b+c/d=e~f"}}), "start-after=a%20b%2Bc%2Fd%3De~f");
  // Encoding happens before sorting: "%E1..." sorts before "P".
  EXPECT_EQ(CanonicalQueryString({{"Param", "1"}, {"\xE1\x88\xB4", "2"}}), "%E1%88%B4=2&Param=1");
}

TEST(SigV4, HeaderNamesMergeCaseInsensitivelyAndValuesAreTrimmedAndCollapsed) {
  SigningRequest request = BaseRequest();
  request.headers = {{"X-Amz-Meta-Note", "  a \t  b  "},
                     {"x-amz-meta-list", "one"},
                     {"X-AMZ-META-LIST", "two"},
                     {"Content-Type", "application/json"}};
  const Result<SignedRequest> out = SignV4(request, BaseContext());
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->canonical_request.find("\nx-amz-meta-list:one,two\nx-amz-meta-note:a b\n"), std::string::npos)
      << out->canonical_request;
  EXPECT_EQ(out->signed_headers, "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-list;x-amz-meta-note");
}

TEST(SigV4, RefusesRequestsThatCannotBeSentAsSigned) {
  const std::vector<std::pair<std::string, std::function<void(SigningRequest&)>>> bad = {
      {"empty host", [](SigningRequest& r) { r.host = ""; }},
      {"empty method", [](SigningRequest& r) { r.method = ""; }},
      {"relative path", [](SigningRequest& r) { r.path = "bucket/key"; }},
      {"empty path", [](SigningRequest& r) { r.path = ""; }},
      {"Host header", [](SigningRequest& r) { r.headers.emplace_back("Host", "evil"); }},
      {"x-amz-date", [](SigningRequest& r) { r.headers.emplace_back("X-Amz-Date", "x"); }},
      {"content sha", [](SigningRequest& r) { r.headers.emplace_back("x-amz-content-sha256", "x"); }},
      {"token", [](SigningRequest& r) { r.headers.emplace_back("x-amz-security-token", "x"); }},
      {"authorization", [](SigningRequest& r) { r.headers.emplace_back("Authorization", "x"); }},
      {"space in name", [](SigningRequest& r) { r.headers.emplace_back("x-amz-meta a", "1"); }},
      {"colon in name", [](SigningRequest& r) { r.headers.emplace_back("x-amz-meta:a", "1"); }},
      {"empty name", [](SigningRequest& r) { r.headers.emplace_back("", "1"); }},
      {"CRLF in value", [](SigningRequest& r) { r.headers.emplace_back("x-a", "1\r\nx-b: 2"); }},
      {"LF in value", [](SigningRequest& r) { r.headers.emplace_back("x-a", "1\n 2"); }},
      {"NUL in value", [](SigningRequest& r) { r.headers.emplace_back("x-a", std::string("1\0", 2)); }},
      {"upper-case hash", [](SigningRequest& r) { r.payload_hash = std::string(64, 'A'); }},
      {"short hash", [](SigningRequest& r) { r.payload_hash = "abc"; }},
      {"empty hash", [](SigningRequest& r) { r.payload_hash = ""; }},
  };
  for (const auto& [what, change] : bad) {
    SigningRequest request = BaseRequest();
    change(request);
    EXPECT_EQ(SignV4(request, BaseContext()).code(), ErrorCode::kInvalidArgument) << what;
  }
  const std::vector<std::pair<std::string, std::function<void(SigningContext&)>>> bad_context = {
      {"no access key", [](SigningContext& c) { c.credentials.access_key_id = ""; }},
      {"no secret", [](SigningContext& c) { c.credentials.secret_access_key = ""; }},
      {"CRLF in token", [](SigningContext& c) { c.credentials.session_token = "a\r\nb"; }},
      {"no region", [](SigningContext& c) { c.region = ""; }},
      {"no service", [](SigningContext& c) { c.service = ""; }},
  };
  for (const auto& [what, change] : bad_context) {
    SigningContext context = BaseContext();
    change(context);
    EXPECT_EQ(SignV4(BaseRequest(), context).code(), ErrorCode::kInvalidArgument) << what;
  }
}

TEST(SigV4, AmzDateIsUtcAndTruncatesToTheSecond) {
  EXPECT_EQ(FormatAmzDate(FromEpoch(0)), "19700101T000000Z");
  EXPECT_EQ(FormatAmzDate(FromEpoch(1369353600)), "20130524T000000Z");
  // 2024-02-29T23:59:59.999Z: leap day, and the milliseconds must not round up.
  EXPECT_EQ(FormatAmzDate(FromEpoch(1709251199) + std::chrono::milliseconds(999)), "20240229T235959Z");
  EXPECT_EQ(FormatAmzDate(FromEpoch(4102444800)), "21000101T000000Z");
}

}  // namespace
}  // namespace s3db::s3
