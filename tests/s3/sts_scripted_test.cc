// STS requests as they leave s3db, against a loopback STS peer (loopback_http_server.h).
// Why not RGW for all of it: RGW's AssumeRoleWithWebIdentity needs an OpenID Connect
// provider serving signing keys and a signed JWT, which the test setup does not have, and
// RGW does not show us the request it got. AssumeRole against the real RGW is in
// sts_real_test.cc; this checks what each call carries and how answers are read.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

#include "loopback_http_server.h"
#include "s3/credentials.h"
#include "s3/sts.h"
#include "s3_test_helpers.h"
#include "util/text.h"

namespace s3db::s3 {
namespace {

using s3db::testing::LoopbackHttpServer;
using s3db::testing::ReceivedRequest;
using s3db::testing::ScriptedReply;

constexpr const char* kBaseSecret = "baseSECRET/never+shown";

// The form fields of a request body.
std::map<std::string, std::string> Form(const std::string& body) {
  std::map<std::string, std::string> fields;
  for (const std::string& pair : util::Split(body, '&')) {
    size_t equals = pair.find('=');
    std::string value;
    EXPECT_TRUE(util::PercentDecode(pair.substr(equals + 1), &value));
    fields[pair.substr(0, equals)] = value;
  }
  return fields;
}

ScriptedReply Answer(int status, std::string body) {
  ScriptedReply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

std::string Issued(const std::string& action, int n) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
         "Result><Credentials><AccessKeyId>ASIA" + std::to_string(n) +
         "</AccessKeyId><SecretAccessKey>issuedSECRET</SecretAccessKey><SessionToken>issued-token-" +
         std::to_string(n) + "</SessionToken><Expiration>2100-01-01T00:00:00Z</Expiration></Credentials></" + action +
         "Result></" + action + "Response>";
}

// Answers AssumeRole and AssumeRoleWithWebIdentity with fresh credentials each time.
struct FakeSts {
  FakeSts()
      : server([this](const ReceivedRequest& r) {
          auto form = Form(r.body);
          int n = ++issued;
          if (form["RoleArn"] == "arn:aws:iam::123:role/denied") {
            return Answer(403,
                          "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not "
                          "authorized to assume arn:aws:iam::123:role/denied</Message></Error></ErrorResponse>");
          }
          return Answer(200, Issued(form["Action"], n));
        }) {}
  std::atomic<int> issued{0};
  LoopbackHttpServer server;
};

ChainOptions Files(std::map<std::string, std::string> files) {
  ChainOptions options;
  options.read_file = [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  return options;
}

TEST(StsScriptedTest, AssumeRoleIsSignedWithTheSourceProfileAndCarriesTheProfileSettings) {
  FakeSts sts;
  std::string config = std::string("[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = ") +
                       kBaseSecret +
                       "\naws_session_token = base-token\n\n"
                       "[profile app]\nrole_arn = arn:aws:iam::123:role/app\nsource_profile = base\n"
                       "external_id = ext-42\nrole_session_name = nightly\nduration_seconds = 1800\n"
                       "region = eu-west-3\n";
  Environment env = {
      {"AWS_CONFIG_FILE", "/cfg"}, {"AWS_PROFILE", "app"}, {"AWS_ENDPOINT_URL_STS", sts.server.endpoint()}};
  Result<ResolvedCredentials> resolved =
      ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({{"/cfg", config}}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->provider->Get()->access_key_id, "ASIA1");
  EXPECT_EQ(resolved->source, "profile [app] of /cfg (role_arn arn:aws:iam::123:role/app via source_profile base)");
  ReceivedRequest request = sts.server.requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/");
  auto form = Form(request.body);
  EXPECT_EQ(form["Action"], "AssumeRole");
  EXPECT_EQ(form["Version"], "2011-06-15");
  EXPECT_EQ(form["RoleArn"], "arn:aws:iam::123:role/app");
  EXPECT_EQ(form["RoleSessionName"], "nightly");
  EXPECT_EQ(form["ExternalId"], "ext-42");
  EXPECT_EQ(form["DurationSeconds"], "1800");
  const std::string authorization = request.Header("authorization");
  EXPECT_NE(authorization.find("Credential=AKIDBASE/"), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("/eu-west-3/sts/aws4_request"), std::string::npos) << authorization;
  EXPECT_EQ(request.Header("x-amz-security-token"), "base-token");
  EXPECT_EQ(request.body.find(kBaseSecret), std::string::npos);
}

TEST(StsScriptedTest, ChainedRolesAndCredentialSourceEnvironment) {
  FakeSts sts;
  std::string config =
      "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
      "[profile first]\nrole_arn = arn:aws:iam::123:role/first\nsource_profile = base\n"
      "[profile second]\nrole_arn = arn:aws:iam::123:role/second\nsource_profile = first\n"
      "[profile from-env]\nrole_arn = arn:aws:iam::123:role/env\ncredential_source = Environment\n"
      "[profile loop]\nrole_arn = arn:aws:iam::123:role/loop\nsource_profile = loop2\n"
      "[profile loop2]\nrole_arn = arn:aws:iam::123:role/loop2\nsource_profile = loop\n"
      "[profile nothing]\nrole_arn = arn:aws:iam::123:role/x\n";
  Environment env = {{"AWS_CONFIG_FILE", "/cfg"}, {"AWS_ENDPOINT_URL_STS", sts.server.endpoint()}};
  ChainOptions files = Files({{"/cfg", config}});

  env["AWS_PROFILE"] = "second";
  Result<ResolvedCredentials> second = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, files);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(sts.server.requests().size(), 2u);
  EXPECT_EQ(Form(sts.server.requests()[0].body)["RoleArn"], "arn:aws:iam::123:role/first");
  // The second role is assumed with what the first gave.
  EXPECT_NE(sts.server.requests()[1].Header("authorization").find("Credential=ASIA1/"), std::string::npos);
  EXPECT_EQ(sts.server.requests()[1].Header("x-amz-security-token"), "issued-token-1");

  env["AWS_PROFILE"] = "from-env";
  env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  // Environment keys come before profiles in the chain, so point the role at them only
  // through credential_source: the chain would otherwise stop at the environment.
  Result<ResolvedCredentials> direct = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, files);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->source, "the environment (AWS_ACCESS_KEY_ID)");
  env.erase("AWS_ACCESS_KEY_ID");
  env.erase("AWS_SECRET_ACCESS_KEY");
  Result<ResolvedCredentials> no_env = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, files);
  ASSERT_EQ(no_env.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_env.status().message().find("credential_source Environment needs AWS_ACCESS_KEY_ID"), std::string::npos);

  env["AWS_PROFILE"] = "loop";
  Result<ResolvedCredentials> loop = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, files);
  ASSERT_EQ(loop.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(loop.status().message().find("loops"), std::string::npos) << loop.status().message();

  env["AWS_PROFILE"] = "nothing";
  Result<ResolvedCredentials> nothing = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, files);
  ASSERT_EQ(nothing.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(nothing.status().message().find("no source_profile"), std::string::npos);
}

