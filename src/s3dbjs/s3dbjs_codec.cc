#include "s3dbjs/s3dbjs_codec.h"

#include <cmath>
#include <cstdlib>
#include <map>

#include "util/crypto_hash.h"
#include "util/secret_cipher.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::s3dbjs {
namespace {

// The "d:" dictionary of 21.6.2: one-letter codes of content types and statuses (a status
// wins where both use a letter: "d:f" reads as "failed", though "font/woff2" wrote it),
// and "@x" codes of URL prefixes followed by the rest of the value.
const std::map<std::string, std::string>& ExactCodes() {
  static const auto* codes = new std::map<std::string, std::string>{
      {"j", "application/json"},
      {"X", "application/xml"},
      {"J", "application/ld+json"},
      {"H", "text/html"},
      {"T", "text/plain"},
      {"C", "text/css"},
      {"V", "text/javascript"},
      {"v", "text/csv"},
      {"P", "image/png"},
      {"I", "image/jpeg"},
      {"G", "image/gif"},
      {"S", "image/svg+xml"},
      {"W", "image/webp"},
      {"Q", "application/pdf"},
      {"z", "application/zip"},
      {"o", "application/octet-stream"},
      {"u", "application/x-www-form-urlencoded"},
      {"F", "multipart/form-data"},
      {"w", "font/woff"},
      // statuses, after the content types: they take the letters both use
      {"p", "processing"},
      {"c", "completed"},
      {"s", "succeeded"},
      {"f", "failed"},
      {"x", "cancelled"},
      {"t", "timeout"},
      {"r", "retrying"},
      {"a", "authorized"},
      {"K", "captured"},
      {"R", "refunded"},
      {"d", "declined"},
      {"h", "shipped"},
      {"D", "delivered"},
      {"e", "returned"},
      {"i", "in_transit"},
      {"n", "initialized"},
      {"m", "terminated"},
  };
  return *codes;
}

const std::map<std::string, std::string>& PrefixCodes() {
  static const auto* codes = new std::map<std::string, std::string>{
      {"@1", "/api/v1/"},
      {"@2", "/api/v2/"},
      {"@3", "/api/v3/"},
      {"@a", "/api/"},
      {"@A", "https://api.example.com/"},
      {"@H", "https://api."},
      {"@W", "https://www."},
      {"@h", "https://"},
      {"@t", "http://"},
      {"@s", "https://s3.amazonaws.com/"},
      {"@S", "https://s3-"},
      {"@L", "http://localhost:"},
      {"@l", "http://localhost"},
      {"@v", "/v1/"},
      {"@u", "/users/"},
      {"@p", "/products/"},
  };
  return *codes;
}

std::optional<std::string> DictionaryDecode(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  if (payload.size() == 1) {
    auto it = ExactCodes().find(std::string(payload));
    if (it != ExactCodes().end()) return it->second;
  }
  if (payload.size() >= 2 && payload[0] == '@') {
    auto it = PrefixCodes().find(std::string(payload.substr(0, 2)));
    if (it != PrefixCodes().end()) return it->second + std::string(payload.substr(2));
  }
  return std::nullopt;
}

int Base62Digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 36;
  return -1;
}

constexpr uint32_t kPbkdf2Iterations = 100000;
constexpr size_t kSaltBytes = 16;

}  // namespace

JsValue DecodeMetadataValue(std::string_view stored) {
  if (stored == "null") return JsValue::Null();
  if (stored == "undefined") return JsValue::Undefined();
  std::string text(stored);
  if (util::StartsWith(stored, "d:")) {
    if (auto decoded = DictionaryDecode(stored.substr(2))) return {JsValue::Kind::kString, *decoded};
  }
  // "z:"/"z85:" (deflated text) are written only by the text|compress type, which the
  // catalog reader refuses; a value that merely starts so was stored as "b:".
  if (stored.size() > 2 && stored[1] == ':') {
    std::string out;
    if (stored[0] == 'u' && util::PercentDecode(stored.substr(2), &out) && util::IsValidUtf8(out)) {
      return {JsValue::Kind::kString, out};
    }
    if (stored[0] == 'b' && util::Base64Decode(stored.substr(2), &out)) return {JsValue::Kind::kString, out};
  }
  return {JsValue::Kind::kString, std::move(text)};
}

std::optional<double> DecodeBase62(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  double r = 0;
  for (char c : text) {
    const int digit = Base62Digit(c);
    if (digit < 0) return std::nullopt;
    r = r * 62 + digit;
  }
  return negative ? -r : r;
}

std::optional<double> DecodeBase62Decimal(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::optional<double> whole = DecodeBase62(text.substr(0, dot));
  if (!whole) return std::nullopt;
  double value = *whole;
  if (dot != std::string_view::npos) {
    // Number(int + "." + digits): the digits as written, an exponent included ("1.5e+21").
    std::string_view rest = text.substr(dot + 1);
    size_t end = rest.find('.');
    if (end != std::string_view::npos) rest = rest.substr(0, end);  // split('.')[1]
    if (!rest.empty()) {
      char buffer[64];
      const int n = std::snprintf(buffer, sizeof buffer, "%.17g", *whole);
      std::string joined(buffer, static_cast<size_t>(n));
      joined += '.';
      joined += rest;
      char* stop = nullptr;
      value = std::strtod(joined.c_str(), &stop);
      if (stop != joined.c_str() + joined.size()) return std::nullopt;
    }
  }
  return negative ? -value : value;
}

Json NumberJson(double value) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (std::isfinite(value) && std::floor(value) == value && std::fabs(value) < kExact &&
      !(value == 0 && std::signbit(value))) {
    return static_cast<int64_t>(value);
  }
  if (value == 0) return 0;  // JavaScript's -0 prints as 0
  return value;
}

std::vector<std::string> SplitArray(std::string_view text) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  std::string current;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      current += text[++i];
    } else if (text[i] == '|') {
      items.push_back(std::move(current));
      current.clear();
    } else {
      current += text[i];
    }
  }
  items.push_back(std::move(current));
  return items;
}

std::optional<std::string> IsoFromEpochMs(double ms) {
  constexpr double kYear10000 = 253402300800000.0;
  constexpr double kYear0 = -62167219200000.0;
  if (!std::isfinite(ms) || ms < kYear0 || ms >= kYear10000) return std::nullopt;
  return util::FormatIso8601Ms(static_cast<int64_t>(std::floor(ms)));
}

std::optional<std::string> DecryptSecret(std::string_view stored, std::string_view passphrase) {
  std::string blob;
  if (!util::Base64Decode(stored, &blob)) return std::nullopt;
  if (blob.size() < kSaltBytes + util::kGcmNonceBytes + util::kGcmTagBytes) return std::nullopt;
  const std::string_view all(blob);
  std::string key =
      util::Pbkdf2HmacSha256(passphrase, all.substr(0, kSaltBytes), kPbkdf2Iterations, util::kAes256KeyBytes);
  std::optional<std::string> plain = util::Aes256GcmOpen(key, all.substr(kSaltBytes, util::kGcmNonceBytes), "",
                                                         all.substr(kSaltBytes + util::kGcmNonceBytes));
  util::Wipe(&key);
  return plain;
}

}  // namespace s3db::s3dbjs
