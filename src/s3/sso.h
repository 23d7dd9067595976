// AWS IAM Identity Center (SSO) profiles: the access token the aws CLI caches after
// `aws sso login` (~/.aws/sso/cache/<SHA-1 hex of the sso_session name, or of the
// sso_start_url for a legacy profile>.json: accessToken, expiresAt) is exchanged for role
// credentials with the portal's GetRoleCredentials (GET /federation/credentials?account_id=
// &role_name=, header x-amz-sso_bearer_token). s3db never logs in itself: a missing or expired
// token is an error that says to run `aws sso login`.
//
// Thread-safety: Fetch() is called by one CredentialProvider, one fetch at a time.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <memory>
#include <string>

#include "s3/credential_provider.h"
#include "s3/http_client.h"

namespace s3db::s3 {

struct SsoOptions {
  std::string cache_file;  // the cached token's file
  std::string endpoint;    // "https://portal.sso.<sso_region>.amazonaws.com" or AWS_ENDPOINT_URL_SSO
  std::string account_id;
  std::string role_name;
  std::string login_hint;  // "aws sso login --profile dev", for messages
};

// The cache file name the aws CLI uses for `key` (an sso_session name or an sso_start_url).
std::string SsoCacheFileName(const std::string& key);

class SsoCredentialSource : public CredentialSource {
 public:
  static Result<std::unique_ptr<SsoCredentialSource>> Create(SsoOptions options, std::string description);
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return description_; }

 private:
  SsoCredentialSource() = default;
  SsoOptions options_;
  std::string description_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace s3db::s3
