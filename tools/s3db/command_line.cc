#include "command_line.h"

#include <cctype>
#include <sstream>

#include "bench.h"

#include "s3db/stores.h"
#include "s3db/version.h"

namespace s3db_cli {
namespace {

constexpr const char* kExitCodes =
    "Exit codes: 0 ok, 2 usage, 3 not found, 4 invalid input (validation, bad JSON, bad "
    "schema, bad URI), 5 conflict (exists already, precondition failed), 6 storage or network "
    "error. Errors go to stderr as one line starting with \"s3db: \". See docs/CLI.md.\n";

// CLI11's NonNegativeNumber reports its range as a 300-digit double; this says it plainly.
CLI::Validator WholeNumberAtLeast(long long minimum) {
  const std::string expected = "a whole number >= " + std::to_string(minimum);
  return CLI::Validator(
      [minimum, expected](std::string& text) -> std::string {
        size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::logic_error&) {  // invalid_argument, out_of_range
          used = 0;
        }
        if (used == 0 || used != text.size() || value < minimum) {
          return "expected " + expected + ", got '" + text + "'";
        }
        return {};
      },
      "N");
}

// Marks `command` as the one to run once CLI11 has parsed its arguments.
void Select(CLI::App* command, CommandLine& line, CommandId id) {
  command->callback([&line, id] { line.command = id; });
}

void AddResourceName(CLI::App* command, CommandLine& line) {
  command->add_option("NAME", line.resource, "Resource name")->required();
}

void AddRecordId(CLI::App* command, CommandLine& line) {
  command->add_option("ID", line.id, "Record id (after `--` if it starts with '-')")->required();
}

// --limit/--offset of list, ids and query. CLI11 cannot bind std::optional, so the limit is
// parsed into a plain number and copied over only when given.
void AddPaging(CLI::App* command, CommandLine& line) {
  CLI::Option* limit =
      command->add_option("--limit", line.limit_argument, "At most N results")->check(WholeNumberAtLeast(0));
  command->add_option("--offset", line.list.offset, "Skip the first N results")->check(WholeNumberAtLeast(0));
  command->parse_complete_callback([&line, limit] {
    if (limit->count() > 0) line.list.limit = line.limit_argument;
  });
}

// --partition P --value FIELD=V ... of list, ids, count and query. A value's text is
// the partition value as is (a number or a date goes through the partition's rule, so "7"
// and "2024-06-27" work); FIELD is the field's dot path.
void AddPartitionFilter(CLI::App* command, CommandLine& line) {
  CLI::Option* partition = command->add_option("--partition", line.list.partition, "Only records of this partition");
  command
      ->add_option("--value", line.partition_values, "FIELD=VALUE of the partition (repeat for its fields, in order)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            const size_t eq = text.find('=');
            if (eq == std::string::npos || eq == 0) {
              return "expected FIELD=VALUE, got '" + text + "'";
            }
            return {};
          },
          "FIELD=VALUE"))
      ->needs(partition)
      ->allow_extra_args(false);  // one FIELD=VALUE per --value
}

// --no-verify of ids and count: through a partition, trust its references instead of
// reading every record they name (ListOptions::verify).
void AddTrustIndex(CLI::App* command, CommandLine& line) {
  command->add_flag_callback(
      "--no-verify", [&line] { line.list.verify = false; },
      "With --partition: trust the partition's references (one LIST per 1000 ids) instead of "
      "reading each record to check it still belongs (one GET each)");
}

void DefineResourceCommands(CLI::App& app, CommandLine& line) {
  CLI::App* resource = app.add_subcommand("resource", "Create, list, show and drop resources");
  resource->require_subcommand(1);

  CLI::App* create = resource->add_subcommand("create", "Create a resource from a schema file; prints it");
  AddResourceName(create, line);
  create
      ->add_option("--schema", line.schema_path,
                   "JSON file: {\"attributes\": {...}, \"behavior\": ..., \"timestamps\": ..., "
                   "\"partitions\": {...}}")
      ->required();
  create->add_flag("--if-not-exists", line.if_not_exists,
                   "Succeed (printing it) when the resource exists with the same definition");
  Select(create, line, CommandId::kResourceCreate);

  CLI::App* list = resource->add_subcommand("list", "Resource names, one per line");
  Select(list, line, CommandId::kResourceList);

  CLI::App* show = resource->add_subcommand("show", "The definition as JSON, plus \"version\"");
  AddResourceName(show, line);
  Select(show, line, CommandId::kResourceShow);

  CLI::App* drop = resource->add_subcommand("drop", "Delete a resource and all its records");
  AddResourceName(drop, line);
  Select(drop, line, CommandId::kResourceDrop);
}

