#include "self_description.h"

#include <algorithm>
#include <ostream>
#include <string_view>
#include <utility>

namespace s3db_cli {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

std::vector<CLI::App*> Subcommands(CLI::App& command) {
  return command.get_subcommands([](CLI::App* sub) { return !sub->get_group().empty(); });
}

CLI::App* FindSubcommand(CLI::App& command, std::string_view name) {
  for (CLI::App* sub : Subcommands(command)) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

bool IsFlag(const CLI::Option& option) { return option.get_type_size() == 0; }

// The options a word after `command` may name: its own and, as the app falls through, every
// parent's.
std::vector<const CLI::Option*> NamedOptions(CLI::App& command) {
  std::vector<const CLI::Option*> options;
  for (CLI::App* at = &command; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* option : std::as_const(*at).get_options()) {
      if (!option->get_lnames().empty() || !option->get_snames().empty()) options.push_back(option);
    }
  }
  return options;
}

const CLI::Option* FindOption(CLI::App& command, std::string_view word) {
  for (const CLI::Option* option : NamedOptions(command)) {
    for (const std::string& name : option->get_lnames()) {
      if (word == "--" + name) return option;
    }
    for (const std::string& name : option->get_snames()) {
      if (word == "-" + name) return option;
    }
  }
  return nullptr;
}

std::vector<const CLI::Option*> Positionals(CLI::App& command) {
  return std::as_const(command).get_options([](const CLI::Option* option) { return option->get_positional(); });
}

// A file name is expected: FILE arguments, --schema and the --*-file options.
bool TakesFile(const CLI::Option& option) {
  const std::string name = option.get_name();
  return name == "FILE" || name == "--schema" || (name.size() > 5 && name.substr(name.size() - 5) == "-file");
}

// The values a validator spells out as "a|b|c" in the option's type ("TEXT:jsonl|csv").
std::vector<std::string> Choices(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  const size_t colon = type.rfind(':');
  if (colon == std::string::npos || type.find('|', colon) == std::string::npos) return {};
  std::vector<std::string> choices;
  std::string_view rest = std::string_view(type).substr(colon + 1);
  while (!rest.empty()) {
    const size_t bar = rest.find('|');
    choices.emplace_back(rest.substr(0, bar));
    rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
  }
  return choices;
}

std::vector<std::string> ValuesOf(const CLI::Option& option) {
  if (TakesFile(option)) return {kCompleteFiles};
  return Choices(option);
}

std::vector<std::string> Matching(std::vector<std::string> candidates, std::string_view prefix) {
  if (!candidates.empty() && candidates.front() == kCompleteFiles) return candidates;
  std::vector<std::string> matching;  // in order, once each (every command has its --help)
  for (std::string& candidate : candidates) {
    if (StartsWith(candidate, prefix) && std::find(matching.begin(), matching.end(), candidate) == matching.end()) {
      matching.push_back(std::move(candidate));
    }
  }
  return matching;
}

// troff text: backslashes and hyphens escaped, a leading '.' or '\'' kept from being a request.
std::string Roff(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  return out;
}

std::string OptionNames(const CLI::Option& option) {
  std::string names;
  for (const std::string& name : option.get_snames())
    names += (names.empty() ? "" : ", ") + ("\\fB" + Roff("-" + name) + "\\fR");
  for (const std::string& name : option.get_lnames())
    names += (names.empty() ? "" : ", ") + ("\\fB" + Roff("--" + name) + "\\fR");
  // The value as its check names it ("N", "jsonl|csv", "FIELD=VALUE"), else its type ("TEXT").
  if (!IsFlag(option)) {
    const std::string type = option.get_type_name();
    names += " \\fI" + Roff(type.substr(type.rfind(':') == std::string::npos ? 0 : type.rfind(':') + 1)) + "\\fR";
  }
  return names;
}

void WriteOptions(const std::vector<const CLI::Option*>& options, std::ostream& out) {
  for (const CLI::Option* option : options) {
    out << ".TP\n";
    if (option->get_positional()) {
      out << "\\fI" << Roff(option->get_name()) << "\\fR\n";
    } else {
      out << OptionNames(*option) << "\n";
    }
    out << Roff(option->get_description()) << (option->get_required() && !option->get_positional() ? " (required)" : "")
        << "\n";
  }
}

void WriteCommand(CLI::App& command, const std::string& path, std::ostream& out) {
  const std::vector<CLI::App*> subcommands = Subcommands(command);
  if (!subcommands.empty()) {  // a group: its description, then each of its commands
    out << ".SS \"" << Roff(path) << " COMMAND\"\n" << Roff(command.get_description()) << "\n";
    for (CLI::App* sub : subcommands) WriteCommand(*sub, path + " " + sub->get_name(), out);
    return;
  }
  std::string synopsis = path;
  for (const CLI::Option* positional : Positionals(command)) {
    std::string name = positional->get_name();
    if (positional->get_items_expected_max() > 1) name += "...";
    synopsis += " " + (positional->get_required() ? name : "[" + name + "]");
  }
  const std::vector<const CLI::Option*> options =
      std::as_const(command).get_options([](const CLI::Option* option) { return !option->get_lnames().empty(); });
  // --help is every command's; the page says so once.
  bool has_options = false;
  for (const CLI::Option* option : options) has_options |= option->get_lnames().front() != "help";
  if (has_options) synopsis += " [OPTIONS]";
  out << ".SS \"" << Roff(synopsis) << "\"\n" << Roff(command.get_description()) << "\n";
  std::vector<const CLI::Option*> listed = Positionals(command);
  for (const CLI::Option* option : options) {
    if (option->get_lnames().front() != "help") listed.push_back(option);
  }
  WriteOptions(listed, out);
}

}  // namespace

