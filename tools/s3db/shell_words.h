// Splitting a command line into words the way a POSIX shell does, for `s3db shell`.
//
// Supported: blanks separate words; 'single quotes' keep everything literally; "double
// quotes" keep everything except that a backslash escapes $ ` " \ and a newline; a backslash
// outside quotes makes the next character literal (backslash-newline joins lines); a word
// that starts with # begins a comment. Not supported (no expansion happens at all): $vars,
// globs, ~, pipes, redirections. Those characters are plain text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace s3db_cli {

struct ShellWords {
  std::vector<std::string> words;
  // Non-empty when the text ends inside quotes or right after a backslash: the caller
  // should append a newline and the next line, then split again (as a shell's PS2 prompt
  // does). Says what is open, e.g. "unterminated double quote".
  std::string incomplete;
};

ShellWords SplitShellWords(std::string_view text);

}  // namespace s3db_cli
