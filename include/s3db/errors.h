// Errors: Status and Result<T> for the storage layer, typed exceptions for the API above it.
//
// Each part below keeps its own contract comment.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>
#include "s3db/export.h"

// Status and Result<T>: how the storage layer reports failure without exceptions.
//
// The storage layer (ObjectStore and below) returns values; the ORM surface (Database,
// Resource) turns a failed Status into a typed exception from errors.h. A Status knows
// whether retrying can help (RocksDB's IOStatus idea): the retry logic asks the status,
// never a string match.
//
// Thread-safety: plain values, safe to copy between threads.
namespace s3db {

enum class ErrorCode {
  kOk = 0,
  kNotFound,            // object / resource / record absent
  kAlreadyExists,       // insert of an existing id, create of an existing resource
  kPreconditionFailed,  // If-Match / If-None-Match did not hold
  kConflict,            // concurrent conditional write (S3 409); retry after re-read
  kInvalidArgument,     // bad input from the caller (id, key, URI, JSON)
  kValidation,          // a record failed its schema
  kInvalidSchema,       // a resource definition is malformed
  kMetadataTooLarge,    // user metadata over the limit
  kCorruption,          // stored bytes that cannot be decoded (or fail authentication)
  kAccessDenied,        // 403, wrong credentials, wrong passphrase
  kSlowDown,            // throttled (503 SlowDown, 429)
  kTimeout,             // request or connect timeout
  kNetwork,             // connection reset, DNS, TLS
  kIOError,             // local file system or server-side (5xx) failure
  kUnsupported,         // feature the backend or build does not have
  kInternal,            // a bug: an invariant did not hold
};

// Stable lower-case name of a code ("not_found"), used in messages and the CLI.
S3DB_EXPORT const char* ErrorCodeName(ErrorCode code);

// True for codes that a retry with backoff may cure.
S3DB_EXPORT bool IsRetryableCode(ErrorCode code);

class [[nodiscard]] S3DB_EXPORT Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return IsRetryableCode(code_); }

  // "not_found: message"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that says why there is none. GCC 12 has no std::expected.
template <typename T>
class [[nodiscard]] S3DB_EXPORT Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  ErrorCode code() const { return ok() ? ErrorCode::kOk : std::get<Status>(v_).code(); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace s3db

// Typed exceptions thrown by the public ORM surface (Database, Resource).
//
// Every exception derives from s3db::Error, which carries the ErrorCode, whether a retry
// can help, and the resource and record id it concerns (empty when not applicable).
// Messages name the resource, id, field and cause; they never contain credentials or the
// value of a secret field.
namespace s3db {

class S3DB_EXPORT Error : public std::runtime_error {
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
class S3DB_EXPORT CodedError : public Error {
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
class S3DB_EXPORT StorageError : public Error {
 public:
  StorageError(ErrorCode code, const std::string& message, std::string resource = {}, std::string id = {})
      : Error(code, message, std::move(resource), std::move(id)) {}
};

// One failing field of a record: dotted path, the rule that failed, what was expected and
// what was found (the found value is omitted for secret fields).
struct S3DB_EXPORT FieldError {
  std::string path;
  std::string rule;
  std::string expected;
  std::string actual;
  std::string message;
};

// A record failed its schema. Lists every failing field, not only the first.
class S3DB_EXPORT ValidationError : public Error {
 public:
  ValidationError(const std::string& message, std::vector<FieldError> fields, std::string resource = {},
                  std::string id = {})
      : Error(ErrorCode::kValidation, message, std::move(resource), std::move(id)), fields_(std::move(fields)) {}
  const std::vector<FieldError>& fields() const { return fields_; }

 private:
  std::vector<FieldError> fields_;
};

// Throws the typed exception that matches status.code(), with `context` before the
// status message ("users/abc: ..."). Does nothing for an OK status.
S3DB_EXPORT void ThrowIfError(const Status& status, const std::string& resource = {}, const std::string& id = {});

// Throws the typed exception for a code (never kOk).
[[noreturn]] S3DB_EXPORT void ThrowError(ErrorCode code, const std::string& message, const std::string& resource = {},
                                         const std::string& id = {});

}  // namespace s3db
