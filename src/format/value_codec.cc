#include "format/value_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "format/key_layout.h"
#include "s3db/json_limits.h"
#include "util/crypto_hash.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::format {

namespace {

using nlohmann::json;

constexpr char kStringTag = 's';
constexpr char kBase64Tag = 'b';
constexpr char kNumberTag = 'd';
constexpr char kTrueTag = 't';
constexpr char kFalseTag = 'f';
constexpr char kNullTag = 'z';
constexpr char kJsonTag = 'j';
constexpr char kDateTag = 'D';
constexpr char kSealedTag = 'E';
constexpr size_t kMinSealedBlob = 12 + 16;  // nonce + tag: even an empty secret has them

constexpr size_t kMaxQuotedChars = 40;

bool IsPrintableAscii(unsigned char c) { return c >= 0x20 && c <= 0x7E; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The offending text for an error message: short, and printable even when the text is not.
std::string QuoteValueForMessage(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxQuotedChars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (IsPrintableAscii(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  out.push_back('"');
  if (text.size() > kMaxQuotedChars) out += "...";
  return out;
}

Status Corrupt(std::string_view text, std::string_view what) {
  return Status(ErrorCode::kCorruption, fmt::format("bad value text {}: {}", QuoteValueForMessage(text), what));
}

// `s` payload: the byte itself where a header keeps it intact, %XX otherwise. A space at either
// end is escaped because S3 trims header values; '%' because it starts an escape.
bool KeptInString(std::string_view s, size_t i, unsigned char c) {
  const bool edge_space = c == ' ' && (i == 0 || i + 1 == s.size());
  return IsPrintableAscii(c) && c != '%' && !edge_space;
}

// JSON strings are UTF-8. nlohmann can hold other bytes; replace them the way its serializer
// does with error_handler_t::replace, so a top-level string and a nested one agree.
std::string ReplaceInvalidUtf8(const std::string& s) {
  const std::string quoted = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  return json::parse(quoted).get<std::string>();
}

std::string EncodeString(const std::string& s) {
  // The usual value, printable ASCII with nothing to escape, is its own payload: one scan
  // and one copy instead of the checks and the byte-by-byte escaping below.
  const bool plain = std::all_of(s.begin(), s.end(),
                                 [](char c) { return IsPrintableAscii(static_cast<unsigned char>(c)) && c != '%'; }) &&
                     (s.empty() || (s.front() != ' ' && s.back() != ' '));
  if (plain) {
    std::string out;
    out.reserve(1 + s.size());
    out += kStringTag;
    out += s;
    return out;
  }
  if (!util::IsValidUtf8(s)) return EncodeString(ReplaceInvalidUtf8(s));
  // Printable ASCII always stays readable as `s`, even where base64 would be shorter ("50%").
  // Other text goes to base64 only when that is strictly shorter, mostly non-Latin scripts at
  // 3 bytes a character (9 escaped, 4 in base64). Deterministic: one value, one encoding.
  const bool printable =
      std::all_of(s.begin(), s.end(), [](char c) { return IsPrintableAscii(static_cast<unsigned char>(c)); });
  if (!printable) {
    size_t escaped_size = s.size();
    for (size_t i = 0; i < s.size(); ++i) escaped_size += KeptInString(s, i, static_cast<unsigned char>(s[i])) ? 0 : 2;
    const size_t base64_size = 4 * ((s.size() + 2) / 3);
    if (base64_size < escaped_size) return kBase64Tag + util::Base64Encode(s);
  }
  std::string out(1, kStringTag);
  return util::PercentEncodeKeeping(
      s, [&s](size_t i, unsigned char c) { return KeptInString(s, i, c); }, std::move(out));
}

std::string EncodeContainer(const json& value) {
  // ensure_ascii turns everything outside ASCII (and DEL) into \uXXXX; control characters are
  // always escaped; without indentation there is no whitespace, and the text starts with [ or {.
  return kJsonTag + value.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

Result<json> DecodeString(std::string_view text, std::string_view payload) {
  // Without escapes the string is the payload, printable ASCII (DecodeValue checked), so
  // valid UTF-8 as it stands.
  if (payload.find('%') == std::string_view::npos) return json(std::string(payload));
  std::string decoded;
  decoded.reserve(payload.size());
  size_t i = 0;
  while (i < payload.size()) {
    const size_t escape = std::min(payload.find('%', i), payload.size());
    decoded.append(payload.substr(i, escape - i));  // the run up to the next escape, at once
    if (escape == payload.size()) break;
    const int hi = escape + 1 < payload.size() ? util::HexValue(payload[escape + 1]) : -1;
    const int lo = escape + 2 < payload.size() ? util::HexValue(payload[escape + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Corrupt(text, fmt::format("'%' at offset {} is not followed by two hex digits", escape + 1));
    }
    decoded.push_back(static_cast<char>(hi * 16 + lo));
    i = escape + 3;
  }
  if (!util::IsValidUtf8(decoded)) return Corrupt(text, "decoded string is not valid UTF-8");
  return json(std::move(decoded));
}

Result<json> DecodeBase64(std::string_view text, std::string_view payload) {
  std::string decoded;
  // Base64Decode rejects non-zero padding bits, so each string has one base64 spelling.
  if (!util::Base64Decode(payload, &decoded)) {
    return Corrupt(text, "payload is not canonical padded base64");
  }
  if (!util::IsValidUtf8(decoded)) return Corrupt(text, "decoded string is not valid UTF-8");
  return json(std::move(decoded));
}

Result<json> DecodeNumber(std::string_view text, std::string_view payload) {
  // nlohmann's parser skips leading whitespace; a JSON number starts with '-' or a digit.
  // (Trailing whitespace cannot reach here: DecodeValue already refused a trailing space.)
  if (payload.empty() || !(payload.front() == '-' || IsDigit(payload.front()))) {
    return Corrupt(text, "payload is not a JSON number");
  }
  // A canonical integer (-?(0|[1-9][0-9]*)) that fits 64 bits, the usual case, without the
  // JSON parser, typed as the parser types it: unsigned when not negative.
  const bool negative = payload.front() == '-';
  const std::string_view digits = payload.substr(negative ? 1 : 0);
  if (!digits.empty() && digits.size() <= 18 && (digits.front() != '0' || digits.size() == 1) &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return IsDigit(c); })) {
    uint64_t magnitude = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);  // 18 digits always fit
    if (!negative) return json(magnitude);
    if (magnitude != 0) return json(-static_cast<int64_t>(magnitude));
  }
  json number = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (!number.is_number()) {
    return Corrupt(text, "payload is not a JSON number (or is out of range)");
  }
  return number;
}

// An array of plain strings (["a","b"], []), the usual list field, read without the JSON
// parser; nullopt for anything else (escapes included), which the parser then reads. Within
// a `j` payload every byte is printable ASCII (DecodeValue checked), so the text between
// quotes needs no UTF-8 or control-character check.
std::optional<json> PlainStringArray(std::string_view payload) {
  if (payload.size() < 2 || payload.front() != '[' || payload.back() != ']') return std::nullopt;
  json array(json::value_t::array);  // json::array() would build it from an initializer list
  size_t i = 1;
  const size_t end = payload.size() - 1;
  if (i == end) return array;
  array.get_ref<json::array_t&>().reserve(1 + static_cast<size_t>(std::count(payload.begin(), payload.end(), ',')));
  while (true) {
    if (payload[i] != '"') return std::nullopt;
    const size_t close = payload.find_first_of("\"\\", i + 1);
    if (close == std::string_view::npos || close >= end || payload[close] != '"') return std::nullopt;
    array.push_back(std::string(payload.substr(i + 1, close - i - 1)));
    i = close + 1;
    if (i == end) return array;
    if (payload[i] != ',') return std::nullopt;
    ++i;
  }
}

Result<json> DecodeContainer(std::string_view text, std::string_view payload) {
  if (std::optional<json> plain = PlainStringArray(payload)) return std::move(*plain);
  if (JsonTextTooDeep(payload)) return Corrupt(text, "payload is " + TooDeepText());
  json value = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Corrupt(text, "payload is not valid JSON");
  if (!value.is_array() && !value.is_object()) {
    return Corrupt(text, "payload is not a JSON array or object");
  }
  return value;
}

Result<json> DecodeDate(std::string_view text, std::string_view payload) {
  const bool negative = !payload.empty() && payload.front() == '-';
  const std::optional<uint64_t> magnitude = FromBase36(negative ? payload.substr(1) : payload);
  if (!magnitude || (negative && *magnitude == 0)) {
    return Corrupt(text, "date payload is not canonical base36 milliseconds");
  }
  const bool in_range =
      negative ? *magnitude <= static_cast<uint64_t>(-kMinDateMs) : *magnitude <= static_cast<uint64_t>(kMaxDateMs);
  if (!in_range) return Corrupt(text, "date is outside years 0000..9999");
  const int64_t ms = negative ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude);
  return json(util::FormatIso8601Ms(ms));
}

}  // namespace

std::string EncodeDateMs(int64_t epoch_ms) {
  if (epoch_ms < 0) return std::string(1, kDateTag) + "-" + ToBase36(static_cast<uint64_t>(-epoch_ms));
  return kDateTag + ToBase36(static_cast<uint64_t>(epoch_ms));
}

std::string EncodeSealed(uint64_t key_id, std::string_view blob) {
  const std::string id = ToBase36(key_id);
  std::string text;
  text.reserve(2 + id.size() + 4 * ((blob.size() + 2) / 3));
  text += kSealedTag;
  text += id;
  text += ':';
  text += util::Base64Encode(blob);
  return text;
}

Result<SealedValue> DecodeSealed(std::string_view text) {
  if (text.empty() || text.front() != kSealedTag) return Corrupt(text, "not a sealed secret (tag 'E')");
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Corrupt(text, "sealed secret has no ':' after its key id");
  const std::optional<uint64_t> key_id = FromBase36(text.substr(1, colon - 1));
  if (!key_id || *key_id == 0) return Corrupt(text, "sealed secret key id is not canonical base36 >= 1");
  SealedValue out;
  out.key_id = *key_id;
  const std::string_view payload = text.substr(colon + 1);
  if (!util::Base64Decode(payload, &out.blob)) {
    return Corrupt(text, "sealed secret payload is not canonical padded base64");
  }
  if (out.blob.size() < kMinSealedBlob) return Corrupt(text, "sealed secret is shorter than nonce and tag");
  return out;
}

std::string EncodeValue(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return EncodeString(value.get_ref<const std::string&>());
    case json::value_t::boolean:
      return std::string(1, value.get<bool>() ? kTrueTag : kFalseTag);
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      char text[24] = {kNumberTag};  // the digits dump() writes, without its serializer
      const auto end = value.is_number_unsigned()
                           ? std::to_chars(text + 1, text + sizeof(text), value.get<uint64_t>()).ptr
                           : std::to_chars(text + 1, text + sizeof(text), value.get<int64_t>()).ptr;
      return std::string(text, end);
    }
    case json::value_t::number_float:
      // dump() writes NaN and Infinity as null; do the same rather than write "dnull".
      if (!std::isfinite(value.get<double>())) return std::string(1, kNullTag);
      return kNumberTag + value.dump();
    case json::value_t::array:
    case json::value_t::object:
    case json::value_t::binary:
      return EncodeContainer(value);
    case json::value_t::null:
    case json::value_t::discarded:  // a parse callback's "skip"; never a stored value
      return std::string(1, kNullTag);
  }
  return std::string(1, kNullTag);  // unreachable: the switch covers every value_t
}

