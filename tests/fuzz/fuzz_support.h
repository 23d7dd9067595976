// What every fuzz target shares: how a broken promise is reported, and the rule that a parser
// of outside input fails only with s3db's typed errors.
//
// A broken invariant prints what broke and aborts, which libFuzzer records as a crash and
// saves the input (crash-<sha1>); scripts/fuzz.sh then fails. A target's input is bytes, so
// every target treats it as text of any content (NULs and invalid UTF-8 included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include <nlohmann/json.hpp>

#include "s3db/errors.h"

namespace s3db_fuzz {

// Bytes outside printable ASCII (NUL included) as \xNN, so a message shows all of its input.
[[noreturn]] inline void Broken(const std::string& what) {
  std::string shown;
  for (unsigned char c : what) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      shown.push_back(static_cast<char>(c));
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
      shown += escaped;
    }
  }
  std::fprintf(stderr, "\n== fuzz invariant broken: %s\n", shown.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void Check(bool condition, const std::string& what) {
  if (!condition) Broken(what);
}

inline std::string Text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `parse`, which may fail only with an s3db::Error (the typed errors of errors.h): true
// when it failed so, with the error's text in `message`; any other exception is a bug.
template <typename Parse>
bool FailsOnlyTyped(const char* what, Parse&& parse, std::string* message = nullptr) {
  try {
    parse();
    return false;
  } catch (const s3db::Error& error) {
    if (message != nullptr) *message = error.what();
    return true;
  } catch (const std::exception& error) {
    Broken(std::string(what) + " threw " + typeid(error).name() + " (not an s3db::Error): " + error.what());
  }
}

// The input split at the first occurrence of `separator`: {before, after}; all of it is
// `before` when there is none.
inline std::pair<std::string_view, std::string_view> SplitAt(std::string_view text, std::string_view separator) {
  const size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, std::string_view()};
  return {text.substr(0, at), text.substr(at + separator.size())};
}

}  // namespace s3db_fuzz

namespace s3db_fuzz {

// The same JSON value, as the golden tests compare (tests/support/json_lines.h), except that a
// whole number may be signed on one side and unsigned on the other (the value codec reads
// non-negative integers back unsigned, docs/FORMAT.md): floats are compared bit for bit, and
// a float never equals an integer.
inline bool SameJson(const nlohmann::json& a, const nlohmann::json& b) {
  using json = nlohmann::json;
  if (a.is_number_integer() && b.is_number_integer()) return a == b;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::number_float: {
      const double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!SameJson(a[i], b[i])) return false;
      }
      return true;
    case json::value_t::object:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt) {
        if (it.key() != jt.key() || !SameJson(*it, *jt)) return false;
      }
      return true;
    default:
      return a == b;
  }
}

}  // namespace s3db_fuzz
