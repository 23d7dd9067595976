// SSO profiles against a loopback SSO portal (the real one is AWS's and needs a browser
// login; loopback_http_server.h is a real HTTP peer): the aws CLI's cached token is found
// where the CLI leaves it, sent as x-amz-sso_bearer_token, and exchanged for role
// credentials; a missing or expired token says to run `aws sso login`.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "loopback_http_server.h"
#include "s3/credentials.h"
#include "s3/sso.h"
#include "s3_test_helpers.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;

constexpr const char* kBearer = "cached-sso-access-token";

ScriptedReply Portal(const ReceivedRequest& r) {
  ScriptedReply reply;
  if (r.Header("x-amz-sso_bearer_token") != kBearer) {
    reply.status = 401;
    return reply;
  }
  if (r.target != "/federation/credentials?account_id=111122223333&role_name=Reader") {
    reply.status = 404;
    return reply;
  }
  reply.body =
      "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSO\", \"secretAccessKey\": \"ssoSECRET\", "
      "\"sessionToken\": \"sso-session\", \"expiration\": 4102444800000}}";
  return reply;
}

TEST(SsoTest, TheCacheFileIsNamedAsTheAwsCliNamesIt) {
  EXPECT_EQ(SsoCacheFileName("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d.json");
}

TEST(SsoTest, TheCachedTokenIsExchangedForRoleCredentials) {
  LoopbackHttpServer portal(Portal);
  ScratchDir home;
  std::filesystem::create_directories(home.path() + "/.aws/sso/cache");
  const std::string config =
      home.Write("config",
                 "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
                 "sso_role_name = Reader\n\n[sso-session corp]\n"
                 "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n\n"
                 "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\n"
                 "sso_region = eu-west-1\nsso_account_id = 111122223333\nsso_role_name = Reader\n");
  Environment env = {{"HOME", home.path()},
                     {"AWS_CONFIG_FILE", config},
                     {"AWS_PROFILE", "sso"},
                     {"AWS_ENDPOINT_URL_SSO", portal.endpoint()}};
  const StoreUri uri = *ParseStoreUri("s3://bucket");

  // Not logged in yet.
  Result<ResolvedCredentials> missing = ResolveCredentials(uri, env);
  ASSERT_EQ(missing.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(missing.status().message().find("aws sso login --profile sso"), std::string::npos)
      << missing.status().message();

  home.Write(".aws/sso/cache/" + SsoCacheFileName("corp"),
             std::string("{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"eu-west-1\", "
                         "\"accessToken\": \"") +
                 kBearer + "\", \"expiresAt\": \"2099-01-01T00:00:00Z\"}");
  Result<ResolvedCredentials> resolved = ResolveCredentials(uri, env);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Result<Credentials> credentials = resolved->provider->Get();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "ASIASSO");
  EXPECT_EQ(credentials->session_token, "sso-session");
  EXPECT_TRUE(resolved->provider->expiration().has_value());
  EXPECT_NE(resolved->source.find("SSO, account 111122223333, role Reader"), std::string::npos);

  // A legacy profile's token is cached under its start URL.
  env["AWS_PROFILE"] = "legacy";
  home.Write(".aws/sso/cache/" + SsoCacheFileName("https://old.awsapps.com/start"),
             std::string("{\"accessToken\": \"") + kBearer + "\", \"expiresAt\": \"2099-01-01T00:00:00Z\"}");
  EXPECT_TRUE(ResolveCredentials(uri, env).ok());

  // An expired token is not sent.
  env["AWS_PROFILE"] = "sso";
  const size_t sent = portal.requests().size();
  home.Write(".aws/sso/cache/" + SsoCacheFileName("corp"),
             std::string("{\"accessToken\": \"") + kBearer + "\", \"expiresAt\": \"2001-01-01T00:00:00Z\"}");
  Result<ResolvedCredentials> expired = ResolveCredentials(uri, env);
  ASSERT_EQ(expired.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos);
  EXPECT_EQ(portal.requests().size(), sent);
  EXPECT_EQ(expired.status().message().find(kBearer), std::string::npos);

  // A token the portal refuses.
  home.Write(".aws/sso/cache/" + SsoCacheFileName("corp"),
             "{\"accessToken\": \"stale\", \"expiresAt\": \"2099-01-01T00:00:00Z\"}");
  Result<ResolvedCredentials> refused = ResolveCredentials(uri, env);
  ASSERT_EQ(refused.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(refused.status().message().find("HTTP 401"), std::string::npos) << refused.status().message();
}

}  // namespace
}  // namespace s3db::s3
