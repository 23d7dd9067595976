// The credential cache: refresh ahead of expiry, one fetch at a time, keeping valid
// credentials through a failed refresh, and Refresh() after an ExpiredToken. The source is a
// test double because the behaviour under test is the cache's reaction to what a source
// says and when (a real STS or IMDS cannot be made to fail or stall on cue); the clock is
// injected so expiry is reached without waiting for it.
#include "s3/credential_provider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace s3db::s3 {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kSecret = "scriptedSECRET/never+shown";

struct ManualClock {
  std::mutex mutex;
  SystemTime now = SystemTime(std::chrono::hours(24 * 365 * 50));
  SystemTime Get() {
    std::lock_guard<std::mutex> lock(mutex);
    return now;
  }
  void Advance(std::chrono::system_clock::duration by) {
    std::lock_guard<std::mutex> lock(mutex);
    now += by;
  }
};

// Gives "AKID<n>" for its n-th fetch, valid for `lifetime` from the clock's now; fails
// while `fail` is set; each fetch takes `delay`.
class ScriptedSource : public CredentialSource {
 public:
  ScriptedSource(ManualClock* clock, std::chrono::system_clock::duration lifetime)
      : clock_(clock), lifetime_(lifetime) {}
  Result<TimedCredentials> Fetch() override {
    int n = ++count;
    std::this_thread::sleep_for(delay);
    if (fail) return Status(ErrorCode::kAccessDenied, "scripted source is down");
    return TimedCredentials{{"AKID" + std::to_string(n), kSecret, "TOKEN" + std::to_string(n)},
                            clock_->Get() + lifetime_};
  }
  std::string Describe() const override { return "the scripted source"; }

  std::atomic<int> count{0};
  std::atomic<bool> fail{false};
  std::chrono::milliseconds delay{0};

 private:
  ManualClock* clock_;
  std::chrono::system_clock::duration lifetime_;
};

struct Fixture {
  explicit Fixture(std::chrono::system_clock::duration lifetime) {
    auto owned = std::make_unique<ScriptedSource>(&clock, lifetime);
    source = owned.get();
    provider = std::make_unique<CredentialProvider>(std::move(owned), [this] { return clock.Get(); });
  }
  std::string Key() {
    Result<Credentials> credentials = provider->Get();
    EXPECT_TRUE(credentials.ok()) << credentials.status().ToString();
    return credentials.ok() ? credentials->access_key_id : "";
  }
  ManualClock clock;
  ScriptedSource* source = nullptr;
  std::unique_ptr<CredentialProvider> provider;
};

TEST(CredentialProviderTest, LongTermCredentialsAreFetchedOnce) {
  auto provider = std::make_unique<CredentialProvider>(
      std::make_unique<StaticCredentialSource>(Credentials{"AKID", kSecret, ""}, "static"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(provider->Get().ok());
  EXPECT_EQ(provider->fetches(), 1);
  EXPECT_FALSE(provider->expiration().has_value());
}

TEST(CredentialProviderTest, RefreshesFiveMinutesBeforeExpiry) {
  Fixture f(std::chrono::hours(1));
  EXPECT_EQ(f.Key(), "AKID1");
  f.clock.Advance(minutes(54));
  EXPECT_EQ(f.Key(), "AKID1") << "not due yet";
  f.clock.Advance(minutes(1) + seconds(1));
  EXPECT_EQ(f.Key(), "AKID2") << "due 5 minutes before expiry";
  EXPECT_EQ(f.source->count, 2);
}

TEST(CredentialProviderTest, ShortLivedCredentialsRefreshAtHalfLife) {
  Fixture f(minutes(4));
  EXPECT_EQ(f.Key(), "AKID1");
  f.clock.Advance(minutes(1) + seconds(59));
  EXPECT_EQ(f.Key(), "AKID1");
  f.clock.Advance(seconds(2));
  EXPECT_EQ(f.Key(), "AKID2");
}

TEST(CredentialProviderTest, ConcurrentFirstCallsFetchOnce) {
  Fixture f(std::chrono::hours(1));
  f.source->delay = std::chrono::milliseconds(200);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] { ok += f.provider->Get().ok() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 16);
  EXPECT_EQ(f.source->count, 1) << "no stampede";
}

TEST(CredentialProviderTest, DuringARefreshOthersKeepTheValidCredentialsWithoutWaiting) {
  Fixture f(std::chrono::hours(1));
  EXPECT_EQ(f.Key(), "AKID1");
  f.clock.Advance(minutes(56));  // due
  f.source->delay = std::chrono::milliseconds(500);
  std::thread refresher([&] { EXPECT_EQ(f.Key(), "AKID2"); });
  while (f.source->count == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // The refresher is inside Fetch now. Everyone else gets the old, still valid ones at once.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> others;
  for (int i = 0; i < 8; ++i) others.emplace_back([&] { EXPECT_EQ(f.Key(), "AKID1"); });
  for (auto& t : others) t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  refresher.join();
  EXPECT_EQ(f.source->count, 2);
  EXPECT_EQ(f.Key(), "AKID2");
}

TEST(CredentialProviderTest, AFailedRefreshKeepsTheOldCredentialsUntilTheyExpire) {
  Fixture f(std::chrono::hours(1));
  EXPECT_EQ(f.Key(), "AKID1");
  f.source->fail = true;
  f.clock.Advance(minutes(56));
  EXPECT_EQ(f.Key(), "AKID1") << "still valid for 4 minutes";
  EXPECT_NE(f.provider->last_error().find("scripted source is down"), std::string::npos);
  EXPECT_EQ(f.source->count, 2);
  f.clock.Advance(seconds(1));
  EXPECT_EQ(f.Key(), "AKID1");
  EXPECT_EQ(f.source->count, 2) << "no new attempt within kRetryAfterFailure";
  f.clock.Advance(CredentialProvider::kRetryAfterFailure);
  EXPECT_EQ(f.Key(), "AKID1");
  EXPECT_EQ(f.source->count, 3);

  f.clock.Advance(minutes(5));  // now past the expiration
  Result<Credentials> expired = f.provider->Get();
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(expired.status().message().find("expired at"), std::string::npos) << expired.status().message();
  EXPECT_NE(expired.status().message().find("scripted source is down"), std::string::npos);
  EXPECT_EQ(expired.status().message().find(kSecret), std::string::npos);

  f.source->fail = false;
  EXPECT_EQ(f.Key(), "AKID5") << "recovers on the next call";
}

TEST(CredentialProviderTest, RefreshAfterARejectionFetchesOnceForAllCallers) {
  Fixture f(std::chrono::hours(1));
  Result<Credentials> first = f.provider->Get();
  ASSERT_TRUE(first.ok());
  f.source->delay = std::chrono::milliseconds(100);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      Result<Credentials> fresh = f.provider->Refresh(*first);
      ASSERT_TRUE(fresh.ok());
      EXPECT_EQ(fresh->access_key_id, "AKID2");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.source->count, 2);
  EXPECT_EQ(f.provider->Mask(std::string("TOKEN1 TOKEN2 ") + kSecret), "*** *** ***");
}

}  // namespace
}  // namespace s3db::s3
