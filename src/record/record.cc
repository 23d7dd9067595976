#include "s3db/record.h"

#include "util/time_format.h"

namespace s3db {

Json Record::ToJson(bool with_meta) const {
  Json out = data.is_object() ? data : Json::object();
  out["id"] = id;
  if (with_meta) {
    out["_etag"] = etag;
    out["_lastModified"] = util::FormatIso8601Ms(last_modified_ms);
    out["_v"] = schema_version;
    if (!truncated.empty()) out["_truncated"] = truncated;
  }
  return out;
}

}  // namespace s3db
