// Reading JSON given by the user: command-line arguments, schema files, JSON lines on stdin
// or in a file. Every failure is s3db::InvalidArgument (exit 4) naming the source and, for
// JSON lines, the line number. Callers check all of their input before touching the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "s3db/record.h"

namespace s3db_cli {

// `what` names the input in messages: "JSON", "FILTER_JSON", "schema file x.json".
s3db::Json ParseJson(const std::string& text, const std::string& what);
s3db::Json ParseJsonObject(const std::string& text, const std::string& what);

// The whole file parsed as one JSON value. An unreadable file is InvalidArgument too.
s3db::Json ReadJsonFile(const std::string& path);

// All of `in`, or nullopt once it holds more than `max_bytes`: an endless input such as
// /dev/zero must fail, not take the machine's memory.
std::optional<std::string> ReadAtMost(std::istream& in, size_t max_bytes);

struct JsonLine {
  size_t line_number = 0;  // 1-based, counting blank lines, as an editor shows it
  s3db::Json value;
};

// JSON lines read one at a time: each non-blank line is one JSON object (a UTF-8 BOM and CR
// line ends are allowed), numbered as an editor shows it.
class JsonLineReader {
 public:
  // `source` names the input in messages ("stdin", a path).
  JsonLineReader(std::istream& in, std::string source);

  // The next line's object; nullopt at the end. A bad line throws InvalidArgument naming it.
  std::optional<JsonLine> Next();
  // Every remaining line, into `lines` (or only checked, when null). If any line is bad,
  // throws naming the first bad line and how many others there are.
  void ReadAll(std::vector<JsonLine>* lines);
  // Bytes consumed so far (for progress).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  struct Line {
    size_t line_number = 0;
    s3db::Json value;     // when kept
    std::string problem;  // empty: a JSON object
  };
  // The next non-blank line; parsed into `value` only with keep_value (else just checked).
  std::optional<Line> NextLine(bool keep_value);

  std::istream& in_;
  std::string source_;
  size_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

// Every non-blank line parsed as a JSON object. If any line is bad, throws naming the first
// bad line and how many others there are, so the caller writes nothing.
std::vector<JsonLine> ReadJsonObjectLines(std::istream& in, const std::string& source);
// The same check without keeping the values: memory does not grow with the input.
void CheckJsonObjectLines(std::istream& in, const std::string& source);

// A passphrase from `file` when one is named (s3db::ReadPassphraseFile; an unreadable or
// empty file is a UsageError naming the file, never its content), else from the environment
// variable `env_name`, else none.
std::optional<std::string> ReadPassphrase(const std::string& file, const char* env_name);

// The message of an input with bad lines: `first` (the first bad line's, "FILE line N: ...")
// followed by how many others there are and where, " (2 more bad lines: 7 9)": at most ten
// of `other_lines` are listed, then "..." when `others` is more than were listed.
constexpr size_t kListedBadLines = 10;
std::string BadLinesMessage(const std::string& first, const std::vector<size_t>& other_lines, size_t others);

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string WithoutJsonExceptionTag(std::string message);

}  // namespace s3db_cli
