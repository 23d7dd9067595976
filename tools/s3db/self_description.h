// What `s3db` says about its own grammar, read from the CLI11 app that parses it, so that
// they cannot drift from --help: the candidates the shell completions offer (`s3db
// __complete WORDS...`, called by completions/s3db.bash and completions/_s3db) and the man
// page (`s3db __man FILE`, run at build time to make s3db.1). docs/CLI.md describes both.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace s3db_cli {

// The first line Complete returns when the word being completed is a file name: the shell
// script then completes file names itself.
inline constexpr const char* kCompleteFiles = ":files";

// The global options among the words being completed that say which database is meant.
struct CompletionTarget {
  std::string uri;      // --uri
  std::string config;   // --config
  std::string profile;  // --profile
};

// Candidates for the last of `words` (the words after "s3db", the last one possibly empty):
// the commands, subcommands or options valid there, or the resource names when the word is
// a resource NAME (asked of `resource_names` with the --uri, --config and --profile given
// among the words, empty if not), or kCompleteFiles. Only candidates that start with the
// last word.
std::vector<std::string> Complete(
    CLI::App& app, const std::vector<std::string>& words,
    const std::function<std::vector<std::string>(const CompletionTarget& target)>& resource_names);

// The man page (troff, man(7) macros) of `app`: every command with its arguments and options,
// as --help gives them, then the exit codes and the environment.
void WriteManPage(CLI::App& app, const std::string& version, std::ostream& out);

}  // namespace s3db_cli
