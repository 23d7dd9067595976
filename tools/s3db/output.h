// What the CLI prints: records and values on stdout, one-line errors on stderr, and the exit
// code that classifies a failure (docs/CLI.md "Exit codes").
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "s3db/error_mapping.h"
#include "s3db/errors.h"
#include "s3db/record.h"
#include "s3db/record_stream.h"
#include "s3db/stores.h"

namespace s3db_cli {

// The library's numbers (s3db/error_mapping.h), as a type of the command's own.
enum class ExitCode : int {
  kOk = s3db::exit_codes::kOk,
  kUsage = s3db::exit_codes::kUsage,                // the command line itself is wrong
  kNotFound = s3db::exit_codes::kNotFound,          // no such record or resource
  kInvalidInput = s3db::exit_codes::kInvalidInput,  // the data, JSON, schema or URI is wrong
  kConflict = s3db::exit_codes::kConflict,          // exists already / precondition / concurrent write
  kStorage = s3db::exit_codes::kStorage,            // storage, network, or anything unexpected
};

// A failure the CLI describes itself, with the exit code it maps to.
class CliError : public std::runtime_error {
 public:
  CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// A mistake in how the command was called (exit 2), found after CLI11 accepted the words.
class UsageError : public CliError {
 public:
  explicit UsageError(const std::string& message) : CliError(ExitCode::kUsage, message) {}
};

ExitCode ExitCodeFor(s3db::ErrorCode code);
ExitCode ExitCodeFor(const std::exception& error);

// The worse of two outcomes, by exit code number: storage > conflict > invalid > not found.
ExitCode Worst(ExitCode a, ExitCode b);

// One line describing `error`. A ValidationError is described from its fields, each with
// its path, rule, expected and actual value.
std::string DescribeError(const std::exception& error);
// The same for one failed item of a bulk call or a stream of `resource`.
std::string DescribeItemError(const std::string& resource, const s3db::BulkItemError& error);

// 12345678 as "12,345,678".
std::string GroupThousands(uint64_t n);

// Secrets are masked by the library's one masker (include/s3db/stores.h): those a
// connection string carries, found even when it does not parse, and any added one by one
// (credentials the store may read from the environment, passphrases).
using s3db::MaskedUri;
using s3db::SecretMasker;

// Adds the secrets a connection string may carry: those SecretMasker::AddUri finds, and the
// password of redis://PASSWORD@host, which has no "KEY:" for AddUri to find.
void AddConnectionSecrets(SecretMasker& masker, const std::string& text);

// `text` with every byte a terminal could act on written as \xNN: control characters (below
// 0x20, and 0x7F) and bytes that are not part of valid UTF-8. Valid UTF-8 is kept as is.
std::string EscapeForTerminal(std::string_view text);

// `text` cut to about `max_bytes` at a UTF-8 character boundary, with "..." when cut.
std::string Abbreviate(std::string_view text, size_t max_bytes = 64);

// stderr: every line starts with "s3db: " and the context (the shell sets "line N: "), is
// masked, never spans two lines, and holds no control character or invalid UTF-8 (escaped
// as \xNN: an id or a name from hostile input cannot drive the terminal).
class Diagnostics {
 public:
  Diagnostics(std::ostream& err, SecretMasker masker);
  void Line(const std::string& message);
  // A secret learnt after start-up (a passphrase read from a file): never shown from now on.
  void AddSecret(std::string secret) { masker_.AddSecret(std::move(secret)); }
  // A connection string learnt after start-up (the config file's): its secrets never shown.
  void AddConnectionString(const std::string& text) { AddConnectionSecrets(masker_, text); }
  void SetContext(std::string context) { context_ = std::move(context); }
  // Writes `text` as is (progress lines that rewrite themselves with '\r').
  void Raw(const std::string& text);

 private:
  std::ostream& err_;
  SecretMasker masker_;
  std::string context_;
};

// A progress line on stderr that rewrites itself ('\r'), at most four times a second. Only
// when enabled (stderr is a TTY): what pipes, files and tests see never changes. Thread-safe,
// so that diagnostics from worker threads go through it and never land mid-line.
class ProgressLine {
 public:
  ProgressLine(Diagnostics& diagnostics, bool enabled) : diagnostics_(diagnostics), enabled_(enabled) {}
  // Ends a line left drawn (a command that failed half way), so its error starts a line.
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  // Shows text() unless the line was drawn less than 250 ms ago (text() is then not called).
  void Update(const std::function<std::string()>& text);
  // Diagnostics::Line, on a line of its own; the next Update draws the progress again.
  void Line(const std::string& message);
  // Shows the final text and ends the line.
  void Finish(const std::string& text);

 private:
  void Draw(const std::string& text);  // mu_ held
  void Wipe();                         // mu_ held

  Diagnostics& diagnostics_;
  const bool enabled_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> drawn_at_;
  size_t width_ = 0;  // of the line on screen; 0: none
};

struct OutputFlags {
  bool json = false;  // lists of names as one JSON array instead of one name per line
  bool meta = false;  // records also carry _etag, _lastModified and _v
};

// stdout. One JSON value or one plain value per line.
class Output {
 public:
  Output(std::ostream& out, OutputFlags flags) : out_(out), flags_(flags) {}

  void Record(const s3db::Record& record);
  void Json(const s3db::Json& value);
  void Line(const std::string& text);
  // Names (resources, ids): one per line, or with --json one JSON array.
  void Names(const std::vector<std::string>& names);

 private:
  std::ostream& out_;
  OutputFlags flags_;
};

// JSON text on one line. Invalid UTF-8 (which no parsed input contains) is replaced rather
// than thrown, so printing never fails half way.
std::string DumpJson(const s3db::Json& value);

}  // namespace s3db_cli
