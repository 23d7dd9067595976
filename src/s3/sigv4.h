// AWS Signature Version 4 for S3, as a pure function (minio-cpp style): the request, the
// credentials and the time all come in as arguments, so the signer is tested against AWS's
// published vectors and nothing here reads a clock, the environment or a global.
//
// Why our own and not libcurl's CURLOPT_AWS_SIGV4: curl 7.88 (Debian 12) signs the query
// verbatim (unsorted, unencoded; fixed in 8.3), mis-signs value-less parameters such as
// `?delete` (8.5), does not encode the path (8.9) and mis-signs non-default ports, which
// MinIO on :9000 needs.
//
// S3 rules that differ from other AWS services and that this signer follows:
//  - The canonical path is the raw object path URI-encoded exactly once per segment with '/'
//    kept, and never normalised: "//", "." and ".." are signed as they are, since they are
//    part of the key.
//  - x-amz-content-sha256 is mandatory and signed (SigningRequest::sign_content_sha256).
//
// Use CanonicalPath() and CanonicalQueryString() to build the URL that is sent, so the bytes
// on the wire are the bytes that were signed.
//
// Secrets: the secret key is used only to derive the signing key and appears in no output.
// A session token is sent as a header, so it is in headers_to_add and the canonical request:
// mask it before logging those.
//
// Thread-safety: pure functions, callable from any thread.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3db/errors.h"

namespace s3db::s3 {

// Ordered name/value pairs; order matters only for repeated header names (values of one
// name are joined with ',' in the order given, as SigV4 specifies).
using HeaderList = std::vector<std::pair<std::string, std::string>>;
// Query parameters, unencoded. A value-less parameter such as "delete" is {"delete", ""}
// and is signed and sent as "delete=", which S3, MinIO and RGW read as "delete".
using QueryParams = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// Hex SHA-256 of the empty body.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials, no x-amz-security-token
};

struct SigningRequest {
  std::string method = "GET";
  // Exactly the Host header that will be sent: "bucket.s3.amazonaws.com", "127.0.0.1:9000"
  // (with the port when it is not the scheme's default).
  std::string host;
  std::string path = "/";  // raw, not encoded: "/bucket/my key+1%.txt"
  QueryParams query;
  // Further headers to sign and send (content-md5, content-type, if-match, if-none-match,
  // x-amz-meta-*, range...). Names are matched case-insensitively. host, x-amz-date,
  // x-amz-content-sha256, x-amz-security-token and authorization belong to the signer
  // and are refused here.
  HeaderList headers;
  // Hex SHA-256 of the body (PayloadHash()), or kUnsignedPayload.
  std::string payload_hash = std::string(kEmptyPayloadHash);
  // S3 requires x-amz-content-sha256 to be sent and signed. Other SigV4 services (the
  // generic AWS test suite) sign without it; only the tests turn this off.
  bool sign_content_sha256 = true;
};

struct SigningContext {
  Credentials credentials;
  std::string region = "us-east-1";
  std::string service = "s3";
  std::chrono::system_clock::time_point time;  // the request time, from the caller's clock
};

struct SignedRequest {
  // Headers to add to the request besides `headers`: x-amz-date, x-amz-content-sha256 (when
  // signed), x-amz-security-token (when a token is given) and Authorization.
  HeaderList headers_to_add;
  std::string authorization;
  std::string signature;       // 64 lower-case hex characters
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string canonical_request;
  std::string string_to_sign;
  std::string amz_date;  // "20130524T000000Z"
};

// Signs `request`. Fails with kInvalidArgument for a request that cannot be sent as given
// (empty host or method, path without a leading '/', a header name that is not an HTTP
// token, a CR/LF/NUL in a header value, a header the signer owns, a malformed payload
// hash, missing credentials, region or service).
Result<SignedRequest> SignV4(const SigningRequest& request, const SigningContext& context);

// The path as signed and as it must appear in the URL: each byte outside RFC 3986's
// unreserved set and '/' becomes %XX (upper-case), once.
std::string CanonicalPath(std::string_view raw_path);

// "a=1&b=x%20y&delete=": names and values RFC 3986-encoded (%20, never '+'), sorted by
// encoded name then encoded value. Empty for no parameters.
std::string CanonicalQueryString(const QueryParams& query);

// "YYYYMMDDTHHMMSSZ" in UTC.
std::string FormatAmzDate(std::chrono::system_clock::time_point time);

// Hex SHA-256 of a body, for SigningRequest::payload_hash.
std::string PayloadHash(std::string_view body);

}  // namespace s3db::s3
