// `s3db __complete` (what the bash and zsh completions offer) and `s3db __man` (the man page),
// both read from the command's own grammar: checked against --help and a real database.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "cli_fixture.h"
#include "s3db/version.h"

namespace s3db::clitest {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The man page as plain text: troff's escapes undone, so --help's words can be looked up.
std::string ManText(const std::string& roff) {
  std::string text = std::regex_replace(roff, std::regex(R"(\\f[BIR])"), "");
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  text = std::regex_replace(text, std::regex(R"(\\&)"), "");
  return std::regex_replace(text, std::regex(R"(\\e)"), "\\");
}

class CompletionTest : public CliTest {
 protected:
  // Candidates for the last word; `s3db` itself is not among the words.
  std::vector<std::string> Complete(std::vector<std::string> words) {
    words.insert(words.begin(), "__complete");
    const RunResult run = RunRaw(words);
    EXPECT_EQ(run.exit_code, 0) << Describe(run);
    EXPECT_EQ(run.err, "");
    return Lines(run.out);
  }
};

using Words = std::vector<std::string>;

TEST_F(CompletionTest, CommandsSubcommandsAndOptions) {
  const Words commands = Complete({""});
  for (const char* command : {"resource", "insert", "get", "list", "import", "export", "shell", "whoami", "cache"}) {
    EXPECT_NE(std::find(commands.begin(), commands.end(), command), commands.end()) << command;
  }
  EXPECT_EQ(Complete({"im"}), Words({"import"}));
  EXPECT_EQ(Complete({"resource", ""}), Words({"create", "list", "show", "drop"}));
  EXPECT_EQ(Complete({"cache", "c"}), Words({"clear"}));
  // A command's own options, and the global ones (they may follow the command).
  EXPECT_EQ(Complete({"--u"}), Words({"--uri"}));
  const Words update_options = Complete({"update", "users", "ada", "--"});
  for (const char* option : {"--if-match", "--uri", "--json", "--meta", "--help"}) {
    EXPECT_NE(std::find(update_options.begin(), update_options.end(), option), update_options.end()) << option;
  }
  EXPECT_EQ(Complete({"resource", "create", "x", "--if"}), Words({"--if-not-exists"}));
  // Option values: a choice list, or files (left to the shell).
  EXPECT_EQ(Complete({"export", "users", "--format", ""}), Words({"jsonl", "csv"}));
  EXPECT_EQ(Complete({"resource", "create", "x", "--schema", ""}), Words({":files"}));
  EXPECT_EQ(Complete({"import", "users", ""}), Words({":files"}));
  // An option's value is not taken for a command.
  EXPECT_EQ(Complete({"--concurrency", "4", "resource", "d"}), Words({"drop"}));
}

TEST_F(CompletionTest, ResourceNamesComeFromTheDatabaseNamedByUri) {
  CreateUsers("users");
  CreateUsers("admins");
  EXPECT_EQ(Complete({"--uri", StoreUri(), "get", ""}), Words({"admins", "users"}));
  EXPECT_EQ(Complete({"--uri=" + StoreUri(), "resource", "drop", "u"}), Words({"users"}));
  EXPECT_EQ(Complete({"count", "--uri", StoreUri(), "ad"}), Words({"admins"}));
  // Only where a NAME goes: not for the ID after it.
  EXPECT_EQ(Complete({"--uri", StoreUri(), "get", "users", ""}), Words{});
  // A file:// directory that does not exist: no names, and nothing is created there.
  const std::string absent = dir_ + "/absent";
  EXPECT_EQ(Complete({"--uri", "file://" + absent, "get", ""}), Words{});
  EXPECT_FALSE(std::filesystem::exists(absent));
}

TEST_F(CompletionTest, ResourceNamesComeFromTheConfigFileToo) {
  CreateUsers("users");
  CreateUsers("admins");
  const std::string config = WriteTemp("s3db.toml", "[profile.app]\nuri = \"" + StoreUri() + "\"\n");
  // --config and --profile among the words, or the environment, name the database as they
  // would for the command itself.
  EXPECT_EQ(Complete({"--config", config, "--profile", "app", "get", ""}), Words({"admins", "users"}));
  RunOptions env;
  env.env["S3DB_CONFIG_FILE"] = config;
  env.env["S3DB_PROFILE"] = "app";
  const RunResult run = RunRaw({"__complete", "count", "ad"}, env);
  EXPECT_EQ(run.out, "admins\n") << Describe(run);
  // A profile the file does not have: no names and no error on the terminal.
  const RunResult bad = RunRaw({"__complete", "--config", config, "--profile", "nope", "get", ""});
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err, "");
}

TEST_F(CompletionTest, ManPageHasEveryCommandAndOptionOfHelp) {
  const RunResult man = RunRaw({"__man"});
  ASSERT_EQ(man.exit_code, 0) << Describe(man);
  EXPECT_EQ(man.out.rfind(".\\\"", 0), 0u);
  EXPECT_NE(man.out.find(".TH S3DB 1 \"\" \"s3db " + std::string(S3DB_VERSION) + "\""), std::string::npos);
  const std::string text = ManText(man.out);

  // Every option --help names, and every command's description, down to the leaves.
  std::vector<Words> pending = {{}};
  size_t commands = 0;
  while (!pending.empty()) {
    Words path = pending.back();
    pending.pop_back();
    path.push_back("--help");
    const RunResult help = RunRaw(path);
    path.pop_back();
    ASSERT_EQ(help.exit_code, 0) << Describe(help);
    std::string joined = "s3db";
    for (const std::string& word : path) joined += " " + word;
    const Words lines = Lines(help.out);
    if (!path.empty()) {
      EXPECT_NE(text.find(lines.front()), std::string::npos) << joined << "'s description: " << lines.front();
    }
    bool in_subcommands = false;
    bool has_subcommands = false;
    for (const std::string& line : lines) {
      if (line == "Subcommands:") {
        in_subcommands = has_subcommands = true;
      } else if (in_subcommands && line.rfind("  ", 0) == 0) {
        Words sub = path;
        sub.push_back(line.substr(2, line.find(' ', 2) - 2));
        pending.push_back(sub);
      } else {
        in_subcommands = false;
      }
    }
    const std::regex option_name(R"(--[a-z][a-z-]*)");
    for (std::sregex_iterator it(help.out.begin(), help.out.end(), option_name), end; it != end; ++it) {
      EXPECT_NE(text.find(it->str()), std::string::npos) << joined << " --help names " << it->str();
    }
    if (!has_subcommands && !path.empty()) {
      ++commands;
      EXPECT_NE(text.find(".SS \"" + joined), std::string::npos) << joined << " has no section";
    }
  }
  EXPECT_GE(commands, 20u);  // resource create ... whoami
  // Installed beside the command: the build made it from the same binary.
  std::ifstream built(std::filesystem::path(S3DB_CLI_PATH).parent_path() / "s3db.1");
  ASSERT_TRUE(built) << "the build made no s3db.1 beside " << S3DB_CLI_PATH;
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(built), {}), man.out);
}

}  // namespace
}  // namespace s3db::clitest
