// The XML that S3Store exchanges with an S3 server (pugixml): ListObjectsV2 pages, <Error>
// bodies and their mapping to s3db::ErrorCode, and the DeleteObjects request and result.
//
// A body that is not the document we expect (cut off, HTML from a proxy, a different root)
// is kIOError: S3 documents that "a 200 OK response can contain valid or invalid XML", and
// a retry is the right answer to a mangled response.
//
// Thread-safety: pure functions, callable from any thread.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3db/errors.h"
#include "s3db/object_store.h"

namespace s3db::s3 {

// A ListObjectsV2 result (<ListBucketResult>) as a ListPage: each <Contents> gives key,
// etag (always quoted), size and last_modified_ms; <IsTruncated> and
// <NextContinuationToken> give the paging state. When the body says
// <EncodingType>url</EncodingType>, keys are URL-decoded ('+' is a space, as S3 encodes
// them). A truncated page without a continuation token is malformed, since a caller
// could not go on.
Result<ListPage> ParseListObjectsV2(std::string_view xml);

// The fields of an S3 <Error> document.
struct S3Error {
  std::string code;  // "NoSuchKey"
  std::string message;
  std::string resource;    // may be empty
  std::string request_id;  // may be empty
};

// nullopt when `body` is not an <Error> document (HEAD responses have no body; proxies send
// HTML).
std::optional<S3Error> ParseErrorBody(std::string_view body);

// Which s3db error an S3 failure is. The S3 code decides when we know it; otherwise the HTTP
// status does. `http_status` 0 means "no status" (a per-key <Error> inside a
// DeleteObjects result).
ErrorCode MapS3Error(int http_status, std::string_view s3_code);

// The Status for a failed response: its code from MapS3Error, its message naming the S3
// error code, the HTTP status, S3's message and the request id when there is one, e.g.
// "S3 NoSuchKey (HTTP 404): The resource you requested does not exist [request id 4442...]".
Status StatusFromS3Response(int http_status, std::string_view body);

struct DeleteObjectsBody {
  std::string xml;          // <Delete><Quiet>true</Quiet><Object><Key>..</Key></Object>..
  std::string content_md5;  // base64 of the MD5 of `xml`, required by S3 for this call
};

// The body of POST /?delete for 1..1000 keys. Quiet mode: S3 then reports only failures.
// Keys are XML-escaped; a key that XML 1.0 cannot carry (control characters other than
// tab, CR and LF) or an empty key is kInvalidArgument.
Result<DeleteObjectsBody> BuildDeleteObjectsBody(const std::vector<std::string>& keys);

// The DeleteObjects <DeleteResult> for `requested_keys`: every <Error> entry becomes a
// per-key Status (mapped by MapS3Error), every other requested key is deleted (a quiet
// response lists only errors; a missing key counts as deleted, as on S3). A body whose
// root is <Error> fails as a whole, as StatusFromS3Response(200, body).
Result<DeleteManyResult> ParseDeleteObjectsResult(std::string_view xml, const std::vector<std::string>& requested_keys);

// ISO 8601 UTC time as S3 writes it ("2009-10-12T17:50:30.000Z"; fraction optional, any
// number of digits; 'Z' or a +hh:mm/-hh:mm offset) -> milliseconds since the Unix epoch.
std::optional<int64_t> ParseIso8601Millis(std::string_view text);

// `etag` in the quoted form ObjectInfo promises and S3 sends; a few servers send ETags bare.
std::string QuotedEtag(std::string_view etag);

}  // namespace s3db::s3
