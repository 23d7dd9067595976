// The credential sources that fetch (s3/credential_provider.h): a credential_process, the
// container credentials endpoint (ECS, EKS Pod Identity) and the EC2 instance metadata
// service (IMDSv2). docs/CREDENTIALS.md says when the chain uses each.
//
// Every failure names the place and the cause; none carries a secret (a process's output
// or a server's body is never quoted, since it holds the keys).
//
// Thread-safety: Fetch() is called by one CredentialProvider, one fetch at a time.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "s3/credential_provider.h"
#include "s3/http_client.h"

namespace s3db::s3 {

// A credential source could not give credentials: the caller cannot authenticate
// (AccessDenied, with `message` saying which source and why).
inline Status CredentialsUnavailable(std::string message) {
  return Status(ErrorCode::kAccessDenied, std::move(message));
}

// The JSON the credential_process, container and IMDS endpoints print: AccessKeyId,
// SecretAccessKey, the token under `token_field` ("SessionToken" or "Token"), Expiration
// (ISO 8601; absent: long-term). `where` names the place in messages. A "Version" member,
// when `require_version_1`, must be 1.
Result<TimedCredentials> ParseCredentialsJson(std::string_view text, std::string_view token_field,
                                              const std::string& where, bool require_version_1 = false);

// The HTTP client for STS and the SSO portal: one connection, 3 s to connect, 10 s a call.
Result<std::unique_ptr<HttpClient>> CredentialServiceClient();

// credential_process: runs `command` with /bin/sh, reads its stdout (its stderr passes
// through), and wants exit status 0 and Version 1 JSON.
class ProcessCredentialSource : public CredentialSource {
 public:
  ProcessCredentialSource(std::string command, std::string description)
      : command_(std::move(command)), description_(std::move(description)) {}
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return description_; }

 private:
  const std::string command_;
  const std::string description_;
};

// Options for the metadata services: short timeouts, so a machine without them fails fast.
struct MetadataHttpOptions {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  int attempts = 2;
};

// Container credentials: GET `url`, with an Authorization header from `token` or, re-read
// on every fetch, from `token_file` (when not empty).
class ContainerCredentialSource : public CredentialSource {
 public:
  static Result<std::unique_ptr<ContainerCredentialSource>> Create(std::string url, std::string token,
                                                                   std::string token_file, std::string description,
                                                                   const MetadataHttpOptions& options = {});
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return description_; }

 private:
  ContainerCredentialSource() = default;
  std::string url_;
  std::string token_;
  std::string token_file_;
  std::string description_;
  int attempts_ = 2;
  std::unique_ptr<HttpClient> http_;
};

// EC2 IMDSv2: PUT /latest/api/token, then GET the role name under
// /latest/meta-data/iam/security-credentials/ and that role's credentials, with the token.
// `endpoint` is "http://169.254.169.254" or AWS_EC2_METADATA_SERVICE_ENDPOINT.
class ImdsCredentialSource : public CredentialSource {
 public:
  static Result<std::unique_ptr<ImdsCredentialSource>> Create(std::string endpoint,
                                                              const MetadataHttpOptions& options = {});
  Result<TimedCredentials> Fetch() override;
  std::string Describe() const override { return "EC2 instance metadata (" + endpoint_ + ")"; }

  // The region the instance runs in (placement/region), for region resolution.
  Result<std::string> Region();

 private:
  ImdsCredentialSource() = default;
  Result<std::string> Token();
  Result<HttpResponse> Send(HttpRequest request, const std::string& what);
  std::string endpoint_;
  int attempts_ = 2;
  std::unique_ptr<HttpClient> http_;
};

}  // namespace s3db::s3
