#include "s3db/error_mapping.h"

namespace s3db {

int ExitCodeOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return exit_codes::kOk;
    case ErrorCode::kNotFound:
      return exit_codes::kNotFound;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kValidation:
    case ErrorCode::kInvalidSchema:
    case ErrorCode::kMetadataTooLarge:
      return exit_codes::kInvalidInput;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kPreconditionFailed:
    case ErrorCode::kConflict:
      return exit_codes::kConflict;
    case ErrorCode::kIOError:
    case ErrorCode::kNetwork:
    case ErrorCode::kTimeout:
    case ErrorCode::kSlowDown:
    case ErrorCode::kCorruption:
    case ErrorCode::kAccessDenied:
    case ErrorCode::kUnsupported:
    case ErrorCode::kInternal:
      return exit_codes::kStorage;
  }
  return exit_codes::kStorage;
}

int ExitCodeOf(const std::exception& error) {
  if (const auto* coded = dynamic_cast<const Error*>(&error)) return ExitCodeOf(coded->code());
  return exit_codes::kStorage;
}

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kValidation:
    case ErrorCode::kInvalidSchema:
    case ErrorCode::kMetadataTooLarge:
      return 422;
    case ErrorCode::kSlowDown:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kNetwork:
    case ErrorCode::kIOError:
    case ErrorCode::kAccessDenied:  // the store refused the server's credentials or passphrase
      return 502;
    case ErrorCode::kUnsupported:
      return 501;
    case ErrorCode::kCorruption:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ProblemTypeOf(ErrorCode code) { return ProblemTypeOf(std::string(ErrorCodeName(code))); }

std::string ProblemTypeOf(const std::string& code_name) { return "urn:s3db:problem:" + code_name; }

}  // namespace s3db
