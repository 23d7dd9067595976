// S3 XML tests: responses come from tests/data/s3_xml_cases.txt (format in its header), so a
// new server quirk is a new block of data; the DeleteObjects request body, the error mapping
// table and the time parser are checked here directly.
#include "s3/s3_xml.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "util/crypto_hash.h"

namespace s3db::s3 {
namespace {

using nlohmann::json;

struct XmlCase {
  std::string name;
  json params;
  std::string body;
  json expect;
};

// gtest prints a failing parameter; the case name is what helps.
void PrintTo(const XmlCase& c, std::ostream* os) { *os << c.name; }

// Reads the block format described at the top of s3_xml_cases.txt.
std::vector<XmlCase> LoadCases() {
  std::vector<XmlCase> cases;
  std::ifstream in(std::string(S3DB_TEST_DATA_DIR) + "/s3_xml_cases.txt");
  enum class Section { kOutside, kBody, kExpect } section = Section::kOutside;
  std::vector<std::string> body_lines;
  std::string expect_text;
  auto finish_case = [&] {
    if (section == Section::kExpect) cases.back().expect = json::parse(expect_text);
    section = Section::kOutside;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("=== ", 0) == 0) {
      finish_case();
      const size_t space = line.find(' ', 4);
      XmlCase next;
      next.name = line.substr(4, space - 4);
      next.params = json::parse(line.substr(space + 1));
      cases.push_back(std::move(next));
      body_lines.clear();
      section = Section::kBody;
    } else if (section == Section::kBody && line == "--- expect") {
      std::string body;
      for (size_t i = 0; i < body_lines.size(); ++i) body += (i ? "\n" : "") + body_lines[i];
      cases.back().body = body;
      expect_text.clear();
      section = Section::kExpect;
    } else if (section == Section::kBody) {
      body_lines.push_back(line);
    } else if (section == Section::kExpect) {
      if (line.empty() || line[0] == '#') {
        finish_case();
      } else {
        expect_text += line + "\n";
      }
    }
  }
  finish_case();
  return cases;
}

const std::vector<XmlCase>& Cases() {
  static const std::vector<XmlCase> cases = LoadCases();
  return cases;
}

std::string CodeName(ErrorCode code) { return ErrorCodeName(code); }

void ExpectFailure(const Status& status, const json& expect) {
  EXPECT_EQ(CodeName(status.code()), expect.at("error").get<std::string>());
  EXPECT_NE(status.message().find(expect.at("message_contains").get<std::string>()), std::string::npos)
      << status.message();
}

class S3XmlCase : public ::testing::TestWithParam<XmlCase> {};

TEST_P(S3XmlCase, ParsesAsExpected) {
  const XmlCase& c = GetParam();
  const std::string kind = c.params.at("kind");
  if (kind == "list") {
    const Result<ListPage> page = ParseListObjectsV2(c.body);
    if (c.expect.contains("error")) {
      ASSERT_FALSE(page.ok());
      ExpectFailure(page.status(), c.expect);
      return;
    }
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->truncated, c.expect.at("truncated").get<bool>());
    EXPECT_EQ(page->next_continuation_token, c.expect.at("next_token").get<std::string>());
    const json& objects = c.expect.at("objects");
    ASSERT_EQ(page->objects.size(), objects.size());
    for (size_t i = 0; i < objects.size(); ++i) {
      const ObjectInfo& got = page->objects[i];
      EXPECT_EQ(got.key, objects[i].at("key").get<std::string>()) << i;
      EXPECT_EQ(got.etag, objects[i].at("etag").get<std::string>()) << i;
      EXPECT_EQ(got.size, objects[i].at("size").get<uint64_t>()) << i;
      EXPECT_EQ(got.last_modified_ms, objects[i].at("last_modified_ms").get<int64_t>()) << i;
      EXPECT_TRUE(got.metadata.empty());
    }
  } else if (kind == "error") {
    const int http_status = c.params.at("status");
    const Status status = StatusFromS3Response(http_status, c.body);
    EXPECT_EQ(CodeName(status.code()), c.expect.at("error").get<std::string>());
    EXPECT_EQ(status.message(), c.expect.at("message").get<std::string>());
    const std::optional<S3Error> parsed = ParseErrorBody(c.body);
    if (c.expect.at("s3_code").is_null()) {
      EXPECT_FALSE(parsed.has_value());
    } else {
      ASSERT_TRUE(parsed.has_value());
      EXPECT_EQ(parsed->code, c.expect.at("s3_code").get<std::string>());
      EXPECT_EQ(parsed->request_id, c.expect.at("request_id").get<std::string>());
    }
  } else if (kind == "delete_result") {
    const std::vector<std::string> requested = c.params.at("requested");
    const Result<DeleteManyResult> result = ParseDeleteObjectsResult(c.body, requested);
    if (c.expect.contains("error")) {
      ASSERT_FALSE(result.ok());
      ExpectFailure(result.status(), c.expect);
      return;
    }
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->deleted, c.expect.at("deleted").get<std::vector<std::string>>());
    const json& errors = c.expect.at("errors");
    ASSERT_EQ(result->errors.size(), errors.size());
    for (size_t i = 0; i < errors.size(); ++i) {
      EXPECT_EQ(result->errors[i].first, errors[i].at("key").get<std::string>()) << i;
      EXPECT_EQ(CodeName(result->errors[i].second.code()), errors[i].at("error").get<std::string>()) << i;
      EXPECT_EQ(result->errors[i].second.message(), errors[i].at("message").get<std::string>()) << i;
    }
  } else {
    FAIL() << "unknown kind '" << kind << "' in case " << c.name;
  }
}

