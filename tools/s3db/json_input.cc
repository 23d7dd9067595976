#include "json_input.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <utility>

#include "output.h"
#include "s3db/database.h"
#include "s3db/errors.h"
#include "s3db/json_limits.h"

namespace s3db_cli {
namespace {

// "parse error at line 1, column 5: ..." reads as "at column 5" for one-line input, so the
// line number of a JSON-lines file is the only one in the message. The parser's "; last read:
// '...'" quotes the input, which may be a secret field's value: it is never shown.
std::string ParseProblem(const s3db::Json::exception& error) {
  std::string problem = WithoutJsonExceptionTag(error.what());
  static constexpr std::string_view kFirstLine = " at line 1, column ";
  if (const size_t at = problem.find(kFirstLine); at != std::string::npos) {
    problem.replace(at, kFirstLine.size(), " at column ");
  }
  if (const size_t at = problem.find("; last read: "); at != std::string::npos) problem.erase(at);
  return problem;
}

// Why JSON text is refused before the parser sees it, or empty: nested too deep for what
// handles it next, or a NUL byte, which the parser would take for the end of the input
// (s3db/json_limits.h).
std::string RefusedBeforeParsing(const std::string& text) {
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    return "a NUL byte at byte " + std::to_string(nul + 1);
  }
  if (s3db::JsonTextTooDeep(text)) return s3db::TooDeepText();
  return "";
}

s3db::Json ParseBounded(const std::string& text) {
  if (std::string why = RefusedBeforeParsing(text); !why.empty()) throw s3db::InvalidArgument(why);
  return s3db::Json::parse(text);
}

std::string ObjectExpected(const s3db::Json& value) {
  return std::string("expected a JSON object, got ") + value.type_name();
}

// The parser skips a UTF-8 BOM at the start of each text it is given, on every line.
bool StartsWithBom(const std::string& text) { return text.rfind("\xEF\xBB\xBF", 0) == 0; }

bool IsBlank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

}  // namespace

std::string WithoutJsonExceptionTag(std::string message) {
  if (message.rfind("[json.exception.", 0) == 0) {
    const size_t end = message.find("] ");
    if (end != std::string::npos) message.erase(0, end + 2);
  }
  return message;
}

s3db::Json ParseJson(const std::string& text, const std::string& what) {
  try {
    return ParseBounded(text);
  } catch (const s3db::Json::exception& error) {  // parse_error; out_of_range for 1e999
    throw s3db::InvalidArgument(what + ": invalid JSON: " + ParseProblem(error));
  } catch (const s3db::InvalidArgument& error) {
    throw s3db::InvalidArgument(what + ": invalid JSON: " + error.what());
  }
}

s3db::Json ParseJsonObject(const std::string& text, const std::string& what) {
  s3db::Json value = ParseJson(text, what);
  if (!value.is_object()) throw s3db::InvalidArgument(what + ": " + ObjectExpected(value));
  return value;
}

s3db::Json ReadJsonFile(const std::string& path) {
  // A schema file is small: a bound keeps /dev/zero or a wrong path from taking the memory.
  constexpr size_t kMaxBytes = size_t{16} << 20;
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw s3db::InvalidArgument("cannot read " + path + ": a directory");
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw s3db::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  }
  std::optional<std::string> text = ReadAtMost(file, kMaxBytes);
  if (!text) throw s3db::InvalidArgument("cannot read " + path + ": larger than 16 MiB");
  if (file.bad()) {
    throw s3db::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  }
  return ParseJson(*text, path);
}

std::optional<std::string> ReadAtMost(std::istream& in, size_t max_bytes) {
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) return std::nullopt;
  }
  return text;
}

JsonLineReader::JsonLineReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {}

std::optional<JsonLineReader::Line> JsonLineReader::NextLine(bool keep_value) {
  std::string text;
  while (std::getline(in_, text)) {
    bytes_read_ += text.size() + 1;
    ++line_number_;
    if (line_number_ == 1 && StartsWithBom(text)) text.erase(0, 3);
    if (IsBlank(text)) continue;
    Line line;
    line.line_number = line_number_;
    try {
      if (std::string why = RefusedBeforeParsing(text); !why.empty()) {
        line.problem = "invalid JSON: " + why;
      } else if (keep_value) {
        line.value = s3db::Json::parse(text);
        if (!line.value.is_object()) line.problem = ObjectExpected(line.value);
      } else if (!s3db::Json::accept(text)) {
        line.value = s3db::Json::parse(text);  // throws the parse error that names the problem
      } else if (text[text.find_first_not_of(" \t\r", StartsWithBom(text) ? 3 : 0)] != '{') {
        line.problem = ObjectExpected(s3db::Json::parse(text));
      }
    } catch (const s3db::Json::exception& error) {  // parse_error; out_of_range for 1e999
      line.problem = "invalid JSON: " + ParseProblem(error);
    }
    return line;
  }
  if (in_.bad()) {
    throw s3db::InvalidArgument("cannot read " + source_ + ": " + std::strerror(errno));
  }
  return std::nullopt;
}

std::optional<JsonLine> JsonLineReader::Next() {
  std::optional<Line> line = NextLine(/*keep_value=*/true);
  if (!line) return std::nullopt;
  if (!line->problem.empty()) {
    throw s3db::InvalidArgument(source_ + " line " + std::to_string(line->line_number) + ": " + line->problem);
  }
  return JsonLine{line->line_number, std::move(line->value)};
}

void JsonLineReader::ReadAll(std::vector<JsonLine>* lines) {
  std::string first_problem;
  std::vector<size_t> bad_lines;
  while (std::optional<Line> line = NextLine(/*keep_value=*/lines != nullptr)) {
    if (line->problem.empty()) {
      if (lines != nullptr) lines->push_back({line->line_number, std::move(line->value)});
      continue;
    }
    if (bad_lines.empty()) first_problem = line->problem;
    bad_lines.push_back(line->line_number);
  }
  if (!bad_lines.empty()) {
    throw s3db::InvalidArgument(
        BadLinesMessage(source_ + " line " + std::to_string(bad_lines.front()) + ": " + first_problem,
                        std::vector<size_t>(bad_lines.begin() + 1, bad_lines.end()), bad_lines.size() - 1));
  }
}

std::string BadLinesMessage(const std::string& first, const std::vector<size_t>& other_lines, size_t others) {
  std::string message = first;
  if (others == 0) return message;
  message += " (" + std::to_string(others) + " more bad lines:";
  size_t listed = 0;
  for (; listed < other_lines.size() && listed < kListedBadLines; ++listed) {
    message += " " + std::to_string(other_lines[listed]);
  }
  if (others > listed) message += " ...";
  return message + ")";
}

std::vector<JsonLine> ReadJsonObjectLines(std::istream& in, const std::string& source) {
  std::vector<JsonLine> lines;
  JsonLineReader(in, source).ReadAll(&lines);
  return lines;
}

void CheckJsonObjectLines(std::istream& in, const std::string& source) { JsonLineReader(in, source).ReadAll(nullptr); }

std::optional<std::string> ReadPassphrase(const std::string& file, const char* env_name) {
  if (file.empty()) {
    const char* value = std::getenv(env_name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  }
  try {
    return s3db::ReadPassphraseFile(file);  // the library's rule: the same file, the same key
  } catch (const s3db::InvalidArgument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace s3db_cli
