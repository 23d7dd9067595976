// The one table from ErrorCode to exit code, HTTP status and problem type
// (s3db/error_mapping.h) that the CLI and `s3db serve` both answer with.
#include <gtest/gtest.h>

#include <iterator>
#include <set>
#include <stdexcept>

#include "s3db/error_mapping.h"
#include "s3db/errors.h"

namespace s3db {
namespace {

constexpr ErrorCode kEveryErrorCodeForMapping[] = {
    ErrorCode::kNotFound,      ErrorCode::kAlreadyExists,    ErrorCode::kPreconditionFailed,
    ErrorCode::kConflict,      ErrorCode::kInvalidArgument,  ErrorCode::kValidation,
    ErrorCode::kInvalidSchema, ErrorCode::kMetadataTooLarge, ErrorCode::kCorruption,
    ErrorCode::kAccessDenied,  ErrorCode::kSlowDown,         ErrorCode::kTimeout,
    ErrorCode::kNetwork,       ErrorCode::kIOError,          ErrorCode::kUnsupported,
    ErrorCode::kInternal,
};

TEST(ErrorMapping, ExitCodesAreTheOnesDocsCliListsByMeaning) {
  EXPECT_EQ(ExitCodeOf(ErrorCode::kOk), 0);
  EXPECT_EQ(ExitCodeOf(ErrorCode::kNotFound), 3);
  for (ErrorCode invalid :
       {ErrorCode::kInvalidArgument, ErrorCode::kValidation, ErrorCode::kInvalidSchema, ErrorCode::kMetadataTooLarge}) {
    EXPECT_EQ(ExitCodeOf(invalid), 4) << ErrorCodeName(invalid);
  }
  for (ErrorCode conflict : {ErrorCode::kAlreadyExists, ErrorCode::kPreconditionFailed, ErrorCode::kConflict}) {
    EXPECT_EQ(ExitCodeOf(conflict), 5) << ErrorCodeName(conflict);
  }
  for (ErrorCode storage : {ErrorCode::kCorruption, ErrorCode::kAccessDenied, ErrorCode::kSlowDown, ErrorCode::kTimeout,
                            ErrorCode::kNetwork, ErrorCode::kIOError, ErrorCode::kUnsupported, ErrorCode::kInternal}) {
    EXPECT_EQ(ExitCodeOf(storage), 6) << ErrorCodeName(storage);
  }
}

TEST(ErrorMapping, AnExceptionMapsByItsCodeAndAForeignOneIsStorage) {
  EXPECT_EQ(ExitCodeOf(NotFound("record 'a' of resource 'users' does not exist", "users", "a")), 3);
  EXPECT_EQ(ExitCodeOf(PreconditionFailed("changed", "users", "a")), 5);
  EXPECT_EQ(ExitCodeOf(std::runtime_error("a bug elsewhere")), exit_codes::kStorage);
}

TEST(ErrorMapping, EveryCodeHasAnErrorStatusAndItsOwnProblemType) {
  std::set<std::string> types;
  for (ErrorCode code : kEveryErrorCodeForMapping) {
    const int status = HttpStatusOf(code);
    EXPECT_GE(status, 400) << ErrorCodeName(code);
    EXPECT_LE(status, 599) << ErrorCodeName(code);
    // A client's fault is 4xx and exits 3..5; the store's or ours is 5xx and exits 6.
    EXPECT_EQ(status >= 500, ExitCodeOf(code) == exit_codes::kStorage) << ErrorCodeName(code);
    types.insert(ProblemTypeOf(code));
  }
  EXPECT_EQ(types.size(), std::size(kEveryErrorCodeForMapping));
  EXPECT_EQ(HttpStatusOf(ErrorCode::kPreconditionFailed), 412);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kValidation), 422);
  EXPECT_EQ(ProblemTypeOf(ErrorCode::kNotFound), "urn:s3db:problem:not_found");
  EXPECT_EQ(ProblemTypeOf(std::string("unauthenticated")), "urn:s3db:problem:unauthenticated");
}

}  // namespace
}  // namespace s3db