std::string CaseName(const ::testing::TestParamInfo<XmlCase>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(File, S3XmlCase, ::testing::ValuesIn(Cases()), CaseName);

// Guards the data file and its reader: a block lost to a format slip must not pass quietly.
TEST(S3XmlCaseFile, HoldsEveryKind) {
  size_t list = 0, error = 0, delete_result = 0;
  for (const XmlCase& c : Cases()) {
    const std::string kind = c.params.at("kind");
    list += kind == "list";
    error += kind == "error";
    delete_result += kind == "delete_result";
    EXPECT_FALSE(c.expect.is_null()) << c.name << " has no expectation";
  }
  EXPECT_EQ(list, 18u);
  EXPECT_EQ(error, 28u);
  EXPECT_EQ(delete_result, 10u);
}

// Reads a DeleteObjects body back the way a server would.
std::vector<std::string> KeysIn(const std::string& delete_xml) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(delete_xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata));
  std::vector<std::string> keys;
  for (const pugi::xml_node object : doc.child("Delete").children("Object")) {
    keys.emplace_back(object.child("Key").text().get());
  }
  EXPECT_STREQ(doc.child("Delete").child("Quiet").text().get(), "true");
  return keys;
}

TEST(DeleteObjectsBody, MatchesTheSignedExampleByteForByte) {
  // The same body (and Content-MD5, computed by Python's hashlib) is signed in the
  // own-delete-objects-valueless-param SigV4 vector.
  const Result<DeleteObjectsBody> body =
      BuildDeleteObjectsBody({"db/resource=users/data/id=a&b", "db/resource=users/data/id=%3Cc%3E"});
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>"
            "<Object><Key>db/resource=users/data/id=a&amp;b</Key></Object>"
            "<Object><Key>db/resource=users/data/id=%3Cc%3E</Key></Object></Delete>");
  EXPECT_EQ(body->content_md5, "xMjkK0rBglXX4uLwWmSc6A==");
}

TEST(DeleteObjectsBody, EscapedKeysReadBackExactly) {
  const std::vector<std::string> keys = {"a&b",        "<c>", "q\"uote's", "日本語/😀", "tab\tand\nnewline\rcr",
                                         "  spaced  ", "]]>", "%2F+"};
  const Result<DeleteObjectsBody> body = BuildDeleteObjectsBody(keys);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(KeysIn(body->xml), keys);
  EXPECT_EQ(body->content_md5, util::Base64Encode(util::Md5(body->xml)));
  EXPECT_NE(body->xml.find("a&amp;b"), std::string::npos);
  EXPECT_NE(body->xml.find("&lt;c&gt;"), std::string::npos);
  EXPECT_NE(body->xml.find("&#13;"), std::string::npos);  // a raw CR would read back as LF
}

TEST(DeleteObjectsBody, TakesOneToAThousandKeys) {
  EXPECT_EQ(BuildDeleteObjectsBody({}).code(), ErrorCode::kInvalidArgument);
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i) keys.push_back("db/id=" + std::to_string(i));
  const Result<DeleteObjectsBody> full = BuildDeleteObjectsBody(keys);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(KeysIn(full->xml).size(), 1000u);
  keys.push_back("db/id=1000");
  EXPECT_EQ(BuildDeleteObjectsBody(keys).code(), ErrorCode::kInvalidArgument);
}

TEST(DeleteObjectsBody, RefusesKeysXmlCannotCarry) {
  for (const std::string& key :
       {std::string(""),
        std::string("a\x01"
                    "b"),
        std::string("nul\0", 4), std::string("bad\xC3"), std::string("non-char\xEF\xBF\xBF")}) {
    EXPECT_EQ(BuildDeleteObjectsBody({"fine", key}).code(), ErrorCode::kInvalidArgument)
        << ::testing::PrintToString(key);
  }
}

