// The value encodings of s3db.js 21.x, read-only: what its S3 client does to every metadata
// value (metadataDecode: the "null"/"undefined" literals, "u:", "b:", the "d:" dictionary),
// its base62 numbers, its '|'-joined arrays, and its AES-GCM secrets. The facts come from
// s3db.js 21.6.2 (docs/MIGRATE.md "How an s3db.js bucket is read"); none of its code.
//
// May call: util/, the public headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3db/record.h"

namespace s3db::s3dbjs {

// What metadataDecode gives: a string, or JavaScript's null or undefined.
struct JsValue {
  enum class Kind { kString, kNull, kUndefined };
  Kind kind = Kind::kString;
  std::string text;

  static JsValue Null() { return {Kind::kNull, {}}; }
  static JsValue Undefined() { return {Kind::kUndefined, {}}; }
  bool is_string() const { return kind == Kind::kString; }
};

// A stored metadata value as s3db.js's client reads it back. A malformed "u:" or "b:" payload
// stays as written, as s3db.js leaves it.
JsValue DecodeMetadataValue(std::string_view stored);

// base62 over 0-9a-zA-Z with an optional '-', in double arithmetic as JavaScript computes it;
// nullopt for any other character. "" is 0.
std::optional<double> DecodeBase62(std::string_view text);
// encodeDecimal's text: base62 integer part, then '.' and the decimal digits as written.
std::optional<double> DecodeBase62Decimal(std::string_view text);
// A JavaScript number as JSON: an integer when it is one that a double holds exactly.
Json NumberJson(double value);

// The '|'-joined array with '\' escapes ("" is []).
std::vector<std::string> SplitArray(std::string_view text);

// ISO 8601 with milliseconds ("2024-03-01T12:34:56.789Z") of epoch milliseconds, as
// Date.prototype.toISOString writes it for years 0..9999; nullopt outside them.
std::optional<std::string> IsoFromEpochMs(double ms);

// s3db.js's secret: base64(salt16 | iv12 | ciphertext | tag16), AES-256-GCM under
// PBKDF2-HMAC-SHA256(passphrase, salt, 100000 iterations). nullopt when the text is not such
// a blob or the passphrase does not open it.
std::optional<std::string> DecryptSecret(std::string_view stored, std::string_view passphrase);

}  // namespace s3db::s3dbjs
