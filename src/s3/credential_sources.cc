#include "s3/credential_sources.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "s3/aws_profiles.h"
#include "s3/credentials.h"
#include "util/text.h"
#include "util/time_format.h"

namespace s3db::s3 {
namespace {

std::string StringMember(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<std::unique_ptr<HttpClient>> MetadataClient(const MetadataHttpOptions& options) {
  HttpOptions http;
  http.max_connections = 1;
  http.connect_timeout = options.connect_timeout;
  http.request_timeout = options.request_timeout;
  return HttpClient::Create(http);
}

// Sends `request` up to `attempts` times while the transport fails or the server says 5xx.
Result<HttpResponse> SendWithAttempts(HttpClient& http, const HttpRequest& request, int attempts) {
  Result<HttpResponse> response = Status(ErrorCode::kInternal, "not sent");
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    response = http.Send(request);
    if (response.ok() && response->status < 500) return response;
  }
  return response;
}

}  // namespace

Result<TimedCredentials> ParseCredentialsJson(std::string_view text, std::string_view token_field,
                                              const std::string& where, bool require_version_1) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return CredentialsUnavailable(where + " did not answer a JSON object");
  if (require_version_1) {
    auto version = parsed.find("Version");
    if (version == parsed.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
      return CredentialsUnavailable(where + " printed JSON without \"Version\": 1");
    }
  }
  TimedCredentials timed;
  timed.credentials.access_key_id = StringMember(parsed, "AccessKeyId");
  timed.credentials.secret_access_key = StringMember(parsed, "SecretAccessKey");
  timed.credentials.session_token = StringMember(parsed, std::string(token_field).c_str());
  if (timed.credentials.access_key_id.empty() || timed.credentials.secret_access_key.empty()) {
    return CredentialsUnavailable(where + " gave no AccessKeyId and SecretAccessKey");
  }
  std::string expiration = StringMember(parsed, "Expiration");
  if (!expiration.empty()) {
    std::optional<int64_t> ms = util::ParseIso8601Ms(expiration);
    if (!ms) return CredentialsUnavailable(where + " gave an Expiration that is not ISO 8601: '" + expiration + "'");
    timed.expiration = ExpirationFromMillis(*ms);
  }
  return timed;
}

Result<std::unique_ptr<HttpClient>> CredentialServiceClient() {
  HttpOptions http;
  http.max_connections = 1;
  http.connect_timeout = std::chrono::milliseconds(3000);
  http.request_timeout = std::chrono::milliseconds(10000);
  return HttpClient::Create(http);
}

Result<TimedCredentials> ProcessCredentialSource::Fetch() {
  FILE* pipe = ::popen(command_.c_str(), "r");
  if (pipe == nullptr) return CredentialsUnavailable(description_ + ": cannot start the command");
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status))
    return CredentialsUnavailable(description_ + ": the command did not exit normally");
  if (WEXITSTATUS(status) != 0) {
    return CredentialsUnavailable(description_ + ": the command exited with status " +
                                  std::to_string(WEXITSTATUS(status)));
  }
  return ParseCredentialsJson(output, "SessionToken", description_, /*require_version_1=*/true);
}

Result<std::unique_ptr<ContainerCredentialSource>> ContainerCredentialSource::Create(
    std::string url, std::string token, std::string token_file, std::string description,
    const MetadataHttpOptions& options) {
  Result<std::unique_ptr<HttpClient>> http = MetadataClient(options);
  if (!http.ok()) return http.status();
  std::unique_ptr<ContainerCredentialSource> source(new ContainerCredentialSource());
  source->url_ = std::move(url);
  source->token_ = std::move(token);
  source->token_file_ = std::move(token_file);
  source->description_ = std::move(description);
  source->attempts_ = options.attempts;
  source->http_ = std::move(http).value();
  return source;
}

