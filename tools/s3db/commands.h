// The commands of docs/CLI.md, run against a Session.
#pragma once

#include <iosfwd>
#include <memory>

#include "command_line.h"
#include "output.h"
#include "s3db/database.h"

namespace s3db_cli {

// What commands share. The database is opened on first use, and every command reads and
// checks its input (JSON arguments, files, stdin) before that, so bad input never reaches
// the store, and a usage error never even creates a file:// directory.
class Session {
 public:
  // `record_input` is where `insert NAME` reads JSON lines: stdin, or null in the shell,
  // whose stdin holds the commands.
  Session(s3db::DatabaseOptions options, std::ostream& out, Diagnostics& diagnostics, std::istream* record_input);

  // Connects on the first call. Connection failures name the URI with its secret masked.
  s3db::Database& database();
  const s3db::DatabaseOptions& options() const { return options_; }
  std::ostream& out() { return out_; }
  Diagnostics& diagnostics() { return diagnostics_; }
  std::istream* record_input() { return record_input_; }

 private:
  s3db::DatabaseOptions options_;
  std::ostream& out_;
  Diagnostics& diagnostics_;
  std::istream* record_input_;
  std::unique_ptr<s3db::Database> database_;
};

// Runs one parsed command other than `shell` and returns its exit code. Every failure has
// been reported on stderr by then: a command that fails as a whole, as one line; import and
// batches, one line per failed item.
ExitCode Execute(const CommandLine& line, Session& session);

}  // namespace s3db_cli