void DefineRecordCommands(CLI::App& app, CommandLine& line) {
  CLI::App* insert =
      app.add_subcommand("insert", "Insert a record (JSON argument) or JSON lines from stdin; prints each record");
  AddResourceName(insert, line);
  CLI::Option* record = insert->add_option("JSON", line.json_text, "The record as a JSON object");
  insert->parse_complete_callback([&line, record] { line.json_given = record->count() > 0; });
  Select(insert, line, CommandId::kInsert);

  CLI::App* get = app.add_subcommand("get", "Print a record");
  AddResourceName(get, line);
  AddRecordId(get, line);
  Select(get, line, CommandId::kGet);

  CLI::App* update =
      app.add_subcommand("update", "Merge a JSON patch into a record (nested objects merge); prints the result");
  AddResourceName(update, line);
  AddRecordId(update, line);
  update->add_option("JSON", line.json_text, "The patch as a JSON object")->required();
  update->add_option("--if-match", line.if_match,
                     "Write only if the record's ETag is still ETAG (as `get --meta` printed it); exit 5 if not");
  Select(update, line, CommandId::kUpdate);

  CLI::App* upsert = app.add_subcommand("upsert", "Insert the record, or merge into it if it exists");
  AddResourceName(upsert, line);
  AddRecordId(upsert, line);
  upsert->add_option("JSON", line.json_text, "The record as a JSON object")->required();
  Select(upsert, line, CommandId::kUpsert);

  CLI::App* remove = app.add_subcommand("delete", "Delete records; if any id is missing, nothing is deleted");
  AddResourceName(remove, line);
  remove->add_option("ID", line.ids, "Record ids")->required();
  Select(remove, line, CommandId::kDelete);

  CLI::App* delete_all =
      app.add_subcommand("delete-all", "Delete every record of a resource (needs --yes); the resource stays");
  AddResourceName(delete_all, line);
  delete_all->add_flag("--yes", line.yes, "Confirm: without it nothing is deleted (exit 2)");
  Select(delete_all, line, CommandId::kDeleteAll);

  CLI::App* exists = app.add_subcommand("exists", "Print true or false (exit 0 either way)");
  AddResourceName(exists, line);
  AddRecordId(exists, line);
  Select(exists, line, CommandId::kExists);
}

void DefineReadCommands(CLI::App& app, CommandLine& line) {
  CLI::App* list = app.add_subcommand("list", "Records in id order, one JSON object per line");
  AddResourceName(list, line);
  AddPaging(list, line);
  AddPartitionFilter(list, line);
  Select(list, line, CommandId::kList);

  CLI::App* ids = app.add_subcommand("ids", "Ids in key order, one per line");
  AddResourceName(ids, line);
  AddPaging(ids, line);
  AddPartitionFilter(ids, line);
  AddTrustIndex(ids, line);
  Select(ids, line, CommandId::kIds);

  CLI::App* count = app.add_subcommand("count", "Print the number of records");
  AddResourceName(count, line);
  AddPartitionFilter(count, line);
  AddTrustIndex(count, line);
  Select(count, line, CommandId::kCount);

  CLI::App* query =
      app.add_subcommand("query", "Records whose fields equal every entry of a filter ({\"address.country\": \"UK\"})");
  AddResourceName(query, line);
  query->add_option("FILTER_JSON", line.json_text, "JSON object of dot path -> value")->required();
  AddPaging(query, line);
  AddPartitionFilter(query, line);
  Select(query, line, CommandId::kQuery);

  CLI::App* repair =
      app.add_subcommand("repair",
                         "Find partition references no record needs and ones records need that are missing, fix "
                         "them; prints a JSON summary");
  AddResourceName(repair, line);
  repair->add_flag("--dry-run", line.dry_run, "Report what is wrong, change nothing");
  repair
      ->add_option("--temp-max-age", line.temp_max_age,
                   "File store: a temporary file older than this is stale whoever wrote it (default 15m); a younger "
                   "one only when its writer was a process of this host that no longer exists")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            // At least a second: a shorter age would judge a write in progress stale.
            const std::optional<std::chrono::milliseconds> age = ParseDuration(text);
            if (age && *age >= std::chrono::seconds(1)) return {};
            return "expected a duration of at least 1s, like 30s, 15m or 1h, got '" + text + "'";
          },
          "DURATION"));
  Select(repair, line, CommandId::kRepair);

  CLI::App* compact =
      app.add_subcommand("compact",
                         "Write a new scan snapshot of a resource, so list, query and export take unchanged records "
                         "from a few segment objects instead of a GET each; prints a JSON summary");
  AddResourceName(compact, line);
  Select(compact, line, CommandId::kCompact);
}