TEST(StsScriptedTest, StsRefusalsNameTheRoleAndTheCode) {
  FakeSts sts;
  std::string config =
      "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n"
      "[profile denied]\nrole_arn = arn:aws:iam::123:role/denied\nsource_profile = base\n";
  Environment env = {
      {"AWS_CONFIG_FILE", "/cfg"}, {"AWS_PROFILE", "denied"}, {"AWS_ENDPOINT_URL_STS", sts.server.endpoint()}};
  Result<ResolvedCredentials> denied =
      ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({{"/cfg", config}}));
  ASSERT_EQ(denied.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(denied.status().message().find("HTTP 403 AccessDenied: not authorized to assume"), std::string::npos)
      << denied.status().message();
}

TEST(StsScriptedTest, WebIdentityFromTheEnvironmentRereadsTheTokenOnEveryRefresh) {
  FakeSts sts;
  ScratchDir dir;
  std::string token_file = dir.Write("token", "jwt-one\n");
  Environment env = {{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                     {"AWS_ROLE_ARN", "arn:aws:iam::123:role/irsa"},
                     {"AWS_ROLE_SESSION_NAME", "pod-7"},
                     {"AWS_ENDPOINT_URL_STS", sts.server.endpoint()}};
  Result<ResolvedCredentials> resolved = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->source, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, arn:aws:iam::123:role/irsa)");
  Result<Credentials> first = resolved->provider->Get();
  ASSERT_TRUE(first.ok());
  dir.Write("token", "jwt-two\n");  // the kubelet rotated it
  ASSERT_TRUE(resolved->provider->Refresh(*first).ok());
  ASSERT_EQ(sts.server.requests().size(), 2u);
  auto form1 = Form(sts.server.requests()[0].body);
  auto form2 = Form(sts.server.requests()[1].body);
  EXPECT_EQ(form1["Action"], "AssumeRoleWithWebIdentity");
  EXPECT_EQ(form1["WebIdentityToken"], "jwt-one");
  EXPECT_EQ(form1["RoleSessionName"], "pod-7");
  EXPECT_EQ(form2["WebIdentityToken"], "jwt-two");
  EXPECT_EQ(sts.server.requests()[0].Header("authorization"), "") << "AssumeRoleWithWebIdentity is unsigned";

  env.erase("AWS_ROLE_ARN");
  EXPECT_EQ(ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({})).code(), ErrorCode::kInvalidArgument);
}

