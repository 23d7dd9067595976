// What the CLI prints: records and values on stdout, one-line errors on stderr, and the exit
// code that classifies a failure (docs/CLI.md "Exit codes").
#pragma once

#include <exception>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

#include "s3db/json.h"
#include "s3db/record.h"
#include "s3db/status.h"

namespace s3db_cli {

enum class ExitCode : int {
  kOk = 0,
  kUsage = 2,         // the command line itself is wrong
  kNotFound = 3,      // no such record or resource
  kInvalidInput = 4,  // the data, JSON, schema or URI is wrong
  kConflict = 5,      // exists already / precondition / concurrent write
  kStorage = 6,       // storage, network, or anything unexpected
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

// Removes secrets from messages: those a connection string carries (the secret key and
// session token, as written and URL-decoded, found even when the string does not parse) and
// any added one by one (credentials the store may read from the environment).
class SecretMasker {
 public:
  void AddUri(const std::string& uri);
  void AddSecret(std::string secret);
  std::string Mask(std::string text) const;

 private:
  std::vector<std::string> secrets_;  // longest first, so no secret is masked only in part
};

// The URI as it may be shown: StoreUri::ToString() when it parses, else masked by hand.
std::string MaskedUri(const std::string& uri);

// stderr: every line starts with "s3db: " and the context (the shell sets "line N: "), is
// masked, and never spans two lines.
class Diagnostics {
 public:
  Diagnostics(std::ostream& err, SecretMasker masker);
  void Line(const std::string& message);
  // A secret learnt after start-up (a passphrase read from a file): never shown from now on.
  void AddSecret(std::string secret) { masker_.AddSecret(std::move(secret)); }
  void SetContext(std::string context) { context_ = std::move(context); }
  // Writes `text` as is (progress lines that rewrite themselves with '\r').
  void Raw(const std::string& text);

 private:
  std::ostream& err_;
  SecretMasker masker_;
  std::string context_;
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
