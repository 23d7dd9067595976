// Status and Result<T>: how the storage layer reports failure without exceptions.
//
// The storage layer (ObjectStore and below) returns values; the ORM surface (Database,
// Resource) turns a failed Status into a typed exception from errors.h. A Status knows
// whether retrying can help (RocksDB's IOStatus idea): the retry logic asks the status,
// never a string match.
//
// Thread-safety: plain values, safe to copy between threads.
#pragma once

#include <string>
#include <utility>
#include <variant>

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
const char* ErrorCodeName(ErrorCode code);

// True for codes that a retry with backoff may cure.
bool IsRetryableCode(ErrorCode code);

class [[nodiscard]] Status {
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
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
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
