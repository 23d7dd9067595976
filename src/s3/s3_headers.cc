#include "s3/s3_headers.h"

#include <chrono>

#include "util/text.h"

namespace s3db::s3 {

std::string EncodeMetadataKey(std::string_view key) {
  std::string wire;
  wire.reserve(key.size() + 2);
  for (char c : key) {
    if (c == '-') {
      wire += "--";
    } else if (c == '_') {
      wire += "-u";
    } else {
      wire.push_back(c);
    }
  }
  return wire;
}

std::optional<std::string> DecodeMetadataKey(std::string_view wire) {
  std::string key;
  key.reserve(wire.size());
  for (size_t i = 0; i < wire.size(); ++i) {
    if (wire[i] == '_') return std::nullopt;  // EncodeMetadataKey never writes one raw
    if (wire[i] != '-') {
      key.push_back(wire[i]);
      continue;
    }
    if (i + 1 >= wire.size()) return std::nullopt;
    char next = wire[++i];
    if (next == '-') {
      key.push_back('-');
    } else if (next == 'u') {
      key.push_back('_');
    } else {
      return std::nullopt;
    }
  }
  return key;
}

size_t WireMetadataSize(const Metadata& metadata) {
  size_t total = 0;
  for (const auto& [key, value] : metadata) total += EncodeMetadataKey(key).size() + value.size();
  return total;
}

Metadata MetadataFromHeaders(const HttpHeaders& headers, bool keep_write_tag) {
  Metadata metadata;
  for (const auto& [name, value] : headers) {
    std::string lower = util::ToLower(name);
    if (!util::StartsWith(lower, kMetaPrefix)) continue;
    std::string wire = lower.substr(kMetaPrefix.size());
    if (wire.empty()) continue;
    std::string key = DecodeMetadataKey(wire).value_or(wire);
    if (!keep_write_tag && key == kWriteTagKey) continue;
    metadata[key] = value;
  }
  return metadata;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  using namespace std::chrono;
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (text.size() != 29 || text[3] != ',' || text.substr(25) != " GMT") return std::nullopt;
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto number = [&](size_t pos, size_t len, int* out) {
    int value = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    *out = value;
    return true;
  };
  int d = 0, y = 0, h = 0, mi = 0, s = 0;
  if (!number(5, 2, &d) || !number(12, 4, &y) || !number(17, 2, &h) || !number(20, 2, &mi) || !number(23, 2, &s) ||
      text[19] != ':' || text[22] != ':') {
    return std::nullopt;
  }
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = i + 1;
  }
  const year_month_day ymd{year{y}, std::chrono::month{month}, day{static_cast<unsigned>(d)}};
  if (month == 0 || !ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t secs = sys_days(ymd).time_since_epoch() / seconds(1) + h * 3600 + mi * 60 + s;
  return secs * 1000;
}

}  // namespace s3db::s3
