#include "exec/retry_policy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>

#include "util/crypto_hash.h"

namespace s3db::exec {
namespace {

// The default randomness: a Mersenne Twister seeded once from the CSPRNG. Jitter needs no
// cryptographic strength, only independence between processes (so that a fleet of clients
// throttled together does not retry together).
RetryPolicy::Random DefaultRandom() {
  struct State {
    std::mutex mutex;
    std::mt19937_64 engine;
  };
  auto state = std::make_shared<State>();
  std::string seed_bytes = util::RandomBytes(sizeof(uint64_t));
  uint64_t seed = 0;
  std::memcpy(&seed, seed_bytes.data(), sizeof seed);
  state->engine.seed(seed);
  return [state] {
    std::lock_guard<std::mutex> lock(state->mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(state->engine);
  };
}

}  // namespace

Status RetryOptions::Validate() const {
  auto invalid = [](const std::string& why) { return Status(ErrorCode::kInvalidArgument, "retry options: " + why); };
  if (max_attempts < 1 || max_attempts > 100) {
    return invalid("max_attempts must be 1 to 100, got " + std::to_string(max_attempts));
  }
  if (base_delay.count() < 0 || max_delay.count() < 0 || max_retry_after.count() < 0) {
    return invalid("delays must not be negative");
  }
  if (max_delay < base_delay) return invalid("max_delay must not be less than base_delay");
  return Status::Ok();
}

RetryPolicy::RetryPolicy(RetryOptions options, Random random)
    : options_(options), random_(random ? std::move(random) : DefaultRandom()) {}

bool RetryPolicy::ShouldRetry(ErrorCode code, int attempts_made) const {
  if (code == ErrorCode::kOk || !IsRetryableCode(code)) return false;
  // 409 ConditionalRequestConflict: the caller must re-read before trying again.
  if (code == ErrorCode::kConflict) return false;
  return attempts_made < options_.max_attempts;
}

std::chrono::milliseconds RetryPolicy::Delay(int attempts_made,
                                             std::optional<std::chrono::milliseconds> retry_after) const {
  using std::chrono::milliseconds;
  // base * 2^(n-1), computed without overflow: stop doubling once past the cap.
  int64_t ceiling = options_.base_delay.count();
  for (int i = 1; i < attempts_made && ceiling < options_.max_delay.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, options_.max_delay.count());
  double r = std::clamp(random_(), 0.0, 1.0);
  auto delay = milliseconds(static_cast<int64_t>(r * static_cast<double>(ceiling)));
  if (retry_after) delay = std::max(delay, std::min(*retry_after, options_.max_retry_after));
  return delay;
}

RetryOptions RetryOptionsFor(const ExecutorOptions& executor) {
  RetryOptions options;
  options.max_attempts = executor.retries + 1;
  options.base_delay = executor.retry_delay;
  options.max_delay = executor.max_retry_delay;
  return options;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value) {
  size_t first = value.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::nullopt;
  size_t last = value.find_last_not_of(" \t");
  value = value.substr(first, last - first + 1);
  if (value.empty() || value.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::milliseconds(seconds * 1000);
}

}  // namespace s3db::exec
