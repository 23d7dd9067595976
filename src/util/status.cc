#include "s3db/errors.h"

namespace s3db {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kValidation:
      return "validation";
    case ErrorCode::kInvalidSchema:
      return "invalid_schema";
    case ErrorCode::kMetadataTooLarge:
      return "metadata_too_large";
    case ErrorCode::kCorruption:
      return "corruption";
    case ErrorCode::kAccessDenied:
      return "access_denied";
    case ErrorCode::kSlowDown:
      return "slow_down";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kIOError:
      return "io_error";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

bool IsRetryableCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConflict:
    case ErrorCode::kSlowDown:
    case ErrorCode::kTimeout:
    case ErrorCode::kNetwork:
    case ErrorCode::kIOError:
      return true;
    default:
      return false;
  }
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

void ThrowError(ErrorCode code, const std::string& message, const std::string& resource, const std::string& id) {
  switch (code) {
    case ErrorCode::kNotFound:
      throw NotFound(message, resource, id);
    case ErrorCode::kAlreadyExists:
      throw AlreadyExists(message, resource, id);
    case ErrorCode::kPreconditionFailed:
      throw PreconditionFailed(message, resource, id);
    case ErrorCode::kConflict:
      throw Conflict(message, resource, id);
    case ErrorCode::kInvalidArgument:
      throw InvalidArgument(message, resource, id);
    case ErrorCode::kValidation:
      throw ValidationError(message, {}, resource, id);
    case ErrorCode::kInvalidSchema:
      throw InvalidSchema(message, resource, id);
    case ErrorCode::kMetadataTooLarge:
      throw MetadataTooLarge(message, resource, id);
    case ErrorCode::kCorruption:
      throw Corruption(message, resource, id);
    case ErrorCode::kAccessDenied:
      throw AccessDenied(message, resource, id);
    case ErrorCode::kUnsupported:
      throw Unsupported(message, resource, id);
    default:
      throw StorageError(code, message, resource, id);
  }
}

void ThrowIfError(const Status& status, const std::string& resource, const std::string& id) {
  if (!status.ok()) ThrowError(status.code(), status.message(), resource, id);
}

}  // namespace s3db
