// What S3 headers carry for s3db: user metadata (x-amz-meta-*, with keys escaped so RGW
// cannot mangle them, and the reserved write tag) and HTTP dates. Pure functions; calls only
// util.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "s3/http_client.h"
#include "s3db/object_store.h"

namespace s3db::s3 {

// The prefix of user-metadata headers.
inline constexpr std::string_view kMetaPrefix = "x-amz-meta-";

// The reserved user-metadata key that carries a conditional Put's write tag, and the tag's
// length. The tag's bytes on the wire ("-uwt" + 16) are reserved out of S3's limit.
inline constexpr std::string_view kWriteTagKey = "_wt";
inline constexpr size_t kWriteTagLength = 16;
inline constexpr size_t kS3MetadataLimit = 2048;
inline constexpr size_t kWriteTagWireBytes = kWriteTagKey.size() + 1 + kWriteTagLength;
inline constexpr size_t kUserMetadataLimit = kS3MetadataLimit - kWriteTagWireBytes;

// Metadata keys on the wire. Ceph RGW turns '_' into '-' in x-amz-meta-* names (it passes
// headers through CGI-style variable names), so "_v" would come back as "-v" and "a_b"
// would collide with "a-b". Every S3 backend therefore gets keys escaped within [a-z0-9-]:
// '-' is sent as "--" and '_' as "-u"; other characters are unchanged, so the record
// layer's base36 keys cost nothing. Each '-' or '_' costs one byte of the 2048 on the wire.
std::string EncodeMetadataKey(std::string_view key);
// nullopt for a name that is not such an escape (written by another tool): callers keep
// it as it is.
std::optional<std::string> DecodeMetadataKey(std::string_view wire);
// UTF-8 bytes of every encoded key and value: what S3 counts against its limit.
size_t WireMetadataSize(const Metadata& metadata);

// User metadata from response headers: every x-amz-meta-* header, the name after the
// prefix lower-cased and decoded (DecodeMetadataKey). The write tag is left out unless
// `keep_write_tag`.
Metadata MetadataFromHeaders(const HttpHeaders& headers, bool keep_write_tag = false);

// An RFC 9110 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") in milliseconds since the epoch.
std::optional<int64_t> ParseHttpDate(std::string_view text);

}  // namespace s3db::s3
