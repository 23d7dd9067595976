// What an S3 server (or STS, or a credential endpoint) answers, as S3Store and the credential
// sources read it: src/s3/s3_xml.cc (ListObjectsV2, <Error> bodies, DeleteObjects results),
// src/s3/sts.cc (ParseStsResponse), src/s3/credential_sources.cc (ParseCredentialsJson), and
// the header values (metadata key escapes, Date, Retry-After, ISO 8601 times). Every input
// goes through all of them: a server's answer is the same bytes whichever call it answers.
//
// Invariants: no exception at all (these return Status); a malformed body is kIOError; a
// listed page keeps its promises (quoted ETags, a token when truncated); keys a listing
// returned survive BuildDeleteObjectsBody's XML escaping; a DeleteObjects result accounts for
// every requested key exactly once; metadata key escapes round-trip.
#include <pugixml.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exec/retry_policy.h"
#include "fuzz_support.h"
#include "s3/credential_sources.h"
#include "s3/s3_headers.h"
#include "s3/s3_xml.h"
#include "s3/sts.h"

namespace {

using s3db_fuzz::Check;
namespace s3 = s3db::s3;

// The keys of a DeleteObjects request body, read back with the flags S3Store reads with.
std::vector<std::string> KeysOfDeleteBody(const std::string& xml) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  Check(static_cast<bool>(parsed), "BuildDeleteObjectsBody wrote XML that does not parse: " + xml);
  std::vector<std::string> keys;
  for (const pugi::xml_node object : doc.child("Delete").children("Object")) {
    keys.emplace_back(object.child("Key").text().get());
  }
  return keys;
}

void CheckListing(std::string_view text, std::vector<std::string>* listed_keys) {
  s3db::Result<s3db::ListPage> page = s3::ParseListObjectsV2(text);
  if (!page.ok()) {
    // An <Error> document maps by its code (StatusFromS3Response); anything else is io_error.
    Check(page.code() == s3db::ErrorCode::kIOError || s3::ParseErrorBody(text).has_value(),
          "a bad listing that is not io_error: " + page.status().ToString());
    return;
  }
  Check(!page->truncated || !page->next_continuation_token.empty(), "a truncated page without a token");
  for (const s3db::ObjectInfo& object : page->objects) {
    Check(object.etag.empty() || object.etag.front() == '"', "an unquoted ETag: " + object.etag);
    listed_keys->push_back(object.key);
  }
  if (listed_keys->empty() || listed_keys->size() > 1000) return;
  s3db::Result<s3::DeleteObjectsBody> body = s3::BuildDeleteObjectsBody(*listed_keys);
  if (!body.ok()) {
    Check(body.code() == s3db::ErrorCode::kInvalidArgument, "BuildDeleteObjectsBody: " + body.status().ToString());
    return;
  }
  Check(KeysOfDeleteBody(body->xml) == *listed_keys, "keys changed by the DeleteObjects body: " + body->xml);
}

void CheckDeleteResult(std::string_view text, const std::vector<std::string>& requested) {
  s3db::Result<s3db::DeleteManyResult> result = s3::ParseDeleteObjectsResult(text, requested);
  if (!result.ok()) return;  // an <Error> document maps to any code, like StatusFromS3Response
  std::multiset<std::string> reported(result->deleted.begin(), result->deleted.end());
  for (const auto& [key, status] : result->errors) {
    Check(!status.ok(), "a per-key error with an OK status for " + key);
    reported.insert(key);
  }
  for (const std::string& key : std::set<std::string>(requested.begin(), requested.end())) {
    Check(reported.count(key) >= 1, "a requested key neither deleted nor failed: " + key);
    Check(std::count(result->deleted.begin(), result->deleted.end(), key) <= 1, "a key deleted twice: " + key);
  }
}

void CheckHeaderValues(std::string_view text) {
  if (std::optional<std::string> key = s3::DecodeMetadataKey(text)) {
    Check(s3::EncodeMetadataKey(*key) == text, "a decoded metadata key does not encode back: " + std::string(text));
  }
  Check(s3::DecodeMetadataKey(s3::EncodeMetadataKey(text)) == std::string(text), "a metadata key escape lost bytes");
  (void)s3::ParseHttpDate(text);
  (void)s3db::exec::ParseRetryAfter(text);
  (void)s3::ParseIso8601Millis(text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  std::vector<std::string> keys;
  CheckListing(text, &keys);

  std::optional<s3::S3Error> error = s3::ParseErrorBody(text);
  (void)error;
  for (int status : {200, 403, 404, 500, 503}) {
    Check(!s3::StatusFromS3Response(status, text).ok(), "a failed response mapped to OK");
  }
  (void)s3::MapS3Error(0, text);

  std::vector<std::string> requested = {"a", "k/1", "b c"};
  requested.insert(requested.end(), keys.begin(), keys.end());
  CheckDeleteResult(text, requested);

  (void)s3::ParseStsResponse(200, text, "fuzz");
  (void)s3::ParseStsResponse(400, text, "fuzz");
  (void)s3::ParseCredentialsJson(text, "SessionToken", "fuzz", /*require_version_1=*/true);
  (void)s3::ParseCredentialsJson(text, "Token", "fuzz", /*require_version_1=*/false);

  if (size <= 256) CheckHeaderValues(text);
  return 0;
}