Result<json> DecodeValue(std::string_view text) {
  if (text.empty()) return Corrupt(text, "empty text has no type tag");
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!IsPrintableAscii(c)) {
      return Corrupt(text, fmt::format("byte 0x{:02X} at offset {} is not printable ASCII", c, i));
    }
  }
  if (text.front() == ' ' || text.back() == ' ') {
    return Corrupt(text, "leading or trailing space (S3 would have trimmed it)");
  }
  const char tag = text.front();
  const std::string_view payload = text.substr(1);
  switch (tag) {
    case kStringTag:
      return DecodeString(text, payload);
    case kBase64Tag:
      return DecodeBase64(text, payload);
    case kNumberTag:
      return DecodeNumber(text, payload);
    case kJsonTag:
      return DecodeContainer(text, payload);
    case kDateTag:
      return DecodeDate(text, payload);
    case kSealedTag:
      return Corrupt(text, "tag 'E' is a sealed secret; only its field, with the database key, can open it");
    case kTrueTag:
    case kFalseTag:
    case kNullTag:
      if (!payload.empty()) return Corrupt(text, fmt::format("tag '{}' takes no payload", tag));
      if (tag == kNullTag) return json(nullptr);
      return json(tag == kTrueTag);
    default:
      return Corrupt(text, fmt::format("unknown type tag '{}'", tag));
  }
}

}  // namespace s3db::format
