// s3db.js attribute rules: how each field is stored (which decoder reads it) and its
// translation to s3db's rule language, with what cannot be translated listed.
//
// May call: util/, the public headers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "s3db/record.h"
#include "s3db/s3dbjs.h"

namespace s3db::s3dbjs {

// How s3db.js 21.6.2 stores a field, decided from its rule text as s3db.js decides it.
enum class FieldKind {
  kPlain,          // strings and everything without a codec: JSON text is parsed back
  kNumber,         // base62 integer part + '.' + decimals
  kInteger,        // base62
  kBoolean,        // "1"/"0"
  kDatetime,       // base62 epoch ms -> ISO 8601
  kDateonly,       // base62 days -> YYYY-MM-DD
  kTimeonly,       // base62 ms of day -> HH:MM:SS.mmm
  kUuid,           // 4 x 6 base62 chunks
  kStringArray,    // '|'-joined, '\' escapes
  kNumberArray,    // '|'-joined decimals
  kIntegerArray,   // '|'-joined base62 integers
  kJson,           // JSON text
  kSecret,         // AES-GCM blob
  kUntranslatable  // no codec here (reported)
};

struct FieldSpec {
  FieldKind kind = FieldKind::kPlain;
  std::string rule;  // as declared
};

struct TranslatedSchema {
  std::map<std::string, FieldSpec> fields;  // dotted leaf path -> spec
  Json attributes = Json::object();         // ours
  std::vector<S3dbJsUntranslatable> untranslatable;
};

// Translates a version entry's attributes. `timestamps` leaves createdAt/updatedAt to
// s3db's own timestamps (they are still read as datetimes).
TranslatedSchema TranslateAttributes(const Json& attributes, bool timestamps);

}  // namespace s3db::s3dbjs
