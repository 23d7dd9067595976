// s3db: the command-line tool. docs/CLI.md is its manual.
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "command_line.h"
#include "commands.h"
#include "json_input.h"
#include "output.h"
#include "s3db/cache.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"
#include "s3db/version.h"
#include "self_description.h"
#include "shell.h"

namespace s3db_cli {
namespace {

// "500ms", "30s", "5m", "1h"; a bare number is seconds. nullopt for anything else or <= 0.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  long long scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s" || unit.empty()) scale = 1000;
  if (unit == "m") scale = 60000;
  if (unit == "h") scale = 3600000;
  if (scale == 0 || n <= 0 || n > (1LL << 40) / scale || text.front() == '+' || std::isspace(text.front())) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(n * scale);
}

std::string EnvironmentValue(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Every secret this process may know, so no message can carry one: those in any argument
// that looks like a URI (even a misplaced or malformed one), in $S3DB_URI, and the AWS
// credentials the S3 store may read from the environment.
SecretMasker SecretsOf(const std::vector<std::string>& args) {
  SecretMasker masker;
  for (const std::string& arg : args) {
    if (arg.find("://") != std::string::npos) masker.AddUri(arg);
    // redis://PASSWORD@host (no user) has no "KEY:" for AddUri to find.
    if (size_t at = arg.rfind('@'); arg.rfind("redis://", 0) == 0 && at != std::string::npos) {
      std::string credentials = arg.substr(8, at - 8);
      masker.AddSecret(credentials.substr(credentials.find(':') == std::string::npos ? 0 : credentials.find(':') + 1));
    }
  }
  masker.AddUri(EnvironmentValue("S3DB_URI"));
  masker.AddSecret(EnvironmentValue("AWS_SECRET_ACCESS_KEY"));
  masker.AddSecret(EnvironmentValue("AWS_SESSION_TOKEN"));
  masker.AddSecret(EnvironmentValue("S3DB_PASSPHRASE"));
  masker.AddSecret(EnvironmentValue("S3DB_NEW_PASSPHRASE"));
  return masker;
}

// whoami: the S3 identity without opening the database (no probe, no S3 request).
ExitCode Whoami(const std::string& uri, Diagnostics& diagnostics) {
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
  if (!parsed.ok()) {
    diagnostics.Line(parsed.status().message());
    return ExitCodeFor(parsed.code());
  }
  if (parsed->scheme != s3db::StoreScheme::kS3 && parsed->scheme != s3db::StoreScheme::kHttp &&
      parsed->scheme != s3db::StoreScheme::kHttps) {
    diagnostics.Line("whoami: " + parsed->ToString() + " is not an S3 connection string (s3://, http://, https://)");
    return ExitCode::kInvalidInput;
  }
  s3db::Result<s3db::S3StoreOptions> options = s3db::S3StoreOptionsFromUri(*parsed, s3db::S3StoreOptions{});
  s3db::Result<s3db::S3Identity> identity =
      options.ok() ? s3db::ResolveS3Identity(*options) : s3db::Result<s3db::S3Identity>(options.status());
  if (!identity.ok()) {
    diagnostics.Line("whoami: " + identity.status().message());
    return ExitCodeFor(identity.code());
  }
  s3db::Json json = {{"source", identity->source}, {"accessKeyId", identity->access_key_id},
                     {"secretAccessKey", "****"},  {"sessionToken", identity->session_token},
                     {"region", identity->region}, {"endpoint", identity->endpoint}};
  json["expiration"] = identity->expiration.empty() ? s3db::Json(nullptr) : s3db::Json(identity->expiration);
  std::cout << DumpJson(json) << "\n";
  return ExitCode::kOk;
}

// The resource names `s3db __complete` offers: those of the database at `uri` (else
// $S3DB_URI, else the default), none when it cannot be read. A file:// directory that does
// not exist is not opened, so completing in any directory creates nothing there.
std::vector<std::string> ResourceNamesFor(std::string uri) {
  if (uri.empty()) uri = EnvironmentValue("S3DB_URI");
  if (uri.empty()) uri = s3db::kDefaultUri;
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
  if (!parsed.ok() || parsed->scheme == s3db::StoreScheme::kMemory) return {};
  std::error_code error;
  if (parsed->scheme == s3db::StoreScheme::kFile && !std::filesystem::is_directory(parsed->path, error)) return {};
  try {
    s3db::DatabaseOptions options;
    options.uri = uri;
    return s3db::Database::Connect(options)->ResourceNames();
  } catch (const std::exception&) {
    return {};  // a completion prints no errors
  }
}

// `s3db __complete WORDS...` and `s3db __man [FILE]` (self_description.h): for the shell
// completions and the build, not in --help.
std::optional<ExitCode> DescribeSelf(const std::vector<std::string>& args, Diagnostics& diagnostics) {
  if (args.empty() || (args[0] != "__complete" && args[0] != "__man")) return std::nullopt;
  CommandLine line;
  CLI::App app{"", "s3db"};
  DefineCommandLine(app, line, Grammar::kProgram);
  if (args[0] == "__complete") {
    for (const std::string& candidate : Complete(app, {args.begin() + 1, args.end()}, ResourceNamesFor)) {
      std::cout << candidate << "\n";
    }
    return ExitCode::kOk;
  }
  if (args.size() == 1) {
    WriteManPage(app, s3db::LibraryVersion(), std::cout);
    return ExitCode::kOk;
  }
  std::ofstream file(args[1]);
  WriteManPage(app, s3db::LibraryVersion(), file);
  file.close();
  if (!file) {
    diagnostics.Line("__man: cannot write " + args[1] + ": " + std::strerror(errno));
    return ExitCode::kStorage;
  }
  return ExitCode::kOk;
}

ExitCode Main(const std::vector<std::string>& args, Diagnostics& diagnostics) {
  if (auto code = DescribeSelf(args, diagnostics)) return *code;
  CommandLine line;
  CLI::App app{"", "s3db"};
  DefineCommandLine(app, line, Grammar::kProgram);
  if (auto code = ParseArguments(app, args, std::cout, diagnostics)) return *code;

  s3db::DatabaseOptions options;
  const std::string uri_from_environment = EnvironmentValue("S3DB_URI");
  if (line.uri_given) {
    options.uri = line.uri;
  } else {
    options.uri = uri_from_environment.empty() ? s3db::kDefaultUri : uri_from_environment;
  }
  options.concurrency = line.concurrency;
  try {
    options.passphrase = ReadPassphrase(line.passphrase_file, "S3DB_PASSPHRASE");
  } catch (const CliError& error) {
    diagnostics.Line(error.what());
    return error.code();
  }
  if (options.passphrase) diagnostics.AddSecret(*options.passphrase);
  // --costs: every store request of the command (connect included) passes through it.
  std::shared_ptr<s3db::CostsPlugin> costs;
  if (line.costs) {
    costs = std::make_shared<s3db::CostsPlugin>();
    options.plugins.push_back(costs);
  }

  if (line.command == CommandId::kWhoami) return Whoami(options.uri, diagnostics);
  // --cache: a CachePlugin the cache commands can reach.
  if (!line.cache_ttl.empty() && line.cache.empty()) {
    diagnostics.Line("--cache-ttl needs --cache (see --help)");
    return ExitCode::kUsage;
  }
  if ((line.command == CommandId::kCacheStats || line.command == CommandId::kCacheClear) && line.cache.empty()) {
    diagnostics.Line("'cache' commands need --cache URI (see --help)");
    return ExitCode::kUsage;
  }
  if (!line.cache.empty()) {
    s3db::Result<s3db::CacheOptions> cache = s3db::CacheOptionsFromUri(line.cache);
    std::optional<std::chrono::milliseconds> ttl = ParseDuration(line.cache_ttl);
    if (!cache.ok() || (!line.cache_ttl.empty() && !ttl)) {
      diagnostics.Line(cache.ok()
                           ? "--cache-ttl: expected a duration like 500ms, 30s or 5m, got '" + line.cache_ttl + "'"
                           : cache.status().message());
      return ExitCode::kInvalidInput;
    }
    if (ttl) cache->ttl = *ttl;
    cache->connections = static_cast<size_t>(line.concurrency);
    try {
      options.plugins.push_back(std::make_shared<s3db::CachePlugin>(*cache));
    } catch (const std::exception& error) {
      diagnostics.Line(DescribeError(error));
      return ExitCodeFor(error);
    }
  }

  const bool shell = line.command == CommandId::kShell;
  ExitCode code;
  {
    Session session(options, std::cout, diagnostics, shell ? nullptr : &std::cin);
    code = shell ? RunShell(session, std::cin, line.output) : Execute(line, session);
  }  // the database closes here: what it sends while closing is counted too

  std::cout.flush();
  if (!std::cout) {
    diagnostics.Line(std::string("cannot write to stdout: ") + std::strerror(errno));
    code = Worst(code, ExitCode::kStorage);
  }
  // Exactly one line, after the command's output and errors, whether it succeeded or not.
  if (costs) diagnostics.Raw("costs: " + costs->Totals().ToLine() + "\n");
  return code;
}

}  // namespace
}  // namespace s3db_cli

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  s3db_cli::Diagnostics diagnostics(std::cerr, s3db_cli::SecretsOf(args));
  try {
    return static_cast<int>(s3db_cli::Main(args, diagnostics));
  } catch (const std::exception& error) {  // e.g. bad_alloc; commands report their own
    diagnostics.Line(s3db_cli::DescribeError(error));
    return static_cast<int>(s3db_cli::ExitCode::kStorage);
  }
}
