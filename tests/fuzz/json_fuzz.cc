// JSON as the library and the command read it: the depth checks of s3db/json_limits.h
// (src/util/json_limits.cc) and the command's readers (tools/s3db/json_input.cc: ParseJson,
// ParseJsonObject, the JSON-lines reader behind `s3db import` and `insert --file`).
//
// Invariants: the readers fail only with s3db::InvalidArgument; their messages never quote
// the input (a string value could be a secret field's; the marker below must not show); the
// text depth scan agrees with the parsed value's depth; the JSON-lines check that keeps no
// values fails exactly when, and as, the one that keeps them does.
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "json_input.h"
#include "s3db/json_limits.h"

namespace {

using s3db::Json;
using s3db_fuzz::Check;

// A value the input may hold (the dictionary has it): no error may show it.
constexpr std::string_view kSecretValue = "s3cr3tV4lu3";

void CheckMessage(const std::string& message, const char* where) {
  Check(message.find(kSecretValue) == std::string::npos, std::string(where) + " quotes the input: " + message);
}

void CheckDepth(const std::string& text) {
  const Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return;
  // nlohmann's parser takes a NUL byte for the end of the input: what follows it is not parsed.
  const std::string_view parsed_text = std::string_view(text).substr(0, text.find('\0'));
  for (size_t limit : {size_t{3}, s3db::kMaxJsonDepth}) {
    const size_t by_text = s3db::JsonTextDepth(parsed_text, limit);
    const size_t by_value = s3db::JsonValueDepth(value, limit);
    Check(by_text == by_value, "JsonTextDepth " + std::to_string(by_text) + " but JsonValueDepth " +
                                   std::to_string(by_value) + " (limit " + std::to_string(limit) + ")");
  }
}

void CheckLines(const std::string& text) {
  std::string kept_error, checked_error;
  bool kept_failed = false;
  std::vector<s3db_cli::JsonLine> lines;
  kept_failed = s3db_fuzz::FailsOnlyTyped(
      "ReadJsonObjectLines",
      [&] {
        std::istringstream in(text);
        lines = s3db_cli::ReadJsonObjectLines(in, "fuzz.jsonl");
      },
      &kept_error);
  const bool checked_failed = s3db_fuzz::FailsOnlyTyped(
      "CheckJsonObjectLines",
      [&] {
        std::istringstream in(text);
        s3db_cli::CheckJsonObjectLines(in, "fuzz.jsonl");
      },
      &checked_error);
  Check(kept_failed == checked_failed,
        "the JSON-lines check and the reader disagree: '" + kept_error + "' vs '" + checked_error + "'");
  Check(kept_error == checked_error, "different messages: '" + kept_error + "' vs '" + checked_error + "'");
  CheckMessage(kept_error, "the JSON-lines reader");
  for (const s3db_cli::JsonLine& line : lines) Check(line.value.is_object(), "a JSON line that is not an object");

  // One line at a time, as `s3db import` streams: the same lines, or an error at the same one.
  std::istringstream in(text);
  s3db_cli::JsonLineReader reader(in, "fuzz.jsonl");
  size_t read = 0;
  s3db_fuzz::FailsOnlyTyped("JsonLineReader::Next", [&] {
    while (std::optional<s3db_cli::JsonLine> line = reader.Next()) {
      Check(read < lines.size() || kept_failed, "Next() gives more lines than ReadAll");
      if (!kept_failed) Check(line->line_number == lines[read].line_number, "Next() numbers lines differently");
      ++read;
    }
  });
  if (!kept_failed) Check(read == lines.size(), "Next() gives fewer lines than ReadAll");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  CheckDepth(text);
  std::string message;
  s3db_fuzz::FailsOnlyTyped(
      "ParseJson", [&] { (void)s3db_cli::ParseJson(text, "JSON"); }, &message);
  CheckMessage(message, "ParseJson");
  message.clear();
  s3db_fuzz::FailsOnlyTyped(
      "ParseJsonObject", [&] { (void)s3db_cli::ParseJsonObject(text, "JSON"); }, &message);
  CheckMessage(message, "ParseJsonObject");
  CheckLines(text);
  return 0;
}
