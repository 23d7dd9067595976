#include "util/time_format.h"

#include <chrono>
#include <cstdio>

namespace s3db::util {
namespace {

// Howard Hinnant's days_from_civil: proleptic Gregorian date -> days since 1970-01-01.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

unsigned DaysInMonth(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatIso8601Ms(int64_t epoch_ms) {
  using namespace std::chrono;
  sys_time<milliseconds> tp{milliseconds{epoch_ms}};
  auto day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> hms{tp - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // outside four digits: rare, let printf widen and sign it
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return buf;
  }
  // Every record write stamps two of these and every read of a date field formats one:
  // digits by hand, because snprintf's format parsing costs more than the rest together.
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t end, unsigned value, int width) {
    for (int i = 1; i <= width; ++i, value /= 10)
      out[end - static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(4, static_cast<unsigned>(year), 4);
  put(7, static_cast<unsigned>(ymd.month()), 2);
  put(10, static_cast<unsigned>(ymd.day()), 2);
  put(13, static_cast<unsigned>(hms.hours().count()), 2);
  put(16, static_cast<unsigned>(hms.minutes().count()), 2);
  put(19, static_cast<unsigned>(hms.seconds().count()), 2);
  put(23, static_cast<unsigned>(hms.subseconds().count()), 3);
  return out;
}

std::optional<int64_t> ParseCanonicalIso8601Ms(std::string_view s) {
  static constexpr std::string_view kLayout = "0000-00-00T00:00:00.000Z";  // 0: a digit
  if (s.size() != kLayout.size()) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    if (kLayout[i] == '0' ? s[i] < '0' || s[i] > '9' : s[i] != kLayout[i]) return std::nullopt;
  }
  return ParseIso8601Ms(s);  // the ranges: month, day of month, hour, ...
}

bool IsCanonicalIso8601Ms(std::string_view s) { return ParseCanonicalIso8601Ms(s).has_value(); }

std::optional<int64_t> ParseIso8601Ms(std::string_view s) {
  int y, mo, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo)) return std::nullopt;
  int64_t ms = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400000;
  if (s.size() == 10) return ms;
  int h, mi, se;
  if (s.size() < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se)) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || se > 59) return std::nullopt;
  ms += (static_cast<int64_t>(h) * 3600 + mi * 60 + se) * 1000;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0, scale = 100;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    ms += frac;  // digits past milliseconds are dropped
  }
  if (pos == s.size()) return std::nullopt;  // a time needs a zone: never guess local time
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) return ms;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  int oh, om;
  if (s.size() != pos + 6 || !Digits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
      oh > 23 || om > 59) {
    return std::nullopt;
  }
  int64_t offset = (static_cast<int64_t>(oh) * 60 + om) * 60000;
  return s[pos] == '+' ? ms - offset : ms + offset;
}

}  // namespace s3db::util