TEST(StsScriptedTest, WebIdentityFromAProfile) {
  FakeSts sts;
  ScratchDir dir;
  std::string token_file = dir.Write("token", "jwt-profile");
  std::string config = "[default]\nrole_arn = arn:aws:iam::123:role/web\nweb_identity_token_file = " + token_file +
                       "\nendpoint_url = " + sts.server.endpoint() + "\n";
  Environment env = {{"AWS_CONFIG_FILE", "/cfg"}};
  Result<ResolvedCredentials> resolved =
      ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({{"/cfg", config}}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(Form(sts.server.requests().at(0).body)["WebIdentityToken"], "jwt-profile");
}

TEST(StsScriptedTest, TheRegionalEndpointIsTheDefault) {
  ProfileSettings profile = {{"endpoint_url", "http://profile:1/"}};
  EXPECT_EQ(*ResolveStsEndpoint({}, nullptr, "ap-southeast-2"), "https://sts.ap-southeast-2.amazonaws.com");
  EXPECT_EQ(*ResolveStsEndpoint({{"AWS_ENDPOINT_URL", "http://all:2"}}, nullptr, "r"), "http://all:2");
  EXPECT_EQ(*ResolveStsEndpoint({{"AWS_ENDPOINT_URL", "http://all:2"}}, &profile, "r"), "http://profile:1");
  EXPECT_EQ(*ResolveStsEndpoint({{"AWS_ENDPOINT_URL_STS", "https://sts.local"}}, &profile, "r"), "https://sts.local");
  EXPECT_EQ(ResolveStsEndpoint({{"AWS_ENDPOINT_URL_STS", "sts.local"}}, nullptr, "r").code(),
            ErrorCode::kInvalidArgument);

  std::string config =
      "[profile base]\naws_access_key_id = A\naws_secret_access_key = s\n"
      "[default]\nrole_arn = arn:aws:iam::123:role/r\nsource_profile = base\nregion = ap-southeast-2\n"
      "duration_seconds = 99999\n";
  Environment env = {{"AWS_CONFIG_FILE", "/cfg"}};
  Result<ResolvedCredentials> bad = ResolveCredentials(*ParseStoreUri("s3://bucket"), env, Files({{"/cfg", config}}));
  ASSERT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("duration_seconds"), std::string::npos);
  Result<TimedCredentials> parsed = ParseStsResponse(200, Issued("AssumeRole", 9), "test");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->credentials.session_token, "issued-token-9");
  EXPECT_EQ(ParseStsResponse(200, "<html/>", "test").code(), ErrorCode::kAccessDenied);
}

}  // namespace
}  // namespace s3db::s3
