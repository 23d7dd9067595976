#include "migrate_command.h"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include <unistd.h>

#include "json_input.h"
#include "s3db/s3dbjs.h"

namespace s3db_cli {
namespace {

// Ctrl-C: the first asks the migration to stop after the records in flight (it checkpoints,
// so a re-run resumes); a second one ends the process at once.
std::atomic<bool> stop_requested{false};

extern "C" void OnInterrupt(int) {
  stop_requested.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

ExitCode ExitCodeOfErrors(const std::map<std::string, size_t>& codes) {
  ExitCode worst = ExitCode::kOk;
  for (const auto& [code, count] : codes) {
    (void)count;
    ExitCode mapped = ExitCode::kInvalidInput;  // validation, corruption, unsupported, access_denied
    if (code == "network" || code == "io_error" || code == "timeout" || code == "slow_down" || code == "internal") {
      mapped = ExitCode::kStorage;
    }
    if (code == "already_exists" || code == "conflict" || code == "mismatch") mapped = ExitCode::kConflict;
    if (code == "not_found") mapped = ExitCode::kNotFound;
    worst = Worst(worst, mapped);
  }
  return worst;
}

}  // namespace

ExitCode MigrateFromS3dbJsCommand(const CommandLine& line, const std::optional<std::string>& target_passphrase,
                                  Diagnostics& diagnostics) {
  diagnostics.AddConnectionString(line.migrate.from);
  diagnostics.AddConnectionString(line.migrate.to);
  s3db::S3dbJsMigrationOptions options;
  options.from = line.migrate.from;
  options.to = line.migrate.to;
  options.resources = line.migrate.resources;
  options.drop_untranslatable = line.migrate.drop_untranslatable;
  options.verify = line.migrate.verify || line.migrate.verify_only;
  options.copy = !line.migrate.verify_only;
  options.ranges = line.migrate.ranges;
  if (target_passphrase) options.to_passphrase = *target_passphrase;
  try {
    std::optional<std::string> from_passphrase = ReadPassphrase(line.migrate.from_passphrase_file, "");
    if (from_passphrase) {
      diagnostics.AddSecret(*from_passphrase);
      options.from_passphrase = *from_passphrase;
    } else if (target_passphrase) {
      options.from_passphrase = *target_passphrase;
    }
  } catch (const CliError& error) {
    diagnostics.Line(error.what());
    return error.code();
  }

  // The error report: one JSON object a line, appended, so that the failures of an earlier,
  // interrupted run stay next to those of the run that resumed it.
  std::ofstream errors_file(line.migrate.errors_path, std::ios::app);
  if (!errors_file) {
    diagnostics.Line("migrate: cannot open the error report '" + line.migrate.errors_path + "' for writing");
    return ExitCode::kStorage;
  }
  ProgressLine progress(diagnostics, isatty(STDERR_FILENO) != 0);
  std::mutex mu;  // the callbacks come from worker threads
  std::map<std::string, size_t> codes;
  size_t reported = 0;
  options.on_error = [&](const s3db::S3dbJsMigrationError& error) {
    std::lock_guard lock(mu);
    errors_file << error.ToJson().dump(-1, ' ', false, s3db::Json::error_handler_t::replace) << "\n";
    errors_file.flush();
    ++codes[error.code];
    ++reported;
    if (error.id.empty()) progress.Line("migrate: resource '" + error.resource + "': " + error.message);
  };
  options.on_progress = [&](const s3db::S3dbJsMigrationProgress& p) {
    if (p.finished) return;
    progress.Update([&] {
      return "migrate " + p.resource + ": " + std::to_string(p.done) + " records, " + std::to_string(reported) +
             " errors";
    });
  };
  stop_requested.store(false);
  options.should_stop = [] { return stop_requested.load(); };
  auto previous_int = std::signal(SIGINT, OnInterrupt);
  auto previous_term = std::signal(SIGTERM, OnInterrupt);

  ExitCode code = ExitCode::kOk;
  try {
    s3db::S3dbJsMigrationResult result = s3db::MigrateFromS3dbJs(options);
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    progress.Finish("migrate: " + std::to_string(result.resources.size()) + " resources, " +
                    std::to_string(result.errors) + " errors");
    s3db::Json summary = result.ToJson();
    summary["error_report"] = line.migrate.errors_path;
    std::cout << DumpJson(summary) << "\n";
    if (result.errors > 0) {
      diagnostics.Line("migrate: " + std::to_string(result.errors) + " errors, each a line of " +
                       line.migrate.errors_path);
      code = ExitCodeOfErrors(codes);
    }
    if (result.interrupted) {
      diagnostics.Line("migrate: interrupted; run the same command again to resume");
      code = Worst(code, ExitCode::kStorage);
    }
  } catch (const std::exception& error) {
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    progress.Line(DescribeError(error));
    // A bucket of an s3db.js this cannot read is the input's fault, not the storage's.
    if (dynamic_cast<const s3db::S3dbJsVersionUnsupported*>(&error)) return ExitCode::kInvalidInput;
    return ExitCodeFor(error);
  }
  return code;
}

}  // namespace s3db_cli
