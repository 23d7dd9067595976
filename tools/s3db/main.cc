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
#include "config_file.h"
#include "json_input.h"
#include "migrate_command.h"
#include "output.h"
#include "s3db/cache.h"
#include "s3db/plugin.h"
#include "s3db/stores.h"
#include "s3db/version.h"
#include "self_description.h"
#include "serve_command.h"
#include "shell.h"

namespace s3db_cli {
namespace {

std::string EnvironmentValue(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Every secret this process may know, so no message can carry one: those in any argument
// that looks like a URI (even a misplaced or malformed one), in $S3DB_URI, and the AWS
// credentials the S3 store may read from the environment.
SecretMasker SecretsOf(const std::vector<std::string>& args) {
  SecretMasker masker;
  for (const std::string& arg : args) AddConnectionSecrets(masker, arg);
  AddConnectionSecrets(masker, EnvironmentValue("S3DB_URI"));
  AddConnectionSecrets(masker, EnvironmentValue("S3DB_CACHE"));
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

// The settings of a command, each from the first that gives it: its flag, its environment
// variable, the config file, the default (docs/CLI.md, "Configuration file").
struct Settings {
  LoadedConfig config;
  Setting uri;
  Setting concurrency;
  std::optional<Setting> passphrase_file;  // the file to read, when that is the source
  std::optional<Setting> passphrase;       // from $S3DB_PASSPHRASE (the value: never printed)
  std::optional<Setting> cache;
  std::optional<Setting> cache_ttl;
};

std::optional<Setting> FirstOf(const std::string& flag_value, const char* flag, const char* env,
                               const std::optional<Setting>& from_file) {
  if (!flag_value.empty()) return Setting{flag_value, flag};
  if (std::string value = EnvironmentValue(env); !value.empty()) return Setting{value, std::string("$") + env};
  return from_file;
}

Settings ResolveSettings(const CommandLine& line) {
  Settings settings;
  const std::string profile = line.profile.empty() ? EnvironmentValue("S3DB_PROFILE") : line.profile;
  settings.config = LoadConfig(LocateConfigFile(line.config_file), profile);
  const ConfigSettings& file = settings.config.settings;

  settings.uri = FirstOf(line.uri_given ? line.uri : "", "--uri", "S3DB_URI", file.uri)
                     .value_or(Setting{s3db::kDefaultUri, "default"});
  if (line.uri_given && line.uri.empty()) settings.uri = Setting{"", "--uri"};  // refused by the parser, as before
  settings.concurrency = FirstOf(line.concurrency_given ? std::to_string(line.concurrency) : "", "--concurrency",
                                 "S3DB_CONCURRENCY", file.concurrency)
                             .value_or(Setting{std::to_string(line.concurrency), "default"});
  if (!line.passphrase_file.empty()) {
    settings.passphrase_file = Setting{line.passphrase_file, "--passphrase-file"};
  } else if (std::string value = EnvironmentValue("S3DB_PASSPHRASE"); !value.empty()) {
    settings.passphrase = Setting{value, "$S3DB_PASSPHRASE"};
  } else {
    settings.passphrase_file = file.passphrase_file;
  }
  settings.cache = FirstOf(line.cache, "--cache", "S3DB_CACHE", file.cache);
  settings.cache_ttl = FirstOf(line.cache_ttl, "--cache-ttl", "S3DB_CACHE_TTL", file.cache_ttl);
  return settings;
}

// A whole number >= 1 from a setting given as text ($S3DB_CONCURRENCY, the file's value).
int ConcurrencyOf(const Setting& setting) {
  size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(setting.value, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != setting.value.size() || n < 1 || n > 1024) {
    throw UsageError("concurrency from " + setting.source + ": expected a whole number from 1 to 1024, got '" +
                     setting.value + "'");
  }
  return n;
}

s3db::Json SettingJson(const std::optional<Setting>& setting, bool secret = false) {
  if (!setting) return nullptr;
  return {{"value", secret ? std::string("****") : setting->value}, {"from", setting->source}};
}

// `s3db config`: what the command would use and why; no store is opened.
ExitCode PrintSettings(const Settings& settings) {
  s3db::Json json;
  json["file"] = settings.config.path.empty() ? s3db::Json(nullptr) : s3db::Json(settings.config.path);
  json["profile"] = settings.config.profile.empty() ? s3db::Json(nullptr) : s3db::Json(settings.config.profile);
  json["uri"] = SettingJson(Setting{MaskedUri(settings.uri.value), settings.uri.source});
  json["concurrency"] = {{"value", ConcurrencyOf(settings.concurrency)}, {"from", settings.concurrency.source}};
  json["passphrase"] = settings.passphrase
                           ? SettingJson(settings.passphrase, true)
                           : (settings.passphrase_file ? s3db::Json{{"file", settings.passphrase_file->value},
                                                                    {"from", settings.passphrase_file->source}}
                                                       : s3db::Json(nullptr));
  json["cache"] = settings.cache ? SettingJson(Setting{MaskedUri(settings.cache->value), settings.cache->source})
                                 : s3db::Json(nullptr);
  json["cache_ttl"] = SettingJson(settings.cache_ttl);
  std::cout << DumpJson(json) << "\n";
  return ExitCode::kOk;
}

// The resource names `s3db __complete` offers: those of the database the command would open
// (--uri, $S3DB_URI, the config file's profile, the default, as for any command), none when
// it cannot be read. A file:// directory that does not exist is not opened, so completing in
// any directory creates nothing there.
std::vector<std::string> ResourceNamesFor(const CompletionTarget& target) {
  std::string uri = target.uri;
  if (uri.empty()) uri = EnvironmentValue("S3DB_URI");
  if (uri.empty()) {
    try {
      const std::string profile = target.profile.empty() ? EnvironmentValue("S3DB_PROFILE") : target.profile;
      LoadedConfig config = LoadConfig(LocateConfigFile(target.config), profile);
      if (config.settings.uri) uri = config.settings.uri->value;
    } catch (const CliError&) {
      return {};  // a completion prints no errors
    }
  }
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
  Settings settings;
  try {
    settings = ResolveSettings(line);
    diagnostics.AddConnectionString(settings.uri.value);
    if (settings.cache) diagnostics.AddConnectionString(settings.cache->value);
    options.uri = settings.uri.value;
    options.concurrency = ConcurrencyOf(settings.concurrency);
    if (line.command == CommandId::kConfig) return PrintSettings(settings);
    options.passphrase =
        settings.passphrase ? std::optional<std::string>(settings.passphrase->value)
                            : ReadPassphrase(settings.passphrase_file ? settings.passphrase_file->value : std::string(),
                                             "S3DB_PASSPHRASE");
  } catch (const CliError& error) {
    diagnostics.Line(error.what());
    return error.code();
  }
  if (options.passphrase) diagnostics.AddSecret(*options.passphrase);
  // --costs: every store request of the command (connect included) passes through it.
  // serve: always, for its /metrics.
  std::shared_ptr<s3db::CostsPlugin> costs;
  if (line.costs || line.command == CommandId::kServe) {
    costs = std::make_shared<s3db::CostsPlugin>();
    options.plugins.push_back(costs);
  }

  if (line.command == CommandId::kWhoami) return Whoami(options.uri, diagnostics);
  if (line.command == CommandId::kMigrateFromS3dbJs) {
    return MigrateFromS3dbJsCommand(line, options.passphrase, diagnostics);
  }
  // A cache: a CachePlugin the cache commands can reach. A time to live given on the command
  // line needs a cache; one from the environment or the file is the default for when one is used.
  if (settings.cache_ttl && !settings.cache && settings.cache_ttl->source == "--cache-ttl") {
    diagnostics.Line("--cache-ttl needs --cache (see --help)");
    return ExitCode::kUsage;
  }
  if ((line.command == CommandId::kCacheStats || line.command == CommandId::kCacheClear) && !settings.cache) {
    diagnostics.Line("'cache' commands need --cache URI (see --help)");
    return ExitCode::kUsage;
  }
  std::shared_ptr<s3db::CachePlugin> cache_plugin;
  if (settings.cache) {
    s3db::Result<s3db::CacheOptions> cache = s3db::CacheOptionsFromUri(settings.cache->value);
    const std::string ttl_text = settings.cache_ttl ? settings.cache_ttl->value : "";
    std::optional<std::chrono::milliseconds> ttl = ParseDuration(ttl_text);
    if (!cache.ok() || (!ttl_text.empty() && !ttl)) {
      diagnostics.Line(
          cache.ok()
              ? settings.cache_ttl->source + ": expected a duration like 500ms, 30s or 5m, got '" + ttl_text + "'"
              : (settings.cache->source == "--cache" ? "" : settings.cache->source + ": ") + cache.status().message());
      return ExitCode::kInvalidInput;
    }
    if (ttl) cache->ttl = *ttl;
    cache->connections = static_cast<size_t>(options.concurrency);
    try {
      cache_plugin = std::make_shared<s3db::CachePlugin>(*cache);
      options.plugins.push_back(cache_plugin);
    } catch (const std::exception& error) {
      diagnostics.Line(DescribeError(error));
      return ExitCodeFor(error);
    }
  }

  if (line.command == CommandId::kServe) return RunServe(line, options, costs, cache_plugin, diagnostics);

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
