// The text formats of the rule types: email, url, uuid and currency amounts.
#include "schema/value_formats.h"

#include <cctype>
#include <cmath>
#include <string_view>
#include <vector>

#include "util/text.h"

namespace s3db::core::rules {

bool IsEmail(const std::string& s) {
  const size_t at = s.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= s.size() || s.size() > 254) return false;
  if (s.find_first_of(" \t\r\n\"(),:;<>[\\]") != std::string::npos) return false;
  if (s.find('@') != at) return false;
  // Views, not copies: every record with an email field runs this on each write.
  const std::string_view text(s), local = text.substr(0, at), domain = text.substr(at + 1);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  // The domain: dot-separated labels of letters, digits and '-', at least two of them.
  if (domain.find('.') == std::string_view::npos) return false;
  for (size_t start = 0;;) {
    const size_t dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label) {
      if (!(std::isalnum(c) || c == '-' || c >= 0x80)) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsUrl(const std::string& s) {
  for (const char* scheme : {"http://", "https://"}) {
    const std::string prefix(scheme);
    if (s.size() > prefix.size() && util::ToLower(s.substr(0, prefix.size())) == prefix) {
      const std::string rest = s.substr(prefix.size());
      const size_t host_end = rest.find_first_of("/?#");
      const std::string host = rest.substr(0, host_end);
      return !host.empty() && host.front() != '.' && host.front() != ':' &&
             s.find_first_of(" \t\r\n<>\"{}|\\^`") == std::string::npos;
    }
  }
  return false;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::optional<Json> ParseCurrencyText(const std::string& text, const std::string& symbol) {
  std::string s = Trim(text);
  bool negative = false;
  auto take = [&](const std::string& prefix) {
    if (!prefix.empty() && s.compare(0, prefix.size(), prefix) == 0) {
      s = s.substr(prefix.size());
      return true;
    }
    return false;
  };
  if (take("-")) negative = true;
  const bool had_symbol = take(symbol);
  if (!negative && take("-")) negative = true;
  if (!had_symbol && !symbol.empty()) take(symbol);
  const size_t dot = s.find('.');
  std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string::npos && frac.empty())) return std::nullopt;
  for (char c : frac) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (whole.find(',') != std::string::npos) {
    const std::vector<std::string> groups = util::Split(whole, ',');
    if (groups[0].empty() || groups[0].size() > 3) return std::nullopt;
    for (size_t i = 1; i < groups.size(); ++i) {
      if (groups[i].size() != 3) return std::nullopt;
    }
    whole.clear();
    for (const auto& g : groups) whole += g;
  }
  for (char c : whole) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (whole.size() > 1 && whole[0] == '0') return std::nullopt;
  const std::string canonical = (negative ? "-" : "") + whole + (frac.empty() ? "" : "." + frac);
  Json v = Json::parse(canonical, nullptr, false);
  if (!v.is_number() || (v.is_number_float() && !std::isfinite(v.get<double>()))) return std::nullopt;
  return v;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace s3db::core::rules
