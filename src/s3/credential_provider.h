// Credentials that may expire, and the one cache every S3 request takes them from.
//
// A CredentialSource fetches credentials from one place (static keys, a credential_process,
// the container or EC2 metadata service, STS); CredentialProvider caches what its source
// gave and decides when to fetch again:
//  - Credentials without an expiration are fetched once.
//  - Temporary ones are refreshed ahead of expiry: 5 minutes before it, or at half of their
//    lifetime when that is shorter than 10 minutes. The first caller that finds them due
//    fetches; every other caller meanwhile keeps using the cached ones while they are still
//    valid (no stampede: one fetch at a time) and waits only when there is nothing valid.
//  - A fetch that fails while the cached credentials are still valid keeps them (until
//    they truly expire) and is retried no sooner than kRetryAfterFailure later; the failure
//    is kept for last_error() and for the message once they have expired.
//  - Refresh(rejected) is for a server that answered ExpiredToken/InvalidToken: it fetches
//    again unless another caller already replaced `rejected`.
// Get() returns credentials by value, so a request in flight keeps the ones it signed with
// whatever a refresh does meanwhile.
//
// No secret reaches a message: sources name places, never values, and Mask() hides every
// secret this provider has handed out.
//
// Thread-safety: every member may be called from any thread.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "s3/sigv4.h"
#include "s3db/errors.h"
#include "s3db/stores.h"

namespace s3db::s3 {

using SystemTime = std::chrono::system_clock::time_point;

struct TimedCredentials {
  Credentials credentials;
  std::optional<SystemTime> expiration;  // nullopt: long-term, never refreshed
};

// The expiration a credential source gave, in milliseconds since the epoch, clamped to
// 1970..2100: system_clock counts nanoseconds and overflows before 1678 and after 2261.
SystemTime ExpirationFromMillis(int64_t ms);

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // May block (a process, an HTTP call). Errors name the place and the cause, no secret.
  virtual Result<TimedCredentials> Fetch() = 0;
  // Where the credentials come from, for messages and `s3db whoami`:
  // "the environment (AWS_ACCESS_KEY_ID)", "profile [dev] of /home/u/.aws/config".
  virtual std::string Describe() const = 0;
};

// A source that always gives the same long-term (or fixed temporary) credentials.
class StaticCredentialSource : public CredentialSource {
 public:
  StaticCredentialSource(Credentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}
  Result<TimedCredentials> Fetch() override { return TimedCredentials{credentials_, std::nullopt}; }
  std::string Describe() const override { return description_; }

 private:
  const Credentials credentials_;
  const std::string description_;
};

class CredentialProvider {
 public:
  using Clock = std::function<SystemTime()>;
  static constexpr std::chrono::seconds kRetryAfterFailure{10};

  explicit CredentialProvider(std::unique_ptr<CredentialSource> source, Clock clock = nullptr);

  // Valid credentials, from the cache or freshly fetched (see above).
  Result<Credentials> Get();
  // The server refused `rejected` as expired or invalid: fetch anew (once, however many
  // callers report the same credentials) and return what is current.
  Result<Credentials> Refresh(const Credentials& rejected);

  std::string Describe() const { return source_->Describe(); }
  // `text` with every secret key and session token handed out so far replaced by "***".
  std::string Mask(const std::string& text) const;
  // The expiration of the cached credentials, if they have one.
  std::optional<SystemTime> expiration() const;
  // Why the last fetch failed; empty after a success.
  std::string last_error() const;
  int fetches() const;  // how many times the source was asked (tests)

 private:
  // With mutex_ held through `lock`; fetches with it released. Sets refreshing_ meanwhile.
  Status FetchLocked(std::unique_lock<std::mutex>& lock);
  bool ValidLocked(SystemTime now) const;

  std::unique_ptr<CredentialSource> source_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::condition_variable fetched_;
  std::optional<TimedCredentials> cached_;  // guarded by mutex_
  SystemTime refresh_at_{};                 // when the cached ones are due for a refresh
  SystemTime next_attempt_{};               // no fetch before this after a failure
  bool refreshing_ = false;
  std::string last_error_;
  int fetches_ = 0;
  SecretMasker masker_;
};

}  // namespace s3db::s3
