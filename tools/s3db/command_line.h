// The command-line grammar (docs/CLI.md), defined once with CLI11 and used both for the
// program's arguments and for each line of `s3db shell`.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "output.h"
#include "s3db/database.h"
#include "s3db/resource.h"

namespace s3db_cli {

enum class CommandId {
  kNone,
  kResourceCreate,
  kResourceList,
  kResourceShow,
  kResourceDrop,
  kInsert,
  kGet,
  kUpdate,
  kUpsert,
  kDelete,
  kDeleteAll,
  kExists,
  kList,
  kIds,
  kCount,
  kQuery,
  kImport,
  kExport,
  kRotateKey,
  kRepair,
  kCompact,
  kBench,
  kShell,
  kWhoami,
  kCacheStats,
  kCacheClear,
  kConfig,
  kMigrateFromS3dbJs,
  kServe,
};

// `migrate from-s3dbjs` (docs/MIGRATE.md).
struct MigrateArguments {
  std::string from;                    // --from: the s3db.js bucket
  std::string to;                      // --to: the s3db database
  std::vector<std::string> resources;  // --resources a,b (empty: all)
  std::string from_passphrase_file;    // --from-passphrase-file; else the target's passphrase, else "secret"
  std::string errors_path = "s3db-migrate-errors.jsonl";  // --errors FILE
  bool verify = false;                                    // --verify: copy, then compare both sides
  bool verify_only = false;                               // --verify-only: compare, copy nothing
  bool drop_untranslatable = false;                       // --drop-untranslatable
  int ranges = 8;                                         // --parallel N key ranges per resource
};

// Everything one command line says. Each command reads only the fields it declares.
struct CommandLine {
  // Global options (the shell keeps the program's --uri and --concurrency).
  std::string uri;
  bool uri_given = false;
  int concurrency = s3db::DatabaseOptions{}.concurrency;
  bool concurrency_given = false;
  std::string config_file;      // --config FILE; else $S3DB_CONFIG_FILE, else ~/.config/s3db/config.toml
  std::string profile;          // --profile NAME; else $S3DB_PROFILE
  std::string passphrase_file;  // --passphrase-file; else $S3DB_PASSPHRASE
  bool costs = false;           // --costs: print the store requests and their cost on stderr
  std::string cache;            // --cache URI: a read-through cache (memory, file://DIR, s3://, redis://...)
  std::string cache_ttl;        // --cache-ttl DURATION ("500ms", "30s", "5m"; a bare number is seconds)
  OutputFlags output;

  CommandId command = CommandId::kNone;
  std::string resource;
  std::string id;
  std::vector<std::string> ids;
  std::string json_text;  // a record, patch or filter
  bool json_given = false;
  std::string schema_path;
  std::string file_path;
  std::string format;         // import/export --format: "jsonl" or "csv"; empty: import by extension, export jsonl
  s3db::ListOptions list;     // list.partition is --partition
  size_t limit_argument = 0;  // --limit as parsed; list.limit is set only when it was given
  // --value FIELD=V, as given (each checked to have a FIELD); ListOptionsOf builds
  // list.partition_values from them.
  std::vector<std::string> partition_values;
  bool dry_run = false;              // repair --dry-run
  std::string temp_max_age = "15m";  // repair --temp-max-age DURATION
  bool yes = false;                  // delete-all --yes
  bool upsert = false;               // import --upsert
  std::string if_match;              // update --if-match ETAG
  bool if_not_exists = false;        // resource create --if-not-exists
  std::string new_passphrase_file;   // rotate-key; else $S3DB_NEW_PASSPHRASE
  bool resume = false;               // rotate-key --resume
  // serve (docs/SERVE.md)
  std::string listen = "127.0.0.1:8080";     // --listen HOST:PORT
  std::string tls_cert;                      // --tls-cert FILE
  std::string tls_key;                       // --tls-key FILE
  std::string auth_file;                     // --auth-file FILE
  bool insecure = false;                     // --insecure: no authentication off loopback
  std::vector<std::string> cors_origins;     // --cors-origin ORIGIN (repeatable; "*": any)
  size_t max_body_bytes = 16 * 1024 * 1024;  // --max-body BYTES
  std::string read_timeout = "30s";          // --read-timeout DURATION
  int workers = 32;                          // --workers N
  MigrateArguments migrate;
  size_t bench_n = 1000;                // bench --n
  std::string bench_workload = "crud";  // bench --workload
};

enum class Grammar {
  kProgram,  // argv: global options, every command
  kShell,    // one shell line: no --uri/--concurrency, no nested `shell`
};

// "500ms", "30s", "5m", "1h"; a bare number is seconds. nullopt for anything else or <= 0.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);

// line.list with the --value arguments as its partition_values ({"FIELD": "VALUE"}).
s3db::ListOptions ListOptionsOf(const CommandLine& line);

// Declares every option and command on `app`, storing what is parsed into `line`, which must
// outlive `app`.
void DefineCommandLine(CLI::App& app, CommandLine& line, Grammar grammar);

// Parses `args` (in their usual order) with `app`. nullopt: go on and run the command.
// Otherwise the exit code: kOk after printing help that was asked for (to `out`), kUsage
// after reporting what is wrong with the command line.
std::optional<ExitCode> ParseArguments(CLI::App& app, const std::vector<std::string>& args, std::ostream& out,
                                       Diagnostics& diagnostics);

}  // namespace s3db_cli