TEST(S3ErrorMapping, CodeDecidesThenStatus) {
  struct Row {
    int status;
    const char* code;
    ErrorCode expected;
  };
  const Row rows[] = {
      {404, "NoSuchKey", ErrorCode::kNotFound},
      {0, "NoSuchKey", ErrorCode::kNotFound},
      {404, "", ErrorCode::kNotFound},
      {404, "NoSuchUpload", ErrorCode::kNotFound},
      {412, "PreconditionFailed", ErrorCode::kPreconditionFailed},
      {412, "", ErrorCode::kPreconditionFailed},
      {409, "ConditionalRequestConflict", ErrorCode::kConflict},
      {409, "OperationAborted", ErrorCode::kConflict},
      {503, "SlowDown", ErrorCode::kSlowDown},
      {503, "ServiceUnavailable", ErrorCode::kSlowDown},
      {429, "", ErrorCode::kSlowDown},
      {403, "AccessDenied", ErrorCode::kAccessDenied},
      {403, "InvalidAccessKeyId", ErrorCode::kAccessDenied},
      {403, "SignatureDoesNotMatch", ErrorCode::kAccessDenied},
      {403, "RequestTimeTooSkewed", ErrorCode::kAccessDenied},
      {0, "AccessDenied", ErrorCode::kAccessDenied},
      {400, "MetadataTooLarge", ErrorCode::kMetadataTooLarge},
      {400, "RequestTimeout", ErrorCode::kTimeout},
      {408, "", ErrorCode::kTimeout},
      {500, "InternalError", ErrorCode::kIOError},
      {200, "InternalError", ErrorCode::kIOError},
      {0, "InternalError", ErrorCode::kIOError},
      {504, "", ErrorCode::kIOError},
      {400, "EntityTooLarge", ErrorCode::kInvalidArgument},
      {400, "InvalidArgument", ErrorCode::kInvalidArgument},
      {400, "MalformedXML", ErrorCode::kInvalidArgument},
      {411, "MissingContentLength", ErrorCode::kInvalidArgument},
      {416, "InvalidRange", ErrorCode::kInvalidArgument},
      {307, "TemporaryRedirect", ErrorCode::kInvalidArgument},
      {501, "NotImplemented", ErrorCode::kUnsupported},
      {0, "", ErrorCode::kIOError},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(CodeName(MapS3Error(row.status, row.code)), CodeName(row.expected)) << row.status << " " << row.code;
  }
}

TEST(S3ErrorMapping, RetryableExactlyWhereDesignSaysSo) {
  // docs/ARCHITECTURE.md: retry 5xx, 503 SlowDown, 429, timeouts; never 400/403/404/412.
  EXPECT_TRUE(StatusFromS3Response(500, "").retryable());
  EXPECT_TRUE(StatusFromS3Response(503, "").retryable());
  EXPECT_TRUE(StatusFromS3Response(429, "").retryable());
  EXPECT_TRUE(StatusFromS3Response(409, "").retryable());  // re-read, then retry
  for (int status : {400, 403, 404, 412}) {
    EXPECT_FALSE(StatusFromS3Response(status, "").retryable()) << status;
  }
}

TEST(Iso8601, ParsesS3TimestampsToUtcMillis) {
  EXPECT_EQ(ParseIso8601Millis("2009-10-12T17:50:30.000Z"), 1255369830000);
  EXPECT_EQ(ParseIso8601Millis("2024-02-29T23:59:59.999Z"), 1709251199999);
  EXPECT_EQ(ParseIso8601Millis("2024-01-01T00:00:00.123456Z"), 1704067200123);
  EXPECT_EQ(ParseIso8601Millis("2024-01-01T00:00:00.1Z"), 1704067200100);
  EXPECT_EQ(ParseIso8601Millis("2023-11-07T05:31:56Z"), 1699335116000);
  EXPECT_EQ(ParseIso8601Millis("2024-05-01T12:20:30+02:00"), 1714558830000);
  EXPECT_EQ(ParseIso8601Millis("2024-05-01T08:50:30-01:30"), 1714558830000);
  EXPECT_EQ(ParseIso8601Millis("1969-12-31T23:59:59.500Z"), -500);
}

TEST(Iso8601, RefusesWhatIsNotATimestamp) {
  for (const char* text :
       {"", "2024-01-01", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z",
        "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.000", "2024-01-01T00:00:00+0200", "2024-01-01T00:00:00ZZ",
        "+024-01-01T00:00:00Z", "2024-1-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseIso8601Millis(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace s3db::s3
