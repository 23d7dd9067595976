// Where an S3 request goes: the bucket's addressing (path style or virtual host) and the URL,
// Host header and signed path of one request. Pure functions over strings; calls only
// util and the signer's canonical forms (s3/sigv4.h).
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <string>
#include <string_view>

#include "s3/sigv4.h"
#include "s3db/errors.h"

namespace s3db::s3 {

// How requests for one bucket are addressed.
struct Addressing {
  bool https = true;
  std::string host;  // "s3.eu-west-1.amazonaws.com", "127.0.0.1:7480" (no default port)
  std::string bucket;
  bool path_style = false;  // true: host/bucket/key; false: bucket.host/key
};

// From an endpoint "http(s)://host[:port]". Path style is used when asked for, and also
// when virtual hosting cannot work: an IP-literal or "localhost" host, or a bucket name
// with a '.' (it would not match the server's TLS certificate).
Result<Addressing> MakeAddressing(const std::string& endpoint, const std::string& bucket, bool force_path_style);

struct RequestTarget {
  std::string url;   // what curl is given: scheme://host/encoded-path?canonical-query
  std::string host;  // the Host header, exactly as signed
  std::string path;  // raw (unencoded) path, as given to the signer
};

// The target of a request for `key` (empty: the bucket itself, for List and DeleteObjects).
RequestTarget BuildTarget(const Addressing& addressing, std::string_view key, const QueryParams& query);

}  // namespace s3db::s3
