// Temporary credentials from AWS STS (or any STS-compatible service, Ceph RGW's included):
// AssumeRole, signed with our SigV4 (service "sts") using the credentials of a base
// provider, and AssumeRoleWithWebIdentity, which is unsigned and carries an OIDC token read
// from a file on every fetch (EKS rotates it).
//
// The request is the Query API: POST / with an application/x-www-form-urlencoded body
// (Action, Version=2011-06-15, RoleArn, RoleSessionName, DurationSeconds, ExternalId or
// WebIdentityToken); the answer's <Credentials> holds AccessKeyId, SecretAccessKey,
// SessionToken and Expiration. An <ErrorResponse> becomes kAccessDenied naming STS's code
// and message (which never echo a secret).
//
// The endpoint: AWS_ENDPOINT_URL_STS, else the profile's endpoint_url, else AWS_ENDPOINT_URL,
// else https://sts.<region>.amazonaws.com (ResolveStsEndpoint in credentials.h).
//
// Thread-safety: Fetch() is called by one CredentialProvider, one fetch at a time.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "s3/credential_provider.h"
#include "s3/http_client.h"

namespace s3db::s3 {

struct StsOptions {
  std::string endpoint;  // "https://sts.eu-west-1.amazonaws.com", "http://127.0.0.1:7480"
  std::string region = "us-east-1";
  std::string role_arn;
  std::string role_session_name;  // empty: "s3db-<milliseconds since the epoch>"
  int duration_seconds = 3600;
  std::string external_id;  // AssumeRole only
  std::string token_file;   // AssumeRoleWithWebIdentity only
};

// The <Credentials> of an AssumeRole(WithWebIdentity)Response, or the <ErrorResponse>'s
// code and message as kAccessDenied. `where` names the call in messages.
Result<TimedCredentials> ParseStsResponse(int http_status, std::string_view body, const std::string& where);

class AssumeRoleSource : public CredentialSource {
 public:
  // `base` signs the AssumeRole call; `description` names where the role came from.
  static Result<std::unique_ptr<AssumeRoleSource>> Create(std::shared_ptr<CredentialProvider> base, StsOptions options,
                                                          std::string description);
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return description_; }

 private:
  AssumeRoleSource() = default;
  std::shared_ptr<CredentialProvider> base_;
  StsOptions options_;
  std::string description_;
  std::unique_ptr<HttpClient> http_;
};

class WebIdentitySource : public CredentialSource {
 public:
  static Result<std::unique_ptr<WebIdentitySource>> Create(StsOptions options, std::string description);
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return description_; }

 private:
  WebIdentitySource() = default;
  StsOptions options_;
  std::string description_;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace s3db::s3