// --format of import and export: jsonl or csv.
void AddFormat(CLI::App* command, CommandLine& line, const char* description) {
  command->add_option("--format", line.format, description)
      ->check(CLI::Validator(
          [](std::string& format) -> std::string {
            if (format == "jsonl" || format == "csv") return {};
            return "format '" + format + "' is not supported (jsonl or csv)";
          },
          "jsonl|csv"));
}

void DefineTransferCommands(CLI::App& app, CommandLine& line) {
  CLI::App* import = app.add_subcommand(
      "import", "Insert every record of FILE (JSON lines, or CSV); failures are reported and skipped");
  AddResourceName(import, line);
  import->add_option("FILE", line.file_path, "JSON lines file (.jsonl), or CSV with a header row (.csv)")->required();
  AddFormat(import, line, "Input format (default: csv for a FILE ending in .csv, else jsonl)");
  import->add_flag("--upsert", line.upsert,
                   "Insert each record, or merge it into the record of its id that exists (every record needs an "
                   "\"id\"): running the same import again completes it instead of failing on the ids it wrote");
  Select(import, line, CommandId::kImport);

  CLI::App* export_command =
      app.add_subcommand("export", "Print every record as JSON lines (or CSV with --format csv), in id order");
  AddResourceName(export_command, line);
  AddFormat(export_command, line, "Output format (default jsonl)");
  Select(export_command, line, CommandId::kExport);
}

// CLI11 says "A subcommand is required" both for `s3db` and for `s3db frobnicate`; say
// which command is missing or name the unknown word.
std::optional<std::string> MissingOrUnknownCommand(CLI::App& app) {
  std::string path;
  CLI::App* command = &app;
  while (!command->get_subcommands().empty()) {
    command = command->get_subcommands().front();
    path += path.empty() ? command->get_name() : " " + command->get_name();
  }
  if (command->get_require_subcommand_min() == 0) return std::nullopt;
  const std::vector<std::string> unused = app.remaining(/*recurse=*/true);
  if (!unused.empty()) {
    return "unknown command '" + (path.empty() ? "" : path + " ") + unused.front() + "'";
  }
  return path.empty() ? "a command is required" : "'" + path + "' needs a command";
}

}  // namespace

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

s3db::ListOptions ListOptionsOf(const CommandLine& line) {
  s3db::ListOptions options = line.list;
  for (const std::string& text : line.partition_values) {
    const size_t eq = text.find('=');  // the validator made sure there is one
    options.partition_values[text.substr(0, eq)] = text.substr(eq + 1);
  }
  return options;
}

