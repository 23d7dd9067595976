// The credential chain, region and endpoint rules, with the environment and the shared
// files as plain inputs. credential_process runs real /bin/sh commands.
#include "s3/credentials.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>

#include "s3/sts.h"

namespace s3db::s3 {
namespace {

constexpr const char* kFileSecret = "fileSECRET/abc+123";
constexpr const char* kEnvSecret = "envSECRET/xyz+789";
constexpr const char* kProcessSecret = "processSECRET/q+w";

const char* kCredentialsFile = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = fileSECRET/abc+123

; another comment
[work]
AWS_ACCESS_KEY_ID=AKIDWORK
aws_secret_access_key=workSECRET
aws_session_token = TOKENWORK

[broken]
aws_access_key_id = AKIDBROKEN
)";

const char* kConfigFile = R"([default]
region = eu-central-1

[profile dev]
region = ap-south-1
endpoint_url = http://minio.local:9000
aws_access_key_id = AKIDDEV
aws_secret_access_key = devSECRET
s3 =
  addressing_style = path

[work]
aws_access_key_id = NOT-A-PROFILE-IN-THE-CONFIG-FILE

[profile process]
credential_process = printf '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "processSECRET/q+w", "SessionToken": "PROCTOKEN", "Expiration": "2999-01-01T00:00:00Z"}'

[profile process-v2]
credential_process = printf '{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "processSECRET/q+w"}'

[profile process-fails]
credential_process = sh -c 'echo processSECRET/q+w; exit 3'

[profile process-garbage]
credential_process = echo processSECRET/q+w

[profile sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Reader

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-2

[profile empty]
region = us-west-2
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

ChainOptions WithFiles(std::map<std::string, std::string> files) {
  ChainOptions options;
  options.read_file = Files(std::move(files));
  return options;
}

// HOME=/home/u with both files, IMDS disabled (no test here may reach 169.254.169.254).
Environment HomeEnv() { return {{"HOME", "/home/u"}, {"AWS_EC2_METADATA_DISABLED", "true"}}; }
ChainOptions HomeFiles() {
  return WithFiles({{"/home/u/.aws/credentials", kCredentialsFile}, {"/home/u/.aws/config", kConfigFile}});
}

Credentials Current(const ResolvedCredentials& resolved) {
  Result<Credentials> credentials = resolved.provider->Get();
  EXPECT_TRUE(credentials.ok()) << credentials.status().ToString();
  return credentials.ok() ? *credentials : Credentials{};
}

TEST(AwsProfilesTest, ConfigSectionsCredentialsOverrideAndSubSections) {
  AwsProfiles profiles = LoadProfiles(HomeEnv(), HomeFiles().read_file);
  EXPECT_TRUE(profiles.config_read);
  EXPECT_TRUE(profiles.credentials_read);
  ASSERT_NE(profiles.Find("dev"), nullptr);
  EXPECT_EQ(Setting(*profiles.Find("dev"), "region"), "ap-south-1");
  EXPECT_EQ(Setting(*profiles.Find("dev"), "addressing_style"), "") << "indented sub-section lines are skipped";
  // [work] of the config file is not "profile work"; the credentials file's [work] is.
  EXPECT_EQ(Setting(*profiles.Find("work"), "aws_access_key_id"), "AKIDWORK");
  // default: region from the config file, keys from the credentials file.
  EXPECT_EQ(Setting(*profiles.Find("default"), "region"), "eu-central-1");
  EXPECT_EQ(Setting(*profiles.Find("default"), "aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(profiles.Describe("default"), "profile [default] of /home/u/.aws/config and /home/u/.aws/credentials");
  EXPECT_EQ(Setting(profiles.sso_sessions["corp"], "sso_start_url"), "https://corp.awsapps.com/start");

  Environment moved = {{"AWS_CONFIG_FILE", "/etc/aws-config"}, {"AWS_SHARED_CREDENTIALS_FILE", "/etc/aws-creds"}};
  AwsProfiles other = LoadProfiles(moved, Files({{"/etc/aws-config", "[profile x]\nregion = r\n"}}));
  EXPECT_EQ(other.config_path, "/etc/aws-config");
  EXPECT_FALSE(other.credentials_read);
  EXPECT_EQ(Setting(*other.Find("x"), "region"), "r");
}

TEST(CredentialsTest, TheConnectionStringComesFirst) {
  Environment env = {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", kEnvSecret}};
  Result<ResolvedCredentials> resolved =
      ResolveCredentials(Uri("s3://AKIDURI:uri%2Fsecret@bucket/p?sessionToken=TOK"), env, WithFiles({}));
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Credentials credentials = Current(*resolved);
  EXPECT_EQ(credentials.access_key_id, "AKIDURI");
  EXPECT_EQ(credentials.secret_access_key, "uri/secret");
  EXPECT_EQ(credentials.session_token, "TOK");
  EXPECT_EQ(resolved->source, "the connection string");
  EXPECT_TRUE(resolved->skipped.empty());
}

TEST(CredentialsTest, ThenTheEnvironment) {
  Environment env = HomeEnv();
  env["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  env["AWS_SECRET_ACCESS_KEY"] = kEnvSecret;
  env["AWS_SESSION_TOKEN"] = "ENVTOKEN";
  Result<ResolvedCredentials> resolved = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Credentials credentials = Current(*resolved);
  EXPECT_EQ(credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(credentials.secret_access_key, kEnvSecret);
  EXPECT_EQ(credentials.session_token, "ENVTOKEN");
  EXPECT_EQ(resolved->source, "the environment (AWS_ACCESS_KEY_ID)");
  ASSERT_EQ(resolved->skipped.size(), 1u);
  EXPECT_NE(resolved->skipped[0].find("connection string"), std::string::npos);

  env.erase("AWS_ACCESS_KEY_ID");
  Result<ResolvedCredentials> half = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  EXPECT_EQ(half.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(half.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_EQ(half.status().message().find(kEnvSecret), std::string::npos);
}

TEST(CredentialsTest, ThenTheProfileOfTheSharedFiles) {
  Environment env = HomeEnv();
  Result<ResolvedCredentials> def = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ(Current(*def).access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(def->source, "profile [default] of /home/u/.aws/config and /home/u/.aws/credentials (static keys)");

  env["AWS_PROFILE"] = "work";
  Result<ResolvedCredentials> work = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(Current(*work).access_key_id, "AKIDWORK");
  EXPECT_EQ(Current(*work).session_token, "TOKENWORK");

  env["AWS_PROFILE"] = "dev";  // "[profile dev]" of the config file
  Result<ResolvedCredentials> dev = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  EXPECT_EQ(Current(*dev).access_key_id, "AKIDDEV");

  Environment moved = {{"AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  Result<ResolvedCredentials> other =
      ResolveCredentials(Uri("s3://bucket"), moved,
                         WithFiles({{"/etc/creds", "[default]\naws_access_key_id=X\naws_secret_access_key=Y\n"}}));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Current(*other).access_key_id, "X");
}

TEST(CredentialsTest, CredentialProcessPrintsVersion1Json) {
  Environment env = HomeEnv();
  env["AWS_PROFILE"] = "process";
  Result<ResolvedCredentials> resolved = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  Credentials credentials = Current(*resolved);
  EXPECT_EQ(credentials.access_key_id, "AKIDPROC");
  EXPECT_EQ(credentials.secret_access_key, kProcessSecret);
  EXPECT_EQ(credentials.session_token, "PROCTOKEN");
  ASSERT_TRUE(resolved->provider->expiration().has_value());
  EXPECT_EQ(resolved->source, "profile [process] of /home/u/.aws/config (credential_process)");
  EXPECT_EQ(resolved->provider->Mask(std::string("x ") + kProcessSecret + " PROCTOKEN"), "x *** ***");

  for (const char* profile : {"process-v2", "process-fails", "process-garbage"}) {
    env["AWS_PROFILE"] = profile;
    Result<ResolvedCredentials> failed = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
    ASSERT_FALSE(failed.ok()) << profile;
    const std::string& message = failed.status().message();
    EXPECT_NE(message.find(std::string("[") + profile + "]"), std::string::npos) << message;
    EXPECT_EQ(message.find(kProcessSecret), std::string::npos) << message;
  }
  env["AWS_PROFILE"] = "process-fails";
  EXPECT_NE(ResolveCredentials(Uri("s3://bucket"), env, HomeFiles()).status().message().find("status 3"),
            std::string::npos);
  env["AWS_PROFILE"] = "process-v2";
  EXPECT_NE(ResolveCredentials(Uri("s3://bucket"), env, HomeFiles()).status().message().find("Version"),
            std::string::npos);
}

TEST(CredentialsTest, SsoProfilesWithoutALoginSaySoAndHowToLogIn) {
  Environment env = HomeEnv();
  env["AWS_PROFILE"] = "sso";
  Result<ResolvedCredentials> sso = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_EQ(sso.code(), ErrorCode::kAccessDenied);
  EXPECT_NE(sso.status().message().find("no cached SSO token in /home/u/.aws/sso/cache/"), std::string::npos)
      << sso.status().message();
  EXPECT_NE(sso.status().message().find("aws sso login --profile sso"), std::string::npos);
}

TEST(CredentialsTest, NothingFoundNamesEverySourceAndWhyAndNoSecret) {
  Environment env = HomeEnv();
  Result<ResolvedCredentials> none = ResolveCredentials(Uri("s3://bucket"), env, WithFiles({}));
  ASSERT_EQ(none.code(), ErrorCode::kInvalidArgument);
  const std::string& message = none.status().message();
  for (const char* place : {"connection string", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE",
                            "/home/u/.aws/credentials (absent)", "/home/u/.aws/config (absent)",
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_DISABLED is true"}) {
    EXPECT_NE(message.find(place), std::string::npos) << place << " in " << message;
  }

  // A profile that exists but holds no credentials is skipped, with the reason.
  Result<ResolvedCredentials> empty = ResolveCredentials(
      Uri("s3://bucket"), env, WithFiles({{"/home/u/.aws/config", "[default]\nregion = us-west-2\n"}}));
  ASSERT_EQ(empty.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("profile [default] of /home/u/.aws/config has no aws_access_key_id"),
            std::string::npos)
      << empty.status().message();

  // An explicit AWS_PROFILE that is missing or empty is an error, not a fall-through.
  env["AWS_PROFILE"] = "missing";
  Result<ResolvedCredentials> no_profile = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_EQ(no_profile.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_profile.status().message().find("[missing]"), std::string::npos);
  EXPECT_EQ(no_profile.status().message().find(kFileSecret), std::string::npos);

  env["AWS_PROFILE"] = "broken";
  Result<ResolvedCredentials> broken = ResolveCredentials(Uri("s3://bucket"), env, HomeFiles());
  ASSERT_EQ(broken.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("aws_secret_access_key"), std::string::npos);
  EXPECT_EQ(broken.status().message().find(kFileSecret), std::string::npos);

  Result<ResolvedCredentials> homeless =
      ResolveCredentials(Uri("s3://bucket"), {{"AWS_EC2_METADATA_DISABLED", "true"}}, WithFiles({}));
  EXPECT_EQ(homeless.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(homeless.status().message().find("HOME is not set"), std::string::npos);
}

TEST(CredentialsTest, CustomEndpointsNeverTryTheMetadataServices) {
  // IMDS is not disabled here and points at a port nothing listens on: it must not be asked.
  Environment env = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"}};
  Result<ResolvedCredentials> none = ResolveCredentials(Uri("http://127.0.0.1:7480/bucket"), env, WithFiles({}));
  ASSERT_EQ(none.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("only for s3://"), std::string::npos) << none.status().message();
}

TEST(CredentialsTest, Region) {
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket?region=eu-west-1"), {{"AWS_REGION", "x"}}), "eu-west-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {{"AWS_REGION", "ap-south-1"}, {"AWS_DEFAULT_REGION", "x"}}),
            "ap-south-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {{"AWS_DEFAULT_REGION", "sa-east-1"}}), "sa-east-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), {}), "us-east-1");
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), HomeEnv(), HomeFiles().read_file), "eu-central-1");
  Environment dev = HomeEnv();
  dev["AWS_PROFILE"] = "dev";
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), dev, HomeFiles().read_file), "ap-south-1");
  dev["AWS_DEFAULT_REGION"] = "sa-east-1";
  EXPECT_EQ(ResolveRegion(Uri("s3://bucket"), dev, HomeFiles().read_file), "sa-east-1");
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
  Environment dev = HomeEnv();
  dev["AWS_PROFILE"] = "dev";
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket"), dev, "r", HomeFiles().read_file), "http://minio.local:9000");
  dev["AWS_ENDPOINT_URL"] = "http://env:1";
  EXPECT_EQ(*ResolveEndpoint(Uri("s3://bucket"), dev, "r", HomeFiles().read_file), "http://env:1");
}

// Found by tests/fuzz/s3_response_fuzz.cc (tests/fuzz/regressions/s3_response/): an Expiration
// before 1678 overflowed system_clock's nanoseconds (undefined behaviour; UBSan stopped on it),
// and after 2261 in the STS and SSO answers. Every source now clamps to 1970..2100.
TEST(CredentialExpiryFuzzRegression, ExpirationsOutsideTheClocksRangeAreClamped) {
  const std::string process_answer = R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "p", "Sess)" +
                                     std::string(73, 'k') +
                                     R"(ionToken": "PROCQTOKE<Size>N", "Expiration": "0882-01-01T00:00:00Z"})";
  Result<TimedCredentials> old = ParseCredentialsJson(process_answer, "SessionToken", "test", true);
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->expiration, SystemTime());  // long expired: the epoch

  auto sts_answer = [](const std::string& expiration) {
    return "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s"
           "</SecretAccessKey><SessionToken>t</SessionToken><Expiration>" +
           expiration + "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
  };
  const SystemTime year2100 = SystemTime(std::chrono::milliseconds(4102444800000));
  for (const char* far : {"9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z"}) {
    Result<TimedCredentials> late = ParseStsResponse(200, sts_answer(far), "test");
    ASSERT_TRUE(late.ok()) << late.status().message();
    EXPECT_EQ(late->expiration, year2100) << far;
  }
  Result<TimedCredentials> early = ParseStsResponse(200, sts_answer("0001-01-01T00:00:00Z"), "test");
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->expiration, SystemTime());
  EXPECT_EQ(ExpirationFromMillis(INT64_MIN), SystemTime());
  EXPECT_EQ(ExpirationFromMillis(INT64_MAX), year2100);
  EXPECT_EQ(ExpirationFromMillis(1000), SystemTime(std::chrono::seconds(1)));
}

}  // namespace
}  // namespace s3db::s3
