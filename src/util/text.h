// Small text helpers shared by the layers: UTF-8 checks and RFC 3986 percent-encoding.
//
// May call: the standard library, OpenSSL, RE2 and s3db/errors.h; nothing else of s3db.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::util {

// Well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// RFC 3986 unreserved characters: A-Z a-z 0-9 - . _ ~
bool IsUnreserved(unsigned char c);

// Percent-encodes (upper-case hex: "%2F") every byte of `s` that `keep(index, byte)` does not
// keep, appended to `out`. The encoders below, the value codec's and the S3 cache's keys
// differ only in `keep`.
template <typename Keep>
std::string PercentEncodeKeeping(std::string_view s, Keep keep, std::string out = {}) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.reserve(out.size() + s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (keep(i, c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Percent-encodes every byte outside the unreserved set (upper-case hex: "%2F").
std::string PercentEncode(std::string_view s);
// Like PercentEncode but keeps '/' (S3 object key paths in URLs).
std::string PercentEncodePath(std::string_view s);
// Decodes %XX escapes; false on a malformed escape. '+' stays '+'.
bool PercentDecode(std::string_view s, std::string* out);
// The value of a hex digit, either case ('a' and 'A' are 10); -1 for any other character.
int HexValue(char c);

std::string ToLower(std::string_view s);
// The pieces between `sep`s: "a.b" -> {"a", "b"}, "" -> {""}.
std::vector<std::string> Split(std::string_view s, char sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// A C0 control character or DEL: never part of a name, id, path or prefix a user typed.
inline bool IsAsciiControl(unsigned char c) { return c < 0x20 || c == 0x7F; }
// `s` without leading and trailing spaces, tabs, CRs and LFs.
std::string_view TrimAsciiWhitespace(std::string_view s);

}  // namespace s3db::util
