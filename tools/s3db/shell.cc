#include "shell.h"

#include <istream>
#include <string>
#include <vector>

#include "command_line.h"
#include "shell_words.h"

namespace s3db_cli {
namespace {

ExitCode RunShellCommand(const std::vector<std::string>& words, Session& session, const OutputFlags& flags) {
  CommandLine line;
  line.output = flags;
  CLI::App app{"", "s3db"};
  DefineCommandLine(app, line, Grammar::kShell);
  if (auto code = ParseArguments(app, words, session.out(), session.diagnostics())) return *code;
  return Execute(line, session);
}

}  // namespace

ExitCode RunShell(Session& session, std::istream& commands, const OutputFlags& flags) {
  Diagnostics& diagnostics = session.diagnostics();
  try {
    session.database();
  } catch (const std::exception& error) {
    diagnostics.Line(DescribeError(error));
    return ExitCodeFor(error);
  }

  ExitCode last_failure = ExitCode::kOk;
  std::string pending;  // a command that continues on the next line
  size_t first_line = 0;
  std::string text;
  for (size_t line_number = 1; std::getline(commands, text); ++line_number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (pending.empty()) {
      first_line = line_number;
      pending = std::move(text);
    } else {
      pending += '\n';
      pending += text;
    }
    ShellWords split = SplitShellWords(pending);
    if (!split.incomplete.empty()) continue;
    pending.clear();
    if (split.words.empty()) continue;

    diagnostics.SetContext("line " + std::to_string(first_line) + ": ");
    const ExitCode code = RunShellCommand(split.words, session, flags);
    diagnostics.SetContext("");
    session.out().flush();  // each command's output before the next one's errors
    if (code != ExitCode::kOk) last_failure = code;
  }
  if (!pending.empty()) {
    diagnostics.Line("line " + std::to_string(first_line) + ": " + SplitShellWords(pending).incomplete);
    last_failure = ExitCode::kUsage;
  }
  return last_failure;
}

}  // namespace s3db_cli
