// Where an S3 store's credentials, region and endpoint come from (docs/CREDENTIALS.md): the
// default credential chain of the AWS SDKs, with the environment and the files as inputs so
// every rule is tested without touching the process environment or $HOME.
//
// Credentials, first source that applies wins:
//   1. the connection string (KEY:SECRET@..., ?sessionToken=T);
//   2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN -> STS;
//   4. the profile (AWS_PROFILE, else "default") of the shared config and credentials files
//      (s3/aws_profiles.h): role_arn (s3/sts.h), sso_* (s3/sso.h), static keys,
//      credential_process;
//   5. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI);
//   6. EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true.
// 5 and 6 make network calls, so they are tried only for an s3:// connection string (not a
// custom http(s):// endpoint) when nothing before applied. A half-given pair (a key without a
// secret) or a broken profile is an error naming the variable or profile, not a fall-through.
// When nothing applies, the error names every source and why it was skipped.
//
// Region: ?region=, else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region,
// else the instance's region when the credentials came from EC2 instance metadata, else
// us-east-1.
// Endpoint: the URI's (?endpoint= or the http(s):// host), else AWS_ENDPOINT_URL_S3, else
// AWS_ENDPOINT_URL, else the profile's endpoint_url, else https://s3.<region>.amazonaws.com.
//
// Secrets never appear in a returned message: errors name variables, files and profiles.
//
// Thread-safety: pure functions but for the network and process calls of the sources they
// prime. CaptureEnvironment() reads the process environment and is meant for the factory
// only (getenv is not safe against a concurrent setenv).
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3/aws_profiles.h"
#include "s3/credential_provider.h"
#include "s3/credential_sources.h"
#include "s3/sigv4.h"
#include "s3db/errors.h"
#include "s3db/stores.h"

namespace s3db::s3 {

// The AWS_* variables of docs/CREDENTIALS.md and HOME, from the process environment.
Environment CaptureEnvironment();

// The real file system.
std::optional<std::string> ReadWholeFile(const std::string& path);

// What the chain may not take from the environment: test seams and timeouts.
struct ChainOptions {
  FileReader read_file = &ReadWholeFile;
  MetadataHttpOptions metadata;
  // The ECS agent's address that AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to.
  // Only tests change it (nothing can listen on 169.254.170.2 in a test).
  std::string ecs_endpoint = "http://169.254.170.2";
  std::string imds_endpoint = "http://169.254.169.254";  // AWS_EC2_METADATA_SERVICE_ENDPOINT wins
};

struct ResolvedCredentials {
  std::shared_ptr<CredentialProvider> provider;  // primed: it held valid credentials
  // Where they came from: "the connection string", "the environment (AWS_ACCESS_KEY_ID)",
  // "profile [dev] (credential_process) of /home/u/.aws/config".
  std::string source;
  // The sources passed over before it, each with why ("the environment: AWS_ACCESS_KEY_ID
  // is not set").
  std::vector<std::string> skipped;
  // The instance's region from EC2 instance metadata, when the credentials came from there
  // and no region is configured (ConfiguredRegion); else empty.
  std::string instance_region;
};

Result<ResolvedCredentials> ResolveCredentials(const StoreUri& uri, const Environment& env,
                                               const ChainOptions& options = {});

// The region the user set: ?region=, AWS_REGION, AWS_DEFAULT_REGION, the profile's region;
// empty when none is.
std::string ConfiguredRegion(const StoreUri& uri, const Environment& env, const FileReader& read_file = nullptr);

// ConfiguredRegion, else `instance_region` (ResolvedCredentials), else us-east-1.
std::string ResolveRegion(const StoreUri& uri, const Environment& env, const FileReader& read_file = nullptr,
                          const std::string& instance_region = "");

// "http(s)://host[:port]" with no path. kInvalidArgument for an endpoint from the
// environment or a profile that is not of that form.
Result<std::string> ResolveEndpoint(const StoreUri& uri, const Environment& env, const std::string& region,
                                    const FileReader& read_file = nullptr);

// Where STS calls go: AWS_ENDPOINT_URL_STS, else the profile's endpoint_url (`profile` may
// be null), else AWS_ENDPOINT_URL, else the regional https://sts.<region>.amazonaws.com.
Result<std::string> ResolveStsEndpoint(const Environment& env, const ProfileSettings* profile,
                                       const std::string& region);

}  // namespace s3db::s3
