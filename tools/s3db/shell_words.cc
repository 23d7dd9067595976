#include "shell_words.h"

namespace s3db_cli {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Inside double quotes a backslash is special only before these (POSIX 2.2.3).
bool EscapableInDoubleQuotes(char c) { return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n'; }

}  // namespace

ShellWords SplitShellWords(std::string_view text) {
  enum class Quote { kNone, kSingle, kDouble };
  ShellWords result;
  std::string word;
  bool in_word = false;  // a word has started, even if it is still empty ('' is a word)
  Quote quote = Quote::kNone;

  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (quote) {
      case Quote::kSingle:
        if (c == '\'') {
          quote = Quote::kNone;
        } else {
          word += c;
        }
        break;
      case Quote::kDouble:
        if (c == '"') {
          quote = Quote::kNone;
        } else if (c == '\\') {
          if (i + 1 == text.size()) {
            result.incomplete = "backslash at end of input";
            return result;
          }
          const char next = text[i + 1];
          if (EscapableInDoubleQuotes(next)) {
            if (next != '\n') word += next;  // backslash-newline vanishes
            ++i;
          } else {
            word += c;  // a literal backslash; `next` is read on the next turn
          }
        } else {
          word += c;
        }
        break;
      case Quote::kNone:
        if (IsBlank(c)) {
          if (in_word) result.words.push_back(std::move(word));
          word.clear();
          in_word = false;
        } else if (c == '#' && !in_word) {
          // A comment runs to the end of its line; the newline itself still separates.
          const size_t newline = text.find('\n', i);
          i = newline == std::string_view::npos ? text.size() : newline - 1;
        } else if (c == '\\') {
          if (i + 1 == text.size()) {
            result.incomplete = "backslash at end of input";
            return result;
          }
          const char next = text[++i];
          if (next != '\n') {
            word += next;
            in_word = true;
          }
        } else if (c == '\'') {
          quote = Quote::kSingle;
          in_word = true;
        } else if (c == '"') {
          quote = Quote::kDouble;
          in_word = true;
        } else {
          word += c;
          in_word = true;
        }
        break;
    }
  }
  if (quote != Quote::kNone) {
    result.incomplete = quote == Quote::kSingle ? "unterminated single quote" : "unterminated double quote";
    return result;
  }
  if (in_word) result.words.push_back(std::move(word));
  return result;
}

}  // namespace s3db_cli
