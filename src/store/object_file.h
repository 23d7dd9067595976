// The on-disk form of one FileStore object: a header line of JSON {"v","etag",
// "content_type","last_modified_ms","size","metadata"}, then '\n', then the body bytes, so
// one rename publishes metadata and body together. Readers here check the file length
// against the header, so a truncated file is reported as corrupt, never served.
// Calls posix_file.h only; where the file lives is file_key_codec.h's business.
//
// May call: util/ and the public headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "s3db/errors.h"
#include "s3db/object_store.h"

namespace s3db::store {

struct ObjectHeader {
  std::string etag;
  std::string content_type;
  int64_t last_modified_ms = 0;
  uint64_t size = 0;
  Metadata metadata;
};

// The header line, '\n' included.
std::string SerializeHeader(const ObjectHeader& header);

// Reads the header of the object file at `path`; kNotFound (naming `key`) when there is
// none, kCorruption when it is not one of ours or its length disagrees.
Result<ObjectHeader> ReadHeader(const std::string& path, const std::string& key);

// Reads the whole object file at `path`: its info and body. Errors as ReadHeader.
Result<GetResult> ReadObject(const std::string& path, const std::string& key);

ObjectInfo InfoFrom(const std::string& key, ObjectHeader header);

}  // namespace s3db::store
