// `s3db shell`: many commands against one open database, read from a stream.
#pragma once

#include <iosfwd>

#include "commands.h"
#include "output.h"

namespace s3db_cli {

// Connects first (a bad URI ends the session at once), then runs each line of `commands` as
// the program would run its arguments, split into words as a POSIX shell splits them
// (shell_words.h). Blank lines and comments are skipped; a line that ends inside quotes or
// after a backslash continues on the next. A failing command prints its error, prefixed
// with "line N: ", and the session goes on. `flags` are the program's --json/--meta; a line
// may add its own. Returns the exit code of the last command that failed, kOk if none did.
ExitCode RunShell(Session& session, std::istream& commands, const OutputFlags& flags);

}  // namespace s3db_cli
