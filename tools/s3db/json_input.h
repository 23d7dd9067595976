// Reading JSON given by the user: command-line arguments, schema files, JSON lines on stdin
// or in a file. Every failure is s3db::InvalidArgument (exit 4) naming the source and, for
// JSON lines, the line number. Callers read all of their input before touching the store.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "s3db/json.h"

namespace s3db_cli {

// `what` names the input in messages: "JSON", "FILTER_JSON", "schema file x.json".
s3db::Json ParseJson(const std::string& text, const std::string& what);
s3db::Json ParseJsonObject(const std::string& text, const std::string& what);

// The whole file parsed as one JSON value. An unreadable file is InvalidArgument too.
s3db::Json ReadJsonFile(const std::string& path);

struct JsonLine {
  size_t line_number = 0;  // 1-based, counting blank lines, as an editor shows it
  s3db::Json value;
};

// Every non-blank line parsed as a JSON object (a UTF-8 BOM and CR line ends are allowed).
// If any line is bad, throws naming the first bad line and how many others there are, so the
// caller writes nothing.
std::vector<JsonLine> ReadJsonObjectLines(std::istream& in, const std::string& source);

// A passphrase from `file` when one is named (one trailing newline dropped; an unreadable or
// empty file is a UsageError naming the file, never its content), else from the environment
// variable `env_name`, else none.
std::optional<std::string> ReadPassphrase(const std::string& file, const char* env_name);

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string WithoutJsonExceptionTag(std::string message);

}  // namespace s3db_cli
