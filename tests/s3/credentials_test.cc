// The credential chain, region and endpoint rules, with the environment and the credentials
// file as plain inputs.
#include "s3/credentials.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace s3db::s3 {
namespace {

constexpr const char* kFileSecret = "fileSECRET/abc+123";
constexpr const char* kEnvSecret = "envSECRET/xyz+789";

const char* kCredentialsFile = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = fileSECRET/abc+123

; another comment
[ work ]
AWS_ACCESS_KEY_ID=AKIDWORK
aws_secret_access_key=workSECRET
aws_session_token = TOKENWORK

[broken]
aws_access_key_id = AKIDBROKEN
)";

StoreUri Uri(const std::string& text) {
  Result<StoreUri> uri = ParseStoreUri(text);
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : StoreUri{};
}

FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

TEST(CredentialsTest, ParsesProfilesOfTheCredentialsFile) {
  Result<Credentials> def = ParseCredentialsFile(kCredentialsFile, "default");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(def->secret_access_key, kFileSecret);
  EXPECT_EQ(def->session_token, "");

  Result<Credentials> work = ParseCredentialsFile(kCredentialsFile, "work");
  ASSERT_TRUE(work.ok()) << work.status().ToString();
  EXPECT_EQ(work->access_key_id, "AKIDWORK") << "keys are case-insensitive";
  EXPECT_EQ(work->session_token, "TOKENWORK");

  EXPECT_EQ(ParseCredentialsFile(kCredentialsFile, "absent").code(), ErrorCode::kNotFound);
  Result<Credentials> broken = ParseCredentialsFile(kCredentialsFile, "broken");
  EXPECT_EQ(broken.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("aws_secret_access_key"), std::string::npos);
  EXPECT_EQ(ParseCredentialsFile("", "default").code(), ErrorCode::kNotFound);
  Result<Credentials> crlf =
      ParseCredentialsFile("[default]\r\naws_access_key_id = A\r\naws_secret_access_key = S\r\n", "default");
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(crlf->secret_access_key, "S");
}

TEST(CredentialsTest, TheConnectionStringComesFirst) {
  Environment env = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", kEnvSecret}};
  Result<ResolvedCredentials> resolved =
      ResolveCredentials(Uri("s3://AKIDURI:uri%2Fsecret@bucket/p?sessionToken=TOK"), env, Files({}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDURI");
  EXPECT_EQ(resolved->credentials.secret_access_key, "uri/secret");
  EXPECT_EQ(resolved->credentials.session_token, "TOK");
  EXPECT_EQ(resolved->source, "the connection string");
}

TEST(CredentialsTest, ThenTheEnvironment) {
  Environment env = {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                     {"AWS_SECRET_ACCESS_KEY", kEnvSecret},
                     {"AWS_SESSION_TOKEN", "ENVTOKEN"},
                     {"HOME", "/home/u"}};
  Result<ResolvedCredentials> resolved =
      ResolveCredentials(Uri("s3://bucket"), env, Files({{"/home/u/.aws/credentials", kCredentialsFile}}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(resolved->credentials.secret_access_key, kEnvSecret);
  EXPECT_EQ(resolved->credentials.session_token, "ENVTOKEN");

  env.erase("AWS_ACCESS_KEY_ID");
  Result<ResolvedCredentials> half = ResolveCredentials(Uri("s3://bucket"), env, Files({}));
  EXPECT_EQ(half.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(half.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(half.status().message().find(kEnvSecret), std::string::npos);
}

TEST(CredentialsTest, ThenTheSharedCredentialsFileAndProfile) {
  Environment env = {{"HOME", "/home/u"}};
  FileReader files = Files({{"/home/u/.aws/credentials", kCredentialsFile},
                            {"/etc/creds", "[default]\naws_access_key_id=X\naws_secret_access_key=Y\n"}});
  Result<ResolvedCredentials> def = ResolveCredentials(Uri("s3://bucket"), env, files);
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(def->credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(def->source, "/home/u/.aws/credentials [default]");

  env["AWS_PROFILE"] = "work";
  Result<ResolvedCredentials> work = ResolveCredentials(Uri("s3://bucket"), env, files);
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(work->credentials.session_token, "TOKENWORK");

  env["AWS_SHARED_CREDENTIALS_FILE"] = "/etc/creds";
  env.erase("AWS_PROFILE");
  Result<ResolvedCredentials> other = ResolveCredentials(Uri("s3://bucket"), env, files);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->credentials.access_key_id, "X");
}

TEST(CredentialsTest, NothingFoundNamesWhereItLookedAndNoSecret) {
  Environment env = {{"HOME", "/home/u"}};
  Result<ResolvedCredentials> none = ResolveCredentials(Uri("s3://bucket"), env, Files({}));
  ASSERT_EQ(none.code(), ErrorCode::kInvalidArgument);
  const std::string& message = none.status().message();
  for (const char* place : {"connection string", "AWS_ACCESS_KEY_ID", "/home/u/.aws/credentials"}) {
    EXPECT_NE(message.find(place), std::string::npos) << message;
  }

  env["AWS_PROFILE"] = "missing";
  Result<ResolvedCredentials> no_profile =
      ResolveCredentials(Uri("s3://bucket"), env, Files({{"/home/u/.aws/credentials", kCredentialsFile}}));
  ASSERT_EQ(no_profile.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_profile.status().message().find("[missing]"), std::string::npos);
  EXPECT_EQ(no_profile.status().message().find(kFileSecret), std::string::npos);

  env["AWS_PROFILE"] = "broken";
  Result<ResolvedCredentials> broken =
      ResolveCredentials(Uri("s3://bucket"), env, Files({{"/home/u/.aws/credentials", kCredentialsFile}}));
  ASSERT_EQ(broken.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(broken.status().message().find(kFileSecret), std::string::npos);

  Result<ResolvedCredentials> homeless = ResolveCredentials(Uri("s3://bucket"), {}, Files({}));
  EXPECT_EQ(homeless.code(), ErrorCode::kInvalidArgument);
}

TEST(CredentialsTest, Region) {
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket?region=eu-west-1"), {{"AWS_REGION", "x"}}), "eu-west-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "x"}}),
            "ap-south-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {{"AWS_DEFAULT_REGION", "sa-east-1"}}), "sa-east-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {}), "us-east-1");
}

TEST(CredentialsTest, Endpoint) {
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket"), {}, "eu-west-1"), "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket?endpoint=http://minio:9000"), {{"AWS_ENDPOINT_URL_S3", "http://other"}},
                             "us-east-1"),
            "http://minio:9000");
  EXPECT_EQ(*ResolveEndpoint(Uri("http://k:s@127.0.0.1:7480/bucket"), {}, "us-east-1"), "http://127.0.0.1:7480");
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket"),
                             {{"AWS_ENDPOINT_URL_S3", "http://s3only:1/"}, {"AWS_ENDPOINT_URL", "http://generic:2"}},
                             "us-east-1"),
            "http://s3only:1");
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket"), {{"AWS_ENDPOINT_URL", "https://generic:2"}}, "us-east-1"),
            "https://generic:2");
  Result<std::string> bad = ResolveEndpoint(Uri("s3://bucket"), {{"AWS_ENDPOINT_URL", "ftp://x"}}, "us-east-1");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("AWS_ENDPOINT_URL"), std::string::npos);
  EXPECT_EQ(ResolveEndpoint(Uri("s3://bucket"), {{"AWS_ENDPOINT_URL", "http://h/path"}}, "r").code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace s3db::s3
