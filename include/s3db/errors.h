// Typed exceptions thrown by the public ORM surface (Database, Resource).
//
// Every exception derives from s3db::Error, which carries the ErrorCode, whether a retry
// can help, and the resource and record id it concerns (empty when not applicable).
// Messages name the resource, id, field and cause; they never contain credentials or the
// value of a secret field.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "s3db/status.h"

namespace s3db {

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message, std::string resource = {}, std::string id = {})
      : std::runtime_error(message), code_(code), resource_(std::move(resource)), id_(std::move(id)) {}

  ErrorCode code() const { return code_; }
  bool retryable() const { return IsRetryableCode(code_); }
  const std::string& resource() const { return resource_; }
  const std::string& id() const { return id_; }

 private:
  ErrorCode code_;
  std::string resource_;
  std::string id_;
};

// One exception type per code, so callers catch exactly what they handle:
// `catch (const s3db::NotFound&)`.
template <ErrorCode kCode>
class CodedError : public Error {
 public:
  explicit CodedError(const std::string& message, std::string resource = {}, std::string id = {})
      : Error(kCode, message, std::move(resource), std::move(id)) {}
};

using NotFound = CodedError<ErrorCode::kNotFound>;
using AlreadyExists = CodedError<ErrorCode::kAlreadyExists>;
using PreconditionFailed = CodedError<ErrorCode::kPreconditionFailed>;
using Conflict = CodedError<ErrorCode::kConflict>;
using InvalidArgument = CodedError<ErrorCode::kInvalidArgument>;
using InvalidSchema = CodedError<ErrorCode::kInvalidSchema>;
using MetadataTooLarge = CodedError<ErrorCode::kMetadataTooLarge>;
using Corruption = CodedError<ErrorCode::kCorruption>;
using AccessDenied = CodedError<ErrorCode::kAccessDenied>;
using Unsupported = CodedError<ErrorCode::kUnsupported>;

// Storage or network failure (I/O, 5xx, throttling, timeouts). retryable() tells which.
class StorageError : public Error {
 public:
  StorageError(ErrorCode code, const std::string& message, std::string resource = {},
               std::string id = {})
      : Error(code, message, std::move(resource), std::move(id)) {}
};

// One failing field of a record: dotted path, the rule that failed, what was expected and
// what was found (the found value is omitted for secret fields).
struct FieldError {
  std::string path;
  std::string rule;
  std::string expected;
  std::string actual;
  std::string message;
};

// A record failed its schema. Lists every failing field, not only the first.
class ValidationError : public Error {
 public:
  ValidationError(const std::string& message, std::vector<FieldError> fields,
                  std::string resource = {}, std::string id = {})
      : Error(ErrorCode::kValidation, message, std::move(resource), std::move(id)),
        fields_(std::move(fields)) {}
  const std::vector<FieldError>& fields() const { return fields_; }

 private:
  std::vector<FieldError> fields_;
};

// Throws the typed exception that matches status.code(), with `context` before the
// status message ("users/abc: ..."). Does nothing for an OK status.
void ThrowIfError(const Status& status, const std::string& resource = {},
                  const std::string& id = {});

// Throws the typed exception for a code (never kOk).
[[noreturn]] void ThrowError(ErrorCode code, const std::string& message,
                             const std::string& resource = {}, const std::string& id = {});

}  // namespace s3db