void DefineCommandLine(CLI::App& app, CommandLine& line, Grammar grammar) {
  app.description("s3db: a document database whose only storage is an S3 bucket");
  app.footer(kExitCodes);
  app.require_subcommand(1);
  // Global flags may follow the command too: `s3db get users ada --meta`. Inherited by every
  // subcommand added after this call.
  app.fallthrough();

  if (grammar == Grammar::kProgram) {
    app.set_version_flag("--version", std::string("s3db ") + s3db::LibraryVersion(), "Print the version and exit");
    CLI::Option* uri = app.add_option(
        "--uri", line.uri, std::string("Connection string (default: $S3DB_URI, else ") + s3db::kDefaultUri + ")");
    CLI::Option* concurrency =
        app.add_option("--concurrency", line.concurrency,
                       "Concurrent store requests of bulk operations (default: $S3DB_CONCURRENCY, else 8)")
            ->check(WholeNumberAtLeast(1))
            ->check(CLI::Range(1, 1024));
    app.add_option("--passphrase-file", line.passphrase_file,
                   "File holding the passphrase of secret fields (default: $S3DB_PASSPHRASE)");
    app.add_option("--config", line.config_file,
                   "Configuration file (default: $S3DB_CONFIG_FILE, else $XDG_CONFIG_HOME/s3db/config.toml or "
                   "~/.config/s3db/config.toml when it exists)");
    app.add_option("--profile", line.profile,
                   "The configuration file's [profile.NAME] to use (default: $S3DB_PROFILE, else its top level)");
    app.add_flag("--costs", line.costs,
                 "After the command (the shell: at exit), print on stderr one line: costs: {store "
                 "requests by type, bytes out and in, USD at S3 Standard prices}");
    app.add_option("--cache", line.cache,
                   "A read-through cache: memory, file://DIR, s3:// (the database's bucket), redis://[user:password@]"
                   "host:port/db or unix://PATH (docs/PLUGINS.md)");
    app.add_option("--cache-ttl", line.cache_ttl, "Time to live of cache entries: 500ms, 30s, 5m (default 60s)");
    app.parse_complete_callback([&line, uri, concurrency] {
      line.uri_given = uri->count() > 0;
      line.concurrency_given = concurrency->count() > 0;
    });
  }
  app.add_flag("--json", line.output.json, "Lists of names (resource list, ids) as a JSON array");
  app.add_flag("--meta", line.output.meta, "Records also carry _etag, _lastModified and _v");

  DefineResourceCommands(app, line);
  DefineRecordCommands(app, line);
  DefineReadCommands(app, line);
  DefineTransferCommands(app, line);

  if (grammar == Grammar::kProgram) {
    CLI::App* rotate =
        app.add_subcommand("rotate-key",
                           "Derive a new key from a new passphrase and re-encrypt every secret value; prints a "
                           "JSON summary");
    rotate->add_option("--new-passphrase-file", line.new_passphrase_file,
                       "File holding the new passphrase (default: $S3DB_NEW_PASSPHRASE; never "
                       "an argument, which other users could see)");
    rotate->add_flag("--resume", line.resume, "Only re-encrypt what an interrupted rotation left under older keys");
    Select(rotate, line, CommandId::kRotateKey);

    CLI::App* bench =
        app.add_subcommand("bench",
                           "Time the benchmark workload (insert, get, update, list, query, delete of N records) in a "
                           "resource of its own, dropped at the end; prints one JSON line (--json is implied)");
    bench->add_option("--n", line.bench_n, "Records in the workload (default 1000)")->check(WholeNumberAtLeast(1));
    bench
        ->add_option("--workload", line.bench_workload,
                     "crud (default: every step, as bench/peer runs them) or cached-get (get uncached, then "
                     "through --cache: filling it, then from it)")
        ->check(CLI::IsMember({kCrudWorkload, kCachedGetWorkload}));
    Select(bench, line, CommandId::kBench);

    CLI::App* migrate = app.add_subcommand("migrate", "Bring data over from another database");
    migrate->require_subcommand(1);
    CLI::App* from_s3dbjs = migrate->add_subcommand(
        "from-s3dbjs",
        "Copy the resources of an s3db.js 21.x bucket into s3db (read-only on the source, resumable); prints a "
        "JSON summary, writes failed records to --errors (docs/MIGRATE.md)");
    from_s3dbjs->add_option("--from", line.migrate.from, "The s3db.js bucket, as a connection string")->required();
    from_s3dbjs->add_option("--to", line.migrate.to, "The s3db database to fill, as a connection string")->required();
    from_s3dbjs->add_option("--resources", line.migrate.resources, "Only these resources (a,b,c; default all)")
        ->delimiter(',');
    from_s3dbjs->add_option("--from-passphrase-file", line.migrate.from_passphrase_file,
                            "File holding s3db.js's security.passphrase, when it is not s3db's (default: "
                            "--passphrase-file's, else s3db.js's default \"secret\")");
    from_s3dbjs->add_option("--errors", line.migrate.errors_path,
                            "Append each failed record to this JSON-lines file (default s3db-migrate-errors.jsonl)");
    from_s3dbjs->add_flag("--verify", line.migrate.verify,
                          "After copying, re-read both sides and compare every record");
    from_s3dbjs->add_flag("--verify-only", line.migrate.verify_only, "Only compare both sides; copy nothing");
    from_s3dbjs->add_flag("--drop-untranslatable", line.migrate.drop_untranslatable,
                          "Migrate resources with fields s3db cannot represent, leaving those fields out (still "
                          "reported)");
    from_s3dbjs->add_option("--parallel", line.migrate.ranges, "Key ranges copied at once per resource (default 8)")
        ->check(CLI::Range(1, 64));
    Select(from_s3dbjs, line, CommandId::kMigrateFromS3dbJs);

    CLI::App* cache = app.add_subcommand("cache", "The cache named by --cache");
    cache->require_subcommand(1);
    CLI::App* stats =
        cache->add_subcommand("stats", "Print the cache's counters as JSON (entries as its driver counts them)");
    Select(stats, line, CommandId::kCacheStats);
    CLI::App* clear = cache->add_subcommand("clear", "Drop every cached entry of a resource, for every process");
    AddResourceName(clear, line);
    Select(clear, line, CommandId::kCacheClear);

    CLI::App* shell =
        app.add_subcommand("shell",
                           "Run commands read from stdin, one per line, against one open database (the way to "
                           "use memory://)");
    Select(shell, line, CommandId::kShell);

    CLI::App* whoami = app.add_subcommand(
        "whoami",
        "Print, as JSON, where the S3 connection's credentials come from, the masked access key id, the region and "
        "the endpoint; sends no S3 request");
    Select(whoami, line, CommandId::kWhoami);

    CLI::App* config = app.add_subcommand(
        "config",
        "Print, as JSON, each setting the command would use (uri, concurrency, passphrase, cache, cache_ttl) and "
        "where it comes from: a flag, the environment, the config file or the default; secrets masked");
    Select(config, line, CommandId::kConfig);

    CLI::App* serve = app.add_subcommand(
        "serve",
        "Serve the database over HTTP/JSON (docs/SERVE.md) until SIGTERM or SIGINT; prints one JSON line with the "
        "address once it listens");
    serve->add_option("--listen", line.listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0: any free one)");
    serve->add_option("--tls-cert", line.tls_cert, "PEM certificate chain: serve HTTPS (needs --tls-key)");
    serve->add_option("--tls-key", line.tls_key, "PEM private key of --tls-cert");
    serve->add_option("--auth-file", line.auth_file,
                      "JSON file of API keys (SHA-256 digests, scopes) and JWT settings; without it no "
                      "authentication, allowed on loopback only");
    serve->add_flag("--insecure", line.insecure, "Allow serving without authentication on a non-loopback address");
    serve->add_option("--cors-origin", line.cors_origins, "An origin browsers may call from (repeatable; * for any)");
    serve->add_option("--max-body", line.max_body_bytes, "Largest request body in bytes (default 16 MiB)")
        ->check(WholeNumberAtLeast(1));
    serve->add_option("--read-timeout", line.read_timeout,
                      "Time to receive one whole request, idle keep-alive included (default 30s)");
    serve->add_option("--workers", line.workers, "Requests handled at once (default 32)")->check(CLI::Range(1, 4096));
    Select(serve, line, CommandId::kServe);
  }
}

std::optional<ExitCode> ParseArguments(CLI::App& app, const std::vector<std::string>& args, std::ostream& out,
                                       Diagnostics& diagnostics) {
  try {
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 wants them reversed
    return std::nullopt;
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {  // --help: CLI11 prints the help of the command asked
      std::ostringstream ignored;
      app.exit(error, out, ignored);
      return ExitCode::kOk;
    }
    diagnostics.Line(MissingOrUnknownCommand(app).value_or(error.what()) + " (see --help)");
    return ExitCode::kUsage;
  }
}

}  // namespace s3db_cli
