// Record: what every read returns, the data plus the facts about the object that holds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "s3db/json.h"

namespace s3db {

struct Record {
  std::string id;
  Json data = Json::object();  // the fields, without "id"
  std::string etag;            // of the object as read or written (quoted, as S3 gives it)
  int64_t last_modified_ms = 0;
  int schema_version = 0;      // the resource version whose schema wrote this record
  // Behavior truncate-data: the fields (dot paths) that were shortened to fit the metadata
  // budget when this record was written. Empty otherwise.
  std::vector<std::string> truncated;

  // The fields plus "id"; with_meta adds "_etag", "_lastModified" (ISO 8601) and "_v", and
  // "_truncated" (the list above) when it is not empty.
  Json ToJson(bool with_meta = false) const;
};

}  // namespace s3db
