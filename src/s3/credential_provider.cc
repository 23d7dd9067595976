#include "s3/credential_provider.h"

#include <algorithm>
#include <utility>

#include "util/time_format.h"

namespace s3db::s3 {
namespace {

bool Same(const Credentials& a, const Credentials& b) {
  return a.access_key_id == b.access_key_id && a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token;
}

std::string FormatTime(SystemTime time) {
  return util::FormatIso8601Ms(std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count());
}

}  // namespace

SystemTime ExpirationFromMillis(int64_t ms) {
  constexpr int64_t kYear2100Ms = 4102444800000;
  return SystemTime(std::chrono::milliseconds(std::clamp<int64_t>(ms, 0, kYear2100Ms)));
}

CredentialProvider::CredentialProvider(std::unique_ptr<CredentialSource> source, Clock clock)
    : source_(std::move(source)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

bool CredentialProvider::ValidLocked(SystemTime now) const {
  return cached_.has_value() && (!cached_->expiration || now < *cached_->expiration);
}

Status CredentialProvider::FetchLocked(std::unique_lock<std::mutex>& lock) {
  refreshing_ = true;
  ++fetches_;
  lock.unlock();
  Result<TimedCredentials> fetched = source_->Fetch();
  lock.lock();
  refreshing_ = false;
  const SystemTime now = clock_();
  Status status = Status::Ok();
  if (fetched.ok()) {
    StoreUri secrets;
    secrets.secret_key = fetched->credentials.secret_access_key;
    secrets.session_token = fetched->credentials.session_token;
    masker_.AddSecretsOf(secrets);
    cached_ = std::move(fetched).value();
    last_error_.clear();
    if (cached_->expiration) {
      const auto lifetime = *cached_->expiration - now;
      const auto ahead = lifetime >= std::chrono::minutes(10)
                             ? std::chrono::duration_cast<SystemTime::duration>(std::chrono::minutes(5))
                             : lifetime / 2;
      refresh_at_ = *cached_->expiration - ahead;
    }
  } else {
    last_error_ = masker_.Mask(fetched.status().message());
    next_attempt_ = now + kRetryAfterFailure;
    status = Status(fetched.code(), last_error_);
  }
  fetched_.notify_all();
  return status;
}

Result<Credentials> CredentialProvider::Get() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    const SystemTime now = clock_();
    if (ValidLocked(now)) {
      const bool due = cached_->expiration && now >= refresh_at_ && now >= next_attempt_;
      if (due && !refreshing_) {
        // A failure here keeps the still-valid credentials (FetchLocked kept last_error_).
        (void)FetchLocked(lock);
        if (ValidLocked(clock_())) return cached_->credentials;
        continue;
      }
      return cached_->credentials;
    }
    if (refreshing_) {
      fetched_.wait(lock, [&] { return !refreshing_; });
      continue;
    }
    // What expired, named before the fetch replaces it (a plain string: GCC 12 warns on a
    // copied optional<time_point>).
    const std::string expired_at = cached_ && cached_->expiration ? FormatTime(*cached_->expiration) : std::string();
    Status status = FetchLocked(lock);
    if (status.ok()) return cached_->credentials;
    std::string message = "cannot get credentials from " + source_->Describe() + ": " + status.message();
    if (!expired_at.empty()) {
      message = "the credentials from " + source_->Describe() + " expired at " + expired_at +
                " and refreshing them failed: " + status.message();
    }
    return Status(status.code(), message);
  }
}

Result<Credentials> CredentialProvider::Refresh(const Credentials& rejected) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (refreshing_) fetched_.wait(lock, [&] { return !refreshing_; });
  if (cached_ && !Same(cached_->credentials, rejected) && ValidLocked(clock_())) return cached_->credentials;
  Status status = FetchLocked(lock);
  if (!status.ok()) {
    return Status(status.code(), "the server refused the credentials from " + source_->Describe() +
                                     " and fetching new ones failed: " + status.message());
  }
  return cached_->credentials;
}

std::string CredentialProvider::Mask(const std::string& text) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return masker_.Mask(text);
}

std::optional<SystemTime> CredentialProvider::expiration() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_ ? cached_->expiration : std::nullopt;
}

std::string CredentialProvider::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

int CredentialProvider::fetches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fetches_;
}

}  // namespace s3db::s3
