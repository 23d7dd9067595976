// Retry decisions and backoff delays, deterministic through injected randomness.
#include "exec/retry_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace s3db::exec {
namespace {

using std::chrono::milliseconds;

RetryPolicy Fixed(double r, RetryOptions options = {}) {
  return RetryPolicy(options, [r] { return r; });
}

TEST(RetryPolicyTest, RetriesOnlyRetryableErrors) {
  RetryPolicy policy = Fixed(0.5);
  for (ErrorCode code : {ErrorCode::kSlowDown, ErrorCode::kTimeout, ErrorCode::kNetwork, ErrorCode::kIOError}) {
    EXPECT_TRUE(policy.ShouldRetry(Status(code, "x"), 1)) << ErrorCodeName(code);
  }
  for (ErrorCode code :
       {ErrorCode::kNotFound, ErrorCode::kPreconditionFailed, ErrorCode::kAccessDenied, ErrorCode::kInvalidArgument,
        ErrorCode::kMetadataTooLarge, ErrorCode::kUnsupported, ErrorCode::kConflict}) {
    EXPECT_FALSE(policy.ShouldRetry(Status(code, "x"), 1)) << ErrorCodeName(code);
  }
  EXPECT_FALSE(policy.ShouldRetry(Status::Ok(), 1));
}

TEST(RetryPolicyTest, AttemptsAreBounded) {
  RetryOptions options;
  options.max_attempts = 4;
  RetryPolicy policy = Fixed(0.5, options);
  Status slow(ErrorCode::kSlowDown, "503");
  EXPECT_TRUE(policy.ShouldRetry(slow, 1));
  EXPECT_TRUE(policy.ShouldRetry(slow, 3));
  EXPECT_FALSE(policy.ShouldRetry(slow, 4));
  options.max_attempts = 1;
  EXPECT_FALSE(Fixed(0.5, options).ShouldRetry(slow, 1));
}

TEST(RetryPolicyTest, FullJitterExponentialBackoffWithCap) {
  RetryOptions options;
  options.base_delay = milliseconds(50);
  options.max_delay = milliseconds(1000);
  // r just below 1: the ceiling itself (truncated), doubling until the cap.
  RetryPolicy top = Fixed(0.999999, options);
  std::vector<int64_t> ceilings;
  for (int attempt = 1; attempt <= 7; ++attempt) ceilings.push_back(top.Delay(attempt, {}).count());
  EXPECT_EQ(ceilings, (std::vector<int64_t>{49, 99, 199, 399, 799, 999, 999}));
  // r = 0.5: half of it. r = 0: no wait at all (full jitter, not "equal jitter").
  EXPECT_EQ(Fixed(0.5, options).Delay(3, {}).count(), 100);
  EXPECT_EQ(Fixed(0.0, options).Delay(5, {}).count(), 0);
  // Huge attempt numbers do not overflow.
  EXPECT_EQ(top.Delay(1000, {}).count(), 999);
}

TEST(RetryPolicyTest, DefaultRandomnessStaysInRange) {
  RetryPolicy policy;  // CSPRNG-seeded
  bool varied = false;
  int64_t first = policy.Delay(4, {}).count();
  for (int i = 0; i < 200; ++i) {
    int64_t d = policy.Delay(4, {}).count();
    EXPECT_GE(d, 0);
    EXPECT_LE(d, 400);
    varied = varied || d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(RetryPolicyTest, RetryAfterIsAFloorAndIsClamped) {
  RetryOptions options;
  options.max_retry_after = milliseconds(3000);
  RetryPolicy policy = Fixed(0.1, options);
  EXPECT_EQ(policy.Delay(1, milliseconds(2000)).count(), 2000);
  EXPECT_EQ(policy.Delay(1, milliseconds(60000)).count(), 3000);
  RetryPolicy top = Fixed(0.999999, options);
  EXPECT_EQ(top.Delay(7, milliseconds(10)).count(), 3199) << "jitter larger than the floor wins";
}

TEST(RetryPolicyTest, ParsesRetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfter("3"), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter(" 0 "), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("120"), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999"), std::nullopt);
}

TEST(RetryPolicyTest, OptionsAreValidated) {
  RetryOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.max_attempts = 0;
  EXPECT_EQ(options.Validate().code(), ErrorCode::kInvalidArgument);
  options.max_attempts = 3;
  options.base_delay = milliseconds(100);
  options.max_delay = milliseconds(10);
  EXPECT_EQ(options.Validate().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace s3db::exec
