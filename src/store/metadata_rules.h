// The request rules every ObjectStore enforces the same way (object_store.h's contract):
// key shape, user metadata shape and size, content type, ETags. MemoryStore and FileStore
// use them, and S3Store uses them before sending, so a codec mistake fails the same way on
// every backend instead of only in production.
//
// May call: util/ and the public headers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/object_store.h"

namespace s3db::store {

inline constexpr size_t kMaxObjectKeyBytes = 1024;
// A content type travels in one HTTP header; S3 caps all headers at 8 KB together.
inline constexpr size_t kMaxContentTypeBytes = 1024;
inline constexpr const char* kDefaultContentType = "application/octet-stream";

// 1..1024 bytes of well-formed UTF-8, else kInvalidArgument.
Status ValidateObjectKey(std::string_view key);

// Sum of the UTF-8 bytes of every key and value, as S3 counts it against its limit.
size_t MetadataSize(const Metadata& metadata);

// Lower-cases the keys and checks keys, values and the total size against `limit`.
// A bad key or value is kInvalidArgument; two keys equal after lower-casing are
// kInvalidArgument (S3 would merge them silently); over the limit is kMetadataTooLarge.
Result<Metadata> NormalizeMetadata(const Metadata& metadata, size_t limit);

// The quoted hex MD5 of the body, as S3 computes it for a single-part PUT.
std::string ComputeEtag(std::string_view body);

// ETags compared with surrounding quotes stripped on both sides (callers may pass either).
bool EtagsMatch(std::string_view a, std::string_view b);

// A Put request after validation: what a store writes besides the key and body.
struct ValidatedPut {
  Metadata metadata;         // lower-cased keys
  std::string content_type;  // the default when the request had none
  std::string etag;
};

// Checks everything about a Put that does not depend on the stored object: key, metadata,
// content type (printable ASCII and at most kMaxContentTypeBytes, as it travels in a
// header) and the preconditions.
Result<ValidatedPut> ValidatePut(const PutRequest& request, const Capabilities& capabilities);

// What a precondition needs to know about the object currently stored under the key.
// Returns kPreconditionFailed (naming the key) when `request`'s condition does not hold.
Status CheckPrecondition(const PutRequest& request, const std::string* current_etag);

// The same for ObjectStore::DeleteIfMatch: kNotFound when there is no object (current_etag
// null), kPreconditionFailed when its ETag is not `etag`; both name the key.
Status CheckDeletePrecondition(const std::string& key, const std::string& etag, const std::string* current_etag);

}  // namespace s3db::store
