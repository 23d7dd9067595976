// How an ErrorCode shows outside a program: the exit code the `s3db` command ends with, and
// the HTTP status and problem type `s3db serve` answers with. One table, so the command and
// the server (and a C++ program that wants to answer alike) never disagree about a failure:
// a script reads the same meaning from an exit code and from a problem's "exitCode".
#pragma once

#include <exception>
#include <string>

#include "s3db/errors.h"
#include "s3db/export.h"

// Named "...Of" where the CLI has its own "...For" of a typed exit code: both found for one
// call (the CLI's by scope, these by argument-dependent lookup) would be ambiguous.
namespace s3db {

// The exit codes of the `s3db` command for library failures (docs/CLI.md, "Exit codes").
// 2 (usage) is the command line's own and no ErrorCode maps to it.
namespace exit_codes {
inline constexpr int kOk = 0;
inline constexpr int kUsage = 2;
inline constexpr int kNotFound = 3;      // no such record or resource
inline constexpr int kInvalidInput = 4;  // the data, JSON, schema, id or URI is wrong
inline constexpr int kConflict = 5;      // exists already, a failed precondition, a concurrent write
inline constexpr int kStorage = 6;       // storage, network, corruption, access, unsupported, internal
}  // namespace exit_codes

S3DB_EXPORT int ExitCodeOf(ErrorCode code);
// An s3db::Error's code's exit code; any other exception is unexpected: kStorage.
S3DB_EXPORT int ExitCodeOf(const std::exception& error);

// The HTTP status of a problem document for the code: 404 not found, 409 exists or conflict,
// 412 precondition, 400 invalid argument, 422 invalid record, schema or metadata size, 503
// slow down, 504 timeout, 502 storage, network or access to the store, 501 unsupported, 500
// corruption and internal.
S3DB_EXPORT int HttpStatusOf(ErrorCode code);

// The problem's "type": "urn:s3db:problem:" and ErrorCodeName (e.g. urn:s3db:problem:not_found).
S3DB_EXPORT std::string ProblemTypeOf(ErrorCode code);
// The same for a problem name that is no ErrorCode (a server's own, e.g. "unauthenticated").
S3DB_EXPORT std::string ProblemTypeOf(const std::string& code_name);

}  // namespace s3db
