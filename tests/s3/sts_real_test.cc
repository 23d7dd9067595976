// STS AssumeRole end to end on a real Ceph RGW with STS enabled (scripts/rgw.sh with
// S3DB_RGW_STS=1 exports S3DB_TEST_STS_ROLE_ARN beside S3DB_TEST_S3_*): a profile with
// role_arn + source_profile becomes temporary credentials that RGW itself issued, and the
// store signs real requests with them (session token included). Skipped, saying so, when
// the server has no STS.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "s3/credentials.h"
#include "s3_test_helpers.h"
#include "s3db/stores.h"
#include "util/crypto_hash.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

class RealStsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    role_arn_ = Env("S3DB_TEST_STS_ROLE_ARN");
    endpoint_ = Env("S3DB_TEST_S3_ENDPOINT");
    if (role_arn_.empty() || endpoint_.empty()) {
      GTEST_SKIP() << "S3DB_TEST_STS_ROLE_ARN is not set: no S3 server with STS to test against "
                      "(start one with: eval \"$(S3DB_RGW_STS=1 scripts/rgw.sh start)\")";
    }
    config_ = dir_.Write("config", "[profile base]\naws_access_key_id = " + Env("S3DB_TEST_S3_ACCESS_KEY") +
                                       "\naws_secret_access_key = " + Env("S3DB_TEST_S3_SECRET_KEY") +
                                       "\n\n[profile role]\nrole_arn = " + role_arn_ +
                                       "\nsource_profile = base\nrole_session_name = s3db-sts-test\n"
                                       "duration_seconds = 900\nexternal_id = s3db-external\nregion = us-east-1\n"
                                       "endpoint_url = " +
                                       endpoint_ + "\n");
    env_ = {{"AWS_CONFIG_FILE", config_}, {"AWS_PROFILE", "role"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    prefix_ = "sts-test-" + util::RandomAlnum(10) + "/";
  }

  std::string Bucket() const { return Env("S3DB_TEST_S3_BUCKET"); }

  // The store on the STS server, with credentials from `uri_credentials` if given (else
  // from the chain).
  std::unique_ptr<ObjectStore> Open(const std::string& uri_credentials = "", const std::string& query = "") {
    S3StoreOptions options;
    std::string host = endpoint_.substr(endpoint_.find("://") + 3);
    options.uri = *ParseStoreUri("http://" + uri_credentials + host + "/" + Bucket() + query);
    options.probe = false;
    options.environment = env_;
    Result<std::unique_ptr<ObjectStore>> store = NewS3Store(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  ScratchDir dir_;
  std::string role_arn_, endpoint_, config_, prefix_;
  Environment env_;
};

TEST_F(RealStsTest, AProfileRoleGivesTemporaryCredentialsThatTheServerAccepts) {
  Result<ResolvedCredentials> resolved = ResolveCredentials(*ParseStoreUri("s3://" + Bucket()), env_);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_NE(resolved->source.find("role_arn " + role_arn_ + " via source_profile base"), std::string::npos)
      << resolved->source;
  Result<Credentials> first = resolved->provider->Get();
  ASSERT_TRUE(first.ok());
  EXPECT_NE(first->access_key_id, Env("S3DB_TEST_S3_ACCESS_KEY"));
  EXPECT_FALSE(first->session_token.empty());
  ASSERT_TRUE(resolved->provider->expiration().has_value());
  auto lifetime = *resolved->provider->expiration() - std::chrono::system_clock::now();
  EXPECT_GT(lifetime, std::chrono::minutes(14));
  EXPECT_LE(lifetime, std::chrono::minutes(16)) << "duration_seconds = 900 was sent";

  // The whole path: the chain's role credentials sign requests that RGW accepts.
  std::unique_ptr<ObjectStore> store = Open();
  ASSERT_NE(store, nullptr);
  PutRequest put;
  put.key = prefix_ + "a";
  put.body = "assumed";
  ASSERT_TRUE(store->Put(put).ok());
  Result<GetResult> got = store->Get(put.key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "assumed");

  // A refresh gets different credentials that work too.
  Result<Credentials> second = resolved->provider->Refresh(*first);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(second->session_token, first->session_token);
  std::unique_ptr<ObjectStore> with_second =
      Open(util::PercentEncode(second->access_key_id) + ":" + util::PercentEncode(second->secret_access_key) + "@",
           "?sessionToken=" + util::PercentEncode(second->session_token));
  ASSERT_TRUE(with_second != nullptr);
  Result<GetResult> again = with_second->Get(put.key);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->body, "assumed");
  EXPECT_TRUE(store->Delete(put.key).ok());
}

TEST_F(RealStsTest, AWrongRoleIsRefusedByTheServerNamingTheRole) {
  env_["AWS_PROFILE"] = "role";
  config_ = dir_.Write("config", "[profile base]\naws_access_key_id = " + Env("S3DB_TEST_S3_ACCESS_KEY") +
                                     "\naws_secret_access_key = " + Env("S3DB_TEST_S3_SECRET_KEY") +
                                     "\n\n[profile role]\nrole_arn = arn:aws:iam:::role/no-such-role\n"
                                     "source_profile = base\nendpoint_url = " +
                                     endpoint_ + "\n");
  Result<ResolvedCredentials> resolved = ResolveCredentials(*ParseStoreUri("s3://" + Bucket()), env_);
  ASSERT_FALSE(resolved.ok());
  EXPECT_NE(resolved.status().message().find("no-such-role"), std::string::npos) << resolved.status().message();
  EXPECT_EQ(resolved.status().message().find(Env("S3DB_TEST_S3_SECRET_KEY")), std::string::npos);
}

// Writes go on for longer than the role's 12-second sessions last: the provider refreshes
// at half-life on its own, every write succeeds, and the first session's credentials are
// refused by the server once they have expired (so the refresh was needed, not decoration).
TEST_F(RealStsTest, WritesOutlastTheSessionThanksToRefresh) {
  config_ =
      dir_.Write("config", "[profile base]\naws_access_key_id = " + Env("S3DB_TEST_S3_ACCESS_KEY") +
                               "\naws_secret_access_key = " + Env("S3DB_TEST_S3_SECRET_KEY") +
                               "\n\n[profile role]\nrole_arn = " + role_arn_ +
                               "\nsource_profile = base\nduration_seconds = 12\nendpoint_url = " + endpoint_ + "\n");
  env_["AWS_CONFIG_FILE"] = config_;
  Result<ResolvedCredentials> first_session = ResolveCredentials(*ParseStoreUri("s3://" + Bucket()), env_);
  ASSERT_TRUE(first_session.ok()) << first_session.status().ToString();
  Result<Credentials> first = first_session->provider->Get();
  ASSERT_TRUE(first.ok());

  std::unique_ptr<ObjectStore> store = Open();
  ASSERT_NE(store, nullptr);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(16);
  int written = 0;
  while (std::chrono::steady_clock::now() < until) {
    PutRequest put;
    put.key = prefix_ + "k" + std::to_string(written);
    put.body = std::to_string(written);
    Result<ObjectInfo> info = store->Put(put);
    ASSERT_TRUE(info.ok()) << "write " << written << ": " << info.status().ToString();
    ++written;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_GT(written, 20);

  std::unique_ptr<ObjectStore> expired =
      Open(util::PercentEncode(first->access_key_id) + ":" + util::PercentEncode(first->secret_access_key) + "@",
           "?sessionToken=" + util::PercentEncode(first->session_token));
  ASSERT_NE(expired, nullptr);
  Result<GetResult> refused = expired->Get(prefix_ + "k0");
  ASSERT_FALSE(refused.ok()) << "RGW accepted a session past its expiry";
  std::cout << "an expired session is answered: " << refused.status().ToString() << "\n";
  for (int i = 0; i < written; ++i) (void)store->Delete(prefix_ + "k" + std::to_string(i));
}

}  // namespace
}  // namespace s3db::s3
