// Errors as RFC 9457 problem documents (application/problem+json): each s3db ErrorCode has one
// HTTP status and the exit code the CLI gives the same failure (docs/CLI.md, "Exit codes"), so
// a script reads the same meaning from either. The table is the library's, shared with the
// CLI: s3db/error_mapping.h.
#pragma once

#include <exception>
#include <string>

#include "http_types.h"
#include "s3db/error_mapping.h"
#include "s3db/errors.h"

namespace s3db::serve {

// {"type", "title", "status", "detail", "code", "exitCode"} plus "resource", "id" when known.
HttpResponse Problem(int status, const std::string& code_name, int exit_code, const std::string& detail);
// From an exception the library threw: its code's status, "resource", "id", and for a
// ValidationError every failing field under "errors".
HttpResponse ProblemFor(const std::exception& error);
// A problem the server itself raises (400 for a malformed body, 401, 403, 404 for no route,
// 405, 413, 431, 500) with a code name chosen by status.
HttpResponse ServerProblem(int status, const std::string& detail);

}  // namespace s3db::serve
