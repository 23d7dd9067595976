// UTC timestamps as ISO 8601 text with milliseconds ("2024-06-27T12:34:56.789Z").
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::util {

int64_t NowMs();
std::string FormatIso8601Ms(int64_t epoch_ms);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.fff...]" with "Z" or "+HH:MM"/"-HH:MM".
std::optional<int64_t> ParseIso8601Ms(std::string_view text);
// Whether `text` is exactly what FormatIso8601Ms writes for some instant of years 0000..9999
// ("2024-03-01T12:34:56.789Z"): checked without formatting, for the writes that stamp and
// re-check dates.
bool IsCanonicalIso8601Ms(std::string_view text);
// The instant of a canonical text (IsCanonicalIso8601Ms), parsed once; nullopt for any other
// text. For the callers that need both the check and the instant.
std::optional<int64_t> ParseCanonicalIso8601Ms(std::string_view text);

}  // namespace s3db::util