std::vector<std::string> Complete(
    CLI::App& app, const std::vector<std::string>& words,
    const std::function<std::vector<std::string>(const CompletionTarget& target)>& resource_names) {
  if (words.empty()) return {};
  CLI::App* command = &app;
  CompletionTarget target;
  size_t positionals = 0;
  bool options_ended = false;  // after "--" every word is an argument
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& word = words[i];
    if (!options_ended && word == "--") {
      options_ended = true;
    } else if (!options_ended && StartsWith(word, "-") && word.size() > 1) {
      const size_t eq = word.find('=');
      const CLI::Option* option = FindOption(*command, word.substr(0, eq));
      if (option == nullptr || IsFlag(*option)) continue;
      std::string value;
      if (eq != std::string::npos) {
        value = word.substr(eq + 1);
      } else if (i + 2 == words.size()) {
        return Matching(ValuesOf(*option), words.back());  // the word being completed is its value
      } else {
        value = words[++i];
      }
      if (option->get_name() == "--uri") target.uri = value;
      if (option->get_name() == "--config") target.config = value;
      if (option->get_name() == "--profile") target.profile = value;
    } else if (CLI::App* sub = positionals == 0 ? FindSubcommand(*command, word) : nullptr; sub != nullptr) {
      command = sub;
    } else {
      ++positionals;
    }
  }

  const std::string& current = words.back();
  std::vector<std::string> candidates;
  if (!options_ended && StartsWith(current, "-")) {
    for (const CLI::Option* option : NamedOptions(*command)) {
      for (const std::string& name : option->get_lnames()) candidates.push_back("--" + name);
    }
  } else if (const std::vector<CLI::App*> subcommands = Subcommands(*command); !subcommands.empty()) {
    for (CLI::App* sub : subcommands) candidates.push_back(sub->get_name());
  } else {
    const std::vector<const CLI::Option*> arguments = Positionals(*command);
    const CLI::Option* argument = nullptr;
    if (positionals < arguments.size()) {
      argument = arguments[positionals];
    } else if (!arguments.empty() && arguments.back()->get_items_expected_max() > 1) {
      argument = arguments.back();  // ID...
    }
    if (argument != nullptr && argument->get_name() == "NAME") {
      candidates = resource_names(target);
    } else if (argument != nullptr) {
      candidates = ValuesOf(*argument);
    }
  }
  return Matching(std::move(candidates), current);
}

void WriteManPage(CLI::App& app, const std::string& version, std::ostream& out) {
  out << ".\\\" Generated by `s3db __man` from the command's own grammar (tools/s3db/command_line.cc).\n"
      << ".TH S3DB 1 \"\" \"s3db " << Roff(version) << "\" \"User Commands\"\n"
      << ".SH NAME\ns3db \\- " << Roff("a document database whose only storage is an S3 bucket") << "\n"
      << ".SH SYNOPSIS\n.B s3db\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGUMENTS\\fR] [\\fIOPTIONS\\fR]\n"
      << ".SH DESCRIPTION\n"
      << Roff(
             "Each record is one object of a bucket (S3, MinIO, Ceph RGW), of a local directory "
             "(file://, the default) or of memory (memory://, for `s3db shell`). Resources are collections "
             "with a schema. The options below may come before or after the command; every command also "
             "takes -h, --help, which prints its usage.")
      << "\n.SH OPTIONS\n";
  WriteOptions(std::as_const(app).get_options([](const CLI::Option* option) { return !option->get_lnames().empty(); }),
               out);
  out << ".SH COMMANDS\n";
  for (CLI::App* command : Subcommands(app)) WriteCommand(*command, "s3db " + command->get_name(), out);
  out << ".SH EXIT STATUS\n" << Roff(app.get_footer()) << (app.get_footer().ends_with('\n') ? "" : "\n");
  out << ".SH ENVIRONMENT\n"
      << ".TP\n.B S3DB_URI\n"
      << Roff("The connection string when --uri is not given.") << "\n"
      << ".TP\n.B S3DB_PASSPHRASE\n"
      << Roff("The passphrase of secret fields when --passphrase-file is not given.") << "\n"
      << ".TP\n.B S3DB_CONCURRENCY, S3DB_CACHE, S3DB_CACHE_TTL\n"
      << Roff("--concurrency, --cache and --cache-ttl when the option is not given.") << "\n"
      << ".TP\n.B S3DB_CONFIG_FILE, S3DB_PROFILE\n"
      << Roff("The configuration file and its profile when --config and --profile are not given.") << "\n"
      << ".TP\n.B S3DB_NEW_PASSPHRASE\n"
      << Roff("rotate-key's new passphrase when --new-passphrase-file is not given.") << "\n"
      << ".TP\n.B AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION\n"
      << Roff("S3 credentials and region, found as the AWS SDKs find them (docs/CREDENTIALS.md).") << "\n";
  out << ".SH FILES\n"
      << ".TP\n.I ~/.config/s3db/config.toml\n"
      << Roff(
             "The configuration file ($XDG_CONFIG_HOME/s3db/config.toml when XDG_CONFIG_HOME is set): uri, "
             "concurrency, passphrase_file, cache and cache_ttl at the top level and in [profile.NAME] tables. "
             "A flag beats the environment, which beats the file (docs/CLI.md, Configuration file).")
      << "\n";
  out << ".SH SEE ALSO\n"
      << Roff("The documentation installed with s3db (share/doc/s3db: README.md, docs/CLI.md, docs/API.md).") << "\n";
}

}  // namespace s3db_cli
