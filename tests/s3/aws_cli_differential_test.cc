// Our profile resolution against the aws CLI's (Debian's awscli, /usr/bin/aws): for every
// profile of one test config and credentials file, `aws configure export-credentials
// --profile P --format process` and ResolveCredentials with AWS_PROFILE=P give the same
// keys and token, or both fail. Skipped, saying so, without /usr/bin/aws. Role profiles are
// not in it: awscli 2.9 cannot point STS at a local server (no AWS_ENDPOINT_URL_STS).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "s3/credentials.h"
#include "s3_test_helpers.h"

namespace s3db::s3 {
namespace {

constexpr const char* kAws = "/usr/bin/aws";

struct Exported {
  bool ok = false;
  Credentials credentials;
};

// Runs the aws CLI with only the given files and profile in its environment.
Exported AwsExport(const std::string& config, const std::string& credentials, const std::string& profile) {
  const std::string command =
      "env -i PATH=/usr/bin:/bin HOME=/nonexistent AWS_EC2_METADATA_DISABLED=true "
      "AWS_CONFIG_FILE=" +
      config + " AWS_SHARED_CREDENTIALS_FILE=" + credentials + " " + kAws + " configure export-credentials --profile " +
      profile + " --format process 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {};
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  Exported exported;
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return exported;
  nlohmann::json parsed = nlohmann::json::parse(output, nullptr, false);
  if (!parsed.is_object()) return exported;
  exported.ok = true;
  exported.credentials.access_key_id = parsed.value("AccessKeyId", "");
  exported.credentials.secret_access_key = parsed.value("SecretAccessKey", "");
  exported.credentials.session_token = parsed.value("SessionToken", "");
  return exported;
}

TEST(AwsCliDifferentialTest, EveryProfileResolvesAsTheAwsCliResolvesIt) {
  if (FILE* probe = std::fopen(kAws, "r")) {
    std::fclose(probe);
  } else {
    GTEST_SKIP() << kAws << " is absent: install Debian's awscli (scripts/bootstrap.sh does)";
  }
  ScratchDir dir;
  const std::string config = dir.Write("config",
                                       "# the config file\n"
                                       "[default]\n"
                                       "aws_access_key_id = AKIDCONFIGDEFAULT\n"
                                       "aws_secret_access_key = configDefaultSecret\n"
                                       "region = eu-west-1\n"
                                       "\n"
                                       "[profile cfg]\n"
                                       "aws_access_key_id=AKIDCFG\n"
                                       "aws_secret_access_key=cfg/secret+1\n"
                                       "aws_session_token = cfgtoken\n"
                                       "s3 =\n"
                                       "  addressing_style = path\n"
                                       "\n"
                                       "[profile both]\n"
                                       "aws_access_key_id = AKIDFROMCONFIG\n"
                                       "aws_secret_access_key = fromConfig\n"
                                       "\n"
                                       "[profile process]\n"
                                       "credential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
                                       "\"SecretAccessKey\": \"procSecret\", \"SessionToken\": \"proctoken\", "
                                       "\"Expiration\": \"2099-01-01T00:00:00Z\"}'\n"
                                       "\n"
                                       "[profile process-fails]\n"
                                       "credential_process = false\n"
                                       "\n"
                                       "[profile half]\n"
                                       "aws_access_key_id = AKIDHALF\n"
                                       "\n"
                                       "[plain]\n"
                                       "aws_access_key_id = AKIDNOTAPROFILE\n"
                                       "aws_secret_access_key = notAProfile\n");
  const std::string credentials = dir.Write("credentials",
                                            "[default]\n"
                                            "aws_access_key_id = AKIDCREDSDEFAULT\n"
                                            "aws_secret_access_key = credsDefaultSecret\n"
                                            "\n"
                                            "; a comment\n"
                                            "[both]\n"
                                            "aws_access_key_id = AKIDFROMCREDENTIALS\n"
                                            "aws_secret_access_key = fromCredentials\n"
                                            "\n"
                                            "[ spaced ]\n"
                                            "aws_access_key_id = AKIDSPACED\n"
                                            "aws_secret_access_key = spacedSecret\n");
  for (const char* profile :
       {"default", "cfg", "both", "process", "process-fails", "half", "plain", "spaced", "absent"}) {
    SCOPED_TRACE(profile);
    Exported theirs = AwsExport(config, credentials, profile);
    Environment env = {{"AWS_CONFIG_FILE", config},
                       {"AWS_SHARED_CREDENTIALS_FILE", credentials},
                       {"AWS_PROFILE", profile},
                       {"AWS_EC2_METADATA_DISABLED", "true"}};
    Result<ResolvedCredentials> ours = ResolveCredentials(*ParseStoreUri("s3://bucket"), env);
    Result<Credentials> current = ours.ok() ? ours->provider->Get() : Result<Credentials>(ours.status());
    ASSERT_EQ(current.ok(), theirs.ok) << (current.ok() ? "only we resolve it" : current.status().ToString());
    if (!theirs.ok) continue;
    EXPECT_EQ(current->access_key_id, theirs.credentials.access_key_id);
    EXPECT_EQ(current->secret_access_key, theirs.credentials.secret_access_key);
    EXPECT_EQ(current->session_token, theirs.credentials.session_token);
  }
}

}  // namespace
}  // namespace s3db::s3