Result<TimedCredentials> ContainerCredentialSource::Fetch() {
  HttpRequest request;
  request.url = url_;
  std::string token = token_;
  if (!token_file_.empty()) {
    std::optional<std::string> read = ReadWholeFile(token_file_);
    if (!read)
      return CredentialsUnavailable(description_ + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " +
                                    token_file_);
    token = *read;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return CredentialsUnavailable(description_ + ": the authorization token holds a line break");
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", token);
  Result<HttpResponse> response = SendWithAttempts(*http_, request, attempts_);
  if (!response.ok()) return CredentialsUnavailable(description_ + ": " + response.status().message());
  if (response->status != 200) {
    return CredentialsUnavailable(description_ + ": HTTP " + std::to_string(response->status));
  }
  return ParseCredentialsJson(response->body, "Token", description_);
}

Result<std::unique_ptr<ImdsCredentialSource>> ImdsCredentialSource::Create(std::string endpoint,
                                                                           const MetadataHttpOptions& options) {
  Result<std::unique_ptr<HttpClient>> http = MetadataClient(options);
  if (!http.ok()) return http.status();
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::unique_ptr<ImdsCredentialSource> source(new ImdsCredentialSource());
  source->endpoint_ = std::move(endpoint);
  source->attempts_ = options.attempts;
  source->http_ = std::move(http).value();
  return source;
}

Result<HttpResponse> ImdsCredentialSource::Send(HttpRequest request, const std::string& what) {
  Result<HttpResponse> response = SendWithAttempts(*http_, request, attempts_);
  std::string where = Describe() + ", " + what;
  if (!response.ok()) {
    return CredentialsUnavailable(where + ": " + response.status().message() + " after " + std::to_string(attempts_) +
                                  " attempts (not on EC2? set AWS_EC2_METADATA_DISABLED=true to skip it)");
  }
  if (response->status != 200) return CredentialsUnavailable(where + ": HTTP " + std::to_string(response->status));
  return response;
}

Result<std::string> ImdsCredentialSource::Token() {
  HttpRequest request;
  request.method = "PUT";
  request.url = endpoint_ + "/latest/api/token";
  request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  Result<HttpResponse> response = Send(request, "PUT /latest/api/token");
  if (!response.ok()) return response.status();
  return response->body;
}

Result<TimedCredentials> ImdsCredentialSource::Fetch() {
  Result<std::string> token = Token();
  if (!token.ok()) return token.status();
  const std::string base = endpoint_ + "/latest/meta-data/iam/security-credentials/";
  HttpRequest request;
  request.url = base;
  request.headers.emplace_back("X-aws-ec2-metadata-token", *token);
  Result<HttpResponse> roles = Send(request, "the instance's role");
  if (!roles.ok()) return roles.status();
  std::string role = roles->body.substr(0, roles->body.find('\n'));
  while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.pop_back();
  if (role.empty()) return CredentialsUnavailable(Describe() + ": the instance has no IAM role attached");
  request.url = base + util::PercentEncode(role);
  Result<HttpResponse> credentials = Send(request, "the credentials of role " + role);
  if (!credentials.ok()) return credentials.status();
  nlohmann::json parsed = nlohmann::json::parse(credentials->body, nullptr, false);
  if (parsed.is_object() && parsed.contains("Code") && StringMember(parsed, "Code") != "Success") {
    return CredentialsUnavailable(Describe() + ": role " + role + " answered Code " + StringMember(parsed, "Code"));
  }
  return ParseCredentialsJson(credentials->body, "Token", Describe() + " (role " + role + ")");
}

Result<std::string> ImdsCredentialSource::Region() {
  Result<std::string> token = Token();
  if (!token.ok()) return token.status();
  HttpRequest request;
  request.url = endpoint_ + "/latest/meta-data/placement/region";
  request.headers.emplace_back("X-aws-ec2-metadata-token", *token);
  Result<HttpResponse> region = Send(request, "placement/region");
  if (!region.ok()) return region.status();
  return region->body;
}

}  // namespace s3db::s3
