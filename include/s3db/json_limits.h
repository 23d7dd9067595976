// How deep JSON may nest. nlohmann's parser is iterative, but copying, comparing and dumping
// a value recurse once per level, as do validation and encoding: a value nested ~70,000 deep
// (from a file, from a bucket another writer filled, from a caller's Json) overflows the
// stack. Every way into s3db is capped at kMaxJsonDepth instead, with an error that says so:
// Resource calls throw InvalidArgument, a resource definition InvalidSchema, a stored record
// or catalog Corruption. A program that parses outside text itself can check it first with
// JsonTextTooDeep, as the s3db command does.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "s3db/export.h"

namespace s3db {

// Arrays and objects inside each other, the outermost counting 1. MongoDB allows 100 too.
inline constexpr size_t kMaxJsonDepth = 100;

// "nested deeper than 100 levels", for messages.
S3DB_EXPORT std::string TooDeepText();

// The nesting of JSON text, counted up to `limit` + 1 and no further: a linear scan that skips
// strings, cheaper than the parser's callback form on the hot path (every record read) and
// valid for any text (a malformed one gets its depth so far; the parser reports the rest).
S3DB_EXPORT size_t JsonTextDepth(std::string_view text, size_t limit = kMaxJsonDepth);

// The nesting of a value, counted up to `limit` + 1 without recursion.
S3DB_EXPORT size_t JsonValueDepth(const nlohmann::json& value, size_t limit = kMaxJsonDepth);

inline bool JsonTextTooDeep(std::string_view text) { return JsonTextDepth(text) > kMaxJsonDepth; }
inline bool JsonValueTooDeep(const nlohmann::json& value) { return JsonValueDepth(value) > kMaxJsonDepth; }

// JSON never holds a raw NUL byte (in a string it is written \u0000), but nlohmann's parser
// takes one for the end of the input and accepts "{}\0anything", the rest unread. These two
// are its parse and accept with that fixed: a text holding a NUL is discarded, not accepted.
S3DB_EXPORT nlohmann::json ParseJsonOrDiscarded(std::string_view text);
S3DB_EXPORT bool JsonTextAccepted(std::string_view text);

}  // namespace s3db
